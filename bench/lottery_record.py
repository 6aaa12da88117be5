"""The lottery record: its size, the time to verify it, and the fairness a hand-drawn lottery costs.

    .venv/bin/pip install -e '.[bench]'      # the peer (GPL-3.0), only for its column
    .venv/bin/python bench/lottery_record.py [--instances NAME ...] [--tickets 1000] [--peer-timeout 600]

For each instance in ../shared/data/sortition/, each step in its own process:

- Otos computes the fair lottery and writes the record (``otos select --record``);
- the record's size, and the time to verify it in a process where HiGHS and NumPy
  cannot be imported (``python -m sampling.record``): the check a member of the public
  runs;
- for comparison, what verification costs without a stored lottery: solving the
  problem again, with Otos (``--resolve``) and with the peer, sortition-algorithms'
  maximin (CBC), whose optimum is the leximin minimum; the ratio verify / peer re-solve;
- ``--uniform``: the lottery rounded to that many tickets (issue 12), the smallest
  probability before and after, and the rounding's time.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from panel_fairness import INSTANCES, PEER, ROOT, run  # noqa: E402

BLOCKED = r"""
import builtins, runpy, sys
real = builtins.__import__
def guard(name, *a, **k):
    if name.split(".")[0] in ("highspy", "numpy", "pandas"):
        raise ImportError(name + " is not installed here")
    return real(name, *a, **k)
builtins.__import__ = guard
sys.argv = ["sampling.record", sys.argv[1]]
runpy.run_module("sampling.record", run_name="__main__", alter_sys=True)
"""

OTOS = r"""
import json, sys, time
from fractions import Fraction
from sampling.interop import read_features, read_people
from sampling.lottery import lowest
from sampling.select import prepare, resolve, select
base, k, out, tickets = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
head = open(f"{base}/people.csv", encoding="utf-8").readline()
problem = read_people(f"{base}/people.csv", read_features(f"{base}/features.csv"), k,
                      household="household" if "household" in head.split(",") else None)
t = time.perf_counter()
sel = select(problem, "bench")
solve = time.perf_counter() - t
rec = sel.record("2026-12-02T00:00:00+00:00")
with open(out, "w", encoding="utf-8") as fh:
    json.dump(rec, fh, ensure_ascii=False, indent=1)
t = time.perf_counter()
gap, _ = resolve(rec["lottery"])
resolve_s = time.perf_counter() - t
t = time.perf_counter()
from sampling.uniform import round_uniform
rounded = round_uniform(sel.prepared.lottery, tickets)
uniform_s = time.perf_counter() - t
print(json.dumps({"solve": solve, "resolve": resolve_s, "gap": gap, "panels": len(rec["lottery"]["panels"]),
                  "types": len(rec["lottery"]["types"]), "min_before": float(lowest(sel.prepared.lottery)),
                  "min_after": float(lowest(rounded)), "uniform_seconds": uniform_s,
                  "ticket_panels": len(rounded["panels"])}))
"""


def verify_seconds(path: Path) -> tuple[float, bool]:
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", BLOCKED, str(path)], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return time.perf_counter() - t, done.returncode == 0 and "Verified" in done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", nargs="*", help="instance folder names (default: all)")
    ap.add_argument("--tickets", type=int, default=1000)
    ap.add_argument("--peer-timeout", type=float, default=600.0, help="seconds per peer run")
    args = ap.parse_args()
    folders = sorted(p for p in INSTANCES.iterdir() if (p / "people.csv").exists())
    if args.instances:
        folders = [p for p in folders if p.name in args.instances]
    print(f"{'instance':28} {'record':>9} {'verify':>8} {'re-solve':>9} {'peer':>9} {'ratio':>7}  "
          f"{'min prob':>9} {'uniform':>8} {'lost':>7} {'round':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for base in folders:
            k = (base / "panel_size.txt").read_text().strip()
            out = Path(tmp) / f"{base.name}.json"
            ours = run(OTOS, [str(base), k, str(out), str(args.tickets)], 3600)
            if "error" in ours:
                print(f"{base.name:28} otos failed: {ours['error']}")
                continue
            seconds, ok = verify_seconds(out)
            peer = run(PEER, [str(base), k, "maximin"], args.peer_timeout)
            peer_s = f"{peer['seconds']:8.1f}s" if "error" not in peer else f"{'-':>9}"
            ratio = f"{seconds / peer['seconds']:7.3f}" if "error" not in peer else f"{'-':>7}"
            print(f"{base.name:28} {out.stat().st_size / 1024:7.0f}KB {seconds:7.2f}s{'' if ok else '!'} "
                  f"{ours['resolve']:8.2f}s {peer_s} {ratio}  {ours['min_before']:9.4f} {ours['min_after']:8.4f} "
                  f"{ours['min_before'] - ours['min_after']:+7.4f} {ours['uniform_seconds']:5.1f}s")
            if "error" in peer:
                print(f"{'':28} (peer: {peer['error']})")
            sys.stdout.flush()
    print(f"record: the file otos select --record writes; verify: python -m sampling.record without HiGHS/NumPy "
          f"('!' = not verified); re-solve: Otos solving again (--resolve); peer: sortition-algorithms' maximin "
          f"solving again; ratio: verify / peer; uniform: the smallest probability after rounding to "
          f"{args.tickets} tickets; lost: before minus after.")


if __name__ == "__main__":
    main()
