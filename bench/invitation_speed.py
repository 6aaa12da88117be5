"""Stage 1 speed and memory: drawing 10,000 invitations from a large extract.

    .venv/bin/python bench/invitation_speed.py [--rows 1000000] [--size 10000] [--seed bench]

Imports the generated extract of bench/import_speed.py into a fresh SQLite file once
(``--rows 5500000`` is the whole of Finland), then draws the stratified sample (age x
sex x language x municipality group, one per dwelling) in a process of its own and
reports, in the same run, the time to read the extract's rows from the database beside
the time of the sampling itself, the draw process's peak memory (its maximum resident
set, start-up included) and a digest of the people drawn, so that two versions can be
compared: the same seed must invite the same people. The draw is not written (the next
run would otherwise exclude those invited).
Targets: sampling is not the larger part (issue 3); under 1 GiB at 5,500,000 rows (15).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"

DRAW = r"""
import datetime as dt, hashlib, json, resource, sys, time
from pool.db import open_database
from pool.extract import list_extracts
from sampling.categories import suggested_municipality_groups
from sampling.invitations import draw_invitations
db, size, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
engine = open_database(db)
ext = list_extracts(engine)[0]["id"]
t = time.perf_counter()
r = draw_invitations(engine, ext, size, seed, groups=suggested_municipality_groups("Pirkanmaa"),
                     day=dt.date(2026, 12, 1), create=False)
total = time.perf_counter() - t
print(json.dumps({"seconds": r.seconds, "total": total, "strata": len(r.allocations), "drawn": r.drawn,
                  "sha256": hashlib.sha256(",".join(map(str, r.person_ids)).encode()).hexdigest(),
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--seed", default="bench")
    args = ap.parse_args()
    from pool.db import open_database
    from pool.extract import import_extract, list_extracts
    from sample_data.generator import write_extract

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
    engine.dispose()
    out = subprocess.run([sys.executable, "-c", DRAW, str(db), str(args.size), args.seed], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    r = json.loads(out.stdout.strip().splitlines()[-1])
    s = r["seconds"]
    print(f"\n{args.size:,} invitations from {args.rows:,} rows, {r['strata']} strata (SQLite), seed {args.seed!r}")
    print(f"  read the extract's rows from the database  {s['read']:6.2f} s")
    print(f"  sampling (strata, dwellings, allocation)   {s['sample']:6.2f} s")
    print(f"  whole draw                                  {r['total']:6.2f} s")
    print(f"  peak memory of the draw process            {r['peak_mib']:6.0f} MiB")
    print(f"  people drawn: {r['drawn']:,}, sha256 {r['sha256'][:16]}")
    print(f"sampling / reading: {s['sample'] / s['read']:.2f}  (target: sampling not the larger part, < 1)")


if __name__ == "__main__":
    main()
