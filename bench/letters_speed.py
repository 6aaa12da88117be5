"""Letter rendering: 10,000 invitation letters into one PDF, beside a plain reportlab page.

    .venv/bin/python bench/letters_speed.py [--letters 10000]

Builds a workspace once under bench/out/ (a generated 30,000-row extract, N invitations),
then, each in its own process so peak memory is its own: Otos's batch (letters with
address block, QR code, templates, mailing list) and a plain reportlab canvas that
writes the same number of pages with the same amount of text (no QR code). Prints
pages/s and peak memory of each and the ratio, and Otos's peak memory for a batch of
1,000 beside it. Target (issue 4): at least half the baseline's pages/s; memory that
does not grow with the batch size.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

# Peak resident memory of this process since exec (VmHWM). ru_maxrss would also count
# the parent's memory at fork time, which the benchmark's own set-up inflates.
PEAK = """
def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SMALL = 1_000  # the batch size the memory of a big batch is compared with

OTOS = r"""
import json, sys, time
""" + PEAK + r"""
from pool.db import open_database
from letters.batch import print_round
engine = open_database(sys.argv[1])
t = time.perf_counter()
r = print_round(engine, sys.argv[2], sys.argv[3])
seconds = time.perf_counter() - t
last = open(sys.argv[3][:-4] + ".csv").read().splitlines()[-1].split(";")
print(json.dumps({"seconds": seconds, "letters": r.letters, "pages": int(last[1]) + last[2].count("+"),
                  "peak_mib": peak_mib()}))
"""

PLAIN = r"""
import json, sys, time
""" + PEAK + r"""
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
n = int(sys.argv[1])
line = "Keski-Suomen hyvinvointialue kutsuu sinut mukaan asukaspaneeliin, joka pohtii aihetta."
t = time.perf_counter()
c = Canvas(sys.argv[2], pagesize=A4, pageCompression=1)
for i in range(n):
    c.setFont("Helvetica", 10)
    for j in range(32):
        c.drawString(56, 800 - j * 14, f"{line} {i} {j}")
    c.showPage()
c.save()
print(json.dumps({"seconds": time.perf_counter() - t, "pages": n,
                  "peak_mib": peak_mib()}))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--letters", type=int, default=10_000)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from pool import workspace
    from pool.db import open_database
    from pool.extract import import_extract, list_extracts
    from sample_data.demo import demo_workspace
    from sample_data.generator import write_extract
    from sampling.invitations import draw_invitations

    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"letters-{args.letters}.db"
    engine = open_database(str(db))
    small, large = f"bench-{SMALL}", f"bench-{args.letters}"
    if not workspace.exists(engine):
        demo_workspace(engine, "Keski-Suomi")
    if not list_extracts(engine):
        path = write_extract(OUT / "letters-extract.csv", "Keski-Suomi", max(30_000, args.letters * 3), seed=5)
        ext = import_extract(engine, path, permit="BENCH", purpose="benchmark", delete_by=dt.date(2099, 1, 1))
        draw_invitations(engine, ext.extract_id, args.letters, "bench", strata=("sex",), round_name=large)
        draw_invitations(engine, ext.extract_id, SMALL, "bench-small", strata=("sex",), round_name=small)
    few = run(OTOS, str(db), small, str(OUT / "letters-small.pdf"))
    ours = run(OTOS, str(db), large, str(OUT / "letters.pdf"))
    plain = run(PLAIN, str(ours["pages"]), str(OUT / "plain.pdf"))
    print(f"\n{ours['letters']:,} letters, {ours['pages']:,} pages, into one PDF "
          "(a letter gets a second page in a second language)")
    print(f"{'':38} {'seconds':>8} {'pages/s':>8} {'peak MiB':>9}")
    for name, r in ((f"plain reportlab canvas, {plain['pages']:,} pages", plain),
                    (f"otos, {few['letters']:,} letters", few), (f"otos, {ours['letters']:,} letters", ours)):
        print(f"{name:38} {r['seconds']:8.1f} {r['pages'] / r['seconds']:8.0f} {r['peak_mib']:9.0f}")
    print(f"\notos / baseline pages/s: {(ours['pages'] / ours['seconds']) / (plain['pages'] / plain['seconds']):.2f}"
          "  (target >= 0.5)")
    print(f"otos peak memory, {ours['letters']:,} vs {few['letters']:,} letters: {ours['peak_mib']:.0f} vs "
          f"{few['peak_mib']:.0f} MiB (+{ours['peak_mib'] - few['peak_mib']:.0f} MiB; target: no growth with the batch)")

if __name__ == "__main__":
    main()
