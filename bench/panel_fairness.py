"""Panel lottery: Otos's leximin against sortition-algorithms on every reference instance.

    .venv/bin/pip install -e '.[bench]'      # the peer (GPL-3.0), only for this benchmark
    .venv/bin/python bench/panel_fairness.py [--instances NAME ...] [--peer-timeout 1800]

For each instance in ../shared/data/sortition/ (panel size in panel_size.txt) it runs,
each in its own process and timed as a whole solve: Otos (leximin over types, HiGHS),
the peer's leximin (HiGHS backend; its dual LP needs Gurobi, and the size-limited
Gurobi licence pip installs refuses big pools) and the peer's maximin (CBC through
`mip`), whose optimum equals the leximin minimum. It prints each one's minimum
selection probability, wall time and the ratios. Targets (issue 3): Otos's minimum
never lower than the peer's (1e-4), at most a tenth of the peer's time, the
1,700-person instance under 60 s.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = ROOT.parent / "shared" / "data" / "sortition"

OTOS = r"""
import json, sys, time
from sampling.interop import read_features, read_people
from sampling.select import select
base, k = sys.argv[1], int(sys.argv[2])
head = open(f"{base}/people.csv", encoding="utf-8").readline()
t = time.perf_counter()
problem = read_people(f"{base}/people.csv", read_features(f"{base}/features.csv"), k,
                      household="household" if "household" in head.split(",") else None)
sel = select(problem, "bench")
print(json.dumps({"seconds": time.perf_counter() - t, "min_prob": sel.min_probability}))
"""

PEER = r"""
import csv, json, sys, time
from sortition_algorithms.features import read_in_features
from sortition_algorithms.people import read_in_people
from sortition_algorithms.settings import Settings
from sortition_algorithms.utils import set_random_provider
base, k, method = sys.argv[1], int(sys.argv[2]), sys.argv[3]
set_random_provider(2026)
with open(f"{base}/features.csv", encoding="utf-8") as fh:
    rows = list(csv.DictReader(fh))
features = read_in_features(list(rows[0].keys()), rows, k)[0]
with open(f"{base}/people.csv", encoding="utf-8") as fh:
    people_rows = list(csv.DictReader(fh))
head = list(people_rows[0].keys())
house = ["household"] if "household" in head else []
backend = "highspy" if method == "leximin" else "mip"
settings = Settings(id_column=head[0], columns_to_keep=[], check_same_address=bool(house),
                    check_same_address_columns=house, selection_algorithm=method, solver_backend=backend)
people = read_in_people(head, people_rows, features, settings)[0]
t = time.perf_counter()
try:
    if method == "leximin":
        from sortition_algorithms.committee_generation.leximin import find_distribution_leximin as find
    else:
        from sortition_algorithms.committee_generation.maximin import find_distribution_maximin as find
    committees, probs, _ = find(features, people, k, house, backend)
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {str(exc)[:120]}", "seconds": time.perf_counter() - t}))
    sys.exit(0)
seconds = time.perf_counter() - t
marginal = {pid: 0.0 for pid in people}
for committee, p in zip(committees, probs):
    for pid in committee:
        marginal[pid] += p
print(json.dumps({"seconds": seconds, "min_prob": min(marginal.values())}))
"""


def run(code: str, args: list[str], timeout: float) -> dict:
    t = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer within {timeout:.0f} s", "seconds": time.perf_counter() - t}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:120], "seconds": time.perf_counter() - t}
    return json.loads(lines[-1])


def fmt(r: dict) -> str:
    if "error" in r:
        return f"{'-':>9} {r['seconds']:8.1f}s  ({r['error']})"
    return f"{r['min_prob']:9.4f} {r['seconds']:8.1f}s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", nargs="*", help="instance folder names (default: all)")
    ap.add_argument("--peer-timeout", type=float, default=1800.0, help="seconds per peer run")
    ap.add_argument("--skip-peer-leximin", action="store_true")
    args = ap.parse_args()
    folders = sorted(p for p in INSTANCES.iterdir() if (p / "people.csv").exists())
    if args.instances:
        folders = [p for p in folders if p.name in args.instances]
    print(f"{'instance':28} {'method':22} {'min prob':>9} {'time':>9}")
    for base in folders:
        k = (base / "panel_size.txt").read_text().strip()
        ours = run(OTOS, [str(base), k], 3600)
        peer_lex = {"error": "skipped", "seconds": 0.0} if args.skip_peer_leximin else run(
            PEER, [str(base), k, "leximin"], args.peer_timeout)
        peer_max = run(PEER, [str(base), k, "maximin"], args.peer_timeout)
        print(f"{base.name:28} {'otos leximin':22} {fmt(ours)}")
        print(f"{'':28} {'peer leximin (highspy)':22} {fmt(peer_lex)}")
        print(f"{'':28} {'peer maximin (cbc)':22} {fmt(peer_max)}")
        for name, peer in (("leximin", peer_lex), ("maximin", peer_max)):
            if "error" not in peer and "error" not in ours:
                print(f"{'':28} vs peer {name}: min prob difference {ours['min_prob'] - peer['min_prob']:+.4f}, "
                      f"time ratio otos/peer {ours['seconds'] / peer['seconds']:.3f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
