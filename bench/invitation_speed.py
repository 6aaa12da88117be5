"""Stage 1 speed: drawing 10,000 invitations from a 1,000,000-row extract.

    .venv/bin/python bench/invitation_speed.py [--rows 1000000] [--size 10000]

Imports the generated extract of bench/import_speed.py into a fresh SQLite file once,
then draws the stratified sample (age x sex x language x municipality group, one per
dwelling) and reports, in the same run, the time to read the extract's rows from the
database beside the time of the sampling itself and of writing the invitations.
Target (issue 3): sampling is not the larger part.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=10_000)
    args = ap.parse_args()
    from pool.db import open_database
    from pool.extract import import_extract, list_extracts
    from sample_data.generator import write_extract
    from sampling.invitations import draw_invitations
    from sampling.categories import suggested_municipality_groups

    OUT.mkdir(parents=True, exist_ok=True)
    extract = OUT / f"dvv-{args.rows}.csv"
    if not extract.exists():
        write_extract(extract, "Pirkanmaa", args.rows, seed=1)
    db = OUT / f"invite-{args.rows}.db"
    engine = open_database(str(db))
    if not list_extracts(engine):
        t = time.perf_counter()
        import_extract(engine, extract, permit="BENCH", purpose="benchmark", delete_by=dt.date(2099, 1, 1))
        print(f"imported {args.rows:,} rows in {time.perf_counter() - t:.1f} s (once)")
    ext = list_extracts(engine)[0]["id"]
    groups = suggested_municipality_groups("Pirkanmaa")
    t = time.perf_counter()
    result = draw_invitations(engine, ext, args.size, f"bench-{time.time()}", groups=groups)
    total = time.perf_counter() - t
    s = result.seconds
    print(f"\n{args.size:,} invitations from {args.rows:,} rows, {len(result.allocations)} strata (SQLite)")
    print(f"  read the extract's rows from the database  {s['read']:6.2f} s")
    print(f"  sampling (strata, dwellings, allocation)   {s['sample']:6.2f} s")
    print(f"  writing invitations and response codes     {s['write']:6.2f} s")
    print(f"  whole draw                                  {total:6.2f} s")
    print(f"sampling / reading: {s['sample'] / s['read']:.2f}  (target: sampling not the larger part, < 1)")


if __name__ == "__main__":
    main()
