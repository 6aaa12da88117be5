"""Import speed: Otos's DVV import against a raw sqlite3 executemany of the same rows.

    .venv/bin/python bench/import_speed.py [--rows 1000000]

Generates a `dvv` extract (generated people) once under bench/out/, then, each in its
own process so peak memory is its own: Otos's full import (decode, validate, dedupe,
insert, audit, one transaction) and the baseline, which reads the same file with
csv.reader and inserts every row with sqlite3 executemany into the same `person` table
(same schema and indexes, made by Otos's migrations), no validation. Prints rows/s,
peak RSS and the ratio. Target (issue 2): Otos >= 0.5 x baseline rows/s, peak < 1 GiB.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

OTOS = r"""
import datetime as dt, json, resource, sys, time
from pool.db import open_database
from pool.extract import import_extract
engine = open_database(sys.argv[1])
t = time.perf_counter()
r = import_extract(engine, sys.argv[2], permit="BENCH", purpose="benchmark", delete_by=dt.date(2099, 1, 1))
print(json.dumps({"seconds": time.perf_counter() - t, "rows": r.rows_stored,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "reader_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

RAW = r"""
import csv, json, resource, sqlite3, sys, time
from pool.db import open_database
open_database(sys.argv[1]).dispose()  # same schema and indexes as Otos writes into
con = sqlite3.connect(sys.argv[1])
con.execute("INSERT INTO extract (id, file_name, sha256, profile, encoding, permit, purpose, delete_by, imported_at,"
            " imported_by, rows_read, rows_stored, rows_rejected, rows_mailable)"
            " VALUES (1, 'f', 'x', 'dvv', 'utf-8', 'B', 'b', '2099-01-01', '2026-01-01', 'b', 0, 0, 0, 0)")
t = time.perf_counter()
with open(sys.argv[2], encoding="utf-8", newline="") as fh:
    rows = csv.reader(fh, delimiter=";")
    next(rows)
    con.executemany(
        "INSERT INTO person (extract_id, hetu, first_names, surname, street_fi, street_sv, postal_code, post_office_fi,"
        " post_office_sv, municipality, birth_date, sex, mother_tongue, turvakielto, deceased, dwelling_id, mailable)"
        " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", rows)
con.commit()
n = con.execute("SELECT count(*) FROM person").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": n,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, db: Path, extract: Path) -> dict:
    for suffix in ("", "-journal", "-wal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    out = subprocess.run([sys.executable, "-c", code, str(db), str(extract)], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    db.unlink(missing_ok=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best is reported")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from sample_data.generator import write_extract

    OUT.mkdir(parents=True, exist_ok=True)
    extract = OUT / f"dvv-{args.rows}.csv"
    if not extract.exists():
        t = time.perf_counter()
        write_extract(extract, "Pirkanmaa", args.rows, seed=1)
        print(f"generated {extract.name} ({extract.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.0f} s")
    db = OUT / "bench.db"
    results = {}
    for name, code in (("baseline sqlite3 executemany", RAW), ("otos import", OTOS)):
        runs = [run(code, db, extract) for _ in range(args.repeat)]
        results[name] = min(runs, key=lambda r: r["seconds"])
    print(f"\n{args.rows:,} rows, {extract.stat().st_size / 2**20:.0f} MiB, SQLite file")
    print(f"{'':30} {'seconds':>8} {'rows/s':>10} {'peak MiB':>9}")
    for name, r in results.items():
        print(f"{name:30} {r['seconds']:8.2f} {r['rows'] / r['seconds']:10,.0f} {r['peak_mib']:9.0f}")
    base, ours = results["baseline sqlite3 executemany"], results["otos import"]
    ratio = (ours["rows"] / ours["seconds"]) / (base["rows"] / base["seconds"])
    print(f"(otos's reader process peaked at {ours['reader_peak_mib']:.0f} MiB; both together "
          f"{ours['peak_mib'] + ours['reader_peak_mib']:.0f} MiB)")
    print(f"\notos / baseline rows/s: {ratio:.2f}  (target >= 0.50)   "
          f"otos peak: {max(ours['peak_mib'], ours['reader_peak_mib']):.0f} MiB per process (target < 1024)")


if __name__ == "__main__":
    main()
