"""The panel lottery at scale: large generated pools, seven features, shared dwellings.

    .venv/bin/pip install -e '.[bench]'      # the peer (GPL-3.0), only for this benchmark
    .venv/bin/python bench/lottery_scale.py [--cases 1000x150x6 50000x150x6 10000x300x7 5000x150x6d]
                                            [--seed 1] [--skew 1.0] [--peer-timeout 300] [--profile CASE]

Each case ``POOLxSEATSxFEATURES`` (a trailing ``d``: a fifth of the volunteers share a
dwelling with another) is generated here, seeded, in the layout of
``../shared/data/sortition``: volunteers shaped like real ones (older, female, educated,
central and engaged people over-represented against the population), quotas the
population's shares of the seats rounded down and up. Each tool then runs in its own
process, timed as a whole solve:

- Otos: ``sampling.select.prepare`` (the leximin lottery); its wall time, peak memory
  (the process's maximum resident set), the smallest selection probability, its gap to
  the LP upper bound, and whether every panel of the lottery meets every quota and
  seats at most one per dwelling (checked here, not by Otos).
- The LP upper bound: maximise the smallest selection probability over the relaxation
  of the quota polytope, one variable per *person* (so nothing of Otos's grouping into
  types is trusted); no lottery over real panels can beat it.
- sortition-algorithms' maximin (CBC through ``mip``), whose optimum is the leximin
  minimum, where it answers within ``--peer-timeout``.

Target (issue 15): each of 50,000x150x6, 10,000x300x7 and 5,000x150x6 with shared
dwellings in at most 60 s, peak under 1 GiB, gap under 1e-6, quotas and dwellings met.
``--profile CASE`` runs Otos on one case under cProfile and prints the top entries.
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

import highspy
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "scale"
sys.path.insert(0, str(ROOT / "bench"))

# (feature, [(value, population share, volunteer over-representation)])
FEATURES = [
    ("age", [("18-29", .19, .6), ("30-39", .15, .8), ("40-49", .15, 1.0), ("50-64", .23, 1.2), ("65-74", .16, 1.5),
             ("75+", .12, 1.0)]),
    ("gender", [("female", .51, 1.3), ("male", .49, 1.0)]),
    ("language", [("fi", .90, 1.1), ("sv", .03, 1.0), ("other", .07, .5)]),
    ("municipality", [("centre", .34, 1.3), ("town-a", .08, 1.0), ("town-b", .07, 1.0), ("town-c", .06, .9),
                      ("town-d", .05, .9), ("town-e", .05, .9), ("rest", .35, .8)]),
    ("education", [("basic", .20, .5), ("secondary", .42, .9), ("tertiary", .38, 1.6)]),
    ("attitude", [("low", .30, .6), ("medium", .45, 1.0), ("high", .25, 1.7)]),
    ("income", [("low", .33, .8), ("middle", .34, 1.0), ("high", .33, 1.2)])]


def parse_case(text: str) -> tuple[int, int, int, bool]:
    dwellings = text.endswith("d")
    pool, seats, features = (int(x) for x in text.rstrip("d").split("x"))
    if not 1 <= features <= len(FEATURES):
        raise SystemExit(f"{text}: features must be 1..{len(FEATURES)}")
    return pool, seats, features, dwellings


def generate(folder: Path, pool: int, seats: int, features: int, dwellings: bool, seed: int,
             skew: float = 1.0) -> None:
    """Write features.csv, people.csv and panel_size.txt of one generated instance.
    ``skew`` scales the volunteers' over-representation (0: shaped like the population,
    more types of volunteers; 1: as in FEATURES)."""
    rng = np.random.default_rng(seed)
    chosen = FEATURES[:features]
    columns = []
    for _name, values in chosen:
        share = np.array([s for _v, s, _o in values])
        volunteer = share * (1 + skew * (np.array([o for _v, _s, o in values]) - 1))
        columns.append(rng.choice(len(values), size=pool, p=volunteer / volunteer.sum()))
    house = np.arange(pool)
    if dwellings:  # a fifth of the volunteers in pairs; a pair shares its municipality
        paired = rng.permutation(pool)[: (pool // 5) // 2 * 2].reshape(-1, 2)
        house[paired[:, 1]] = paired[:, 0]
        muni = [n for n, _v in chosen].index("municipality") if features > 3 else None
        if muni is not None:
            columns[muni][paired[:, 1]] = columns[muni][paired[:, 0]]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "features.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["feature", "value", "min", "max"])
        for name, values in chosen:
            for value, share, _o in values:
                ideal = share * seats
                w.writerow([name, value, int(np.floor(ideal)), int(np.ceil(ideal))])
    with (folder / "people.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *(n for n, _v in chosen), *(["household"] if dwellings else [])])
        for i in range(pool):
            row = [f"p{i:06d}", *(chosen[j][1][columns[j][i]][0] for j in range(features))]
            w.writerow(row + ([f"h{house[i]:06d}"] if dwellings else []))
    (folder / "panel_size.txt").write_text(f"{seats}\n")


OTOS = r"""
import json, resource, sys, time
from sampling.interop import read_features, read_people
from sampling.select import prepare
base, k = sys.argv[1], int(sys.argv[2])
head = open(f"{base}/people.csv", encoding="utf-8").readline().strip().split(",")
problem = read_people(f"{base}/people.csv", read_features(f"{base}/features.csv"), k,
                      household="household" if "household" in head else None)
t = time.perf_counter()
if len(sys.argv) > 3:
    import cProfile, pstats
    cProfile.run("prep = prepare(problem)", "/tmp/otos-scale.prof")
    pstats.Stats("/tmp/otos-scale.prof").sort_stats("cumulative").print_stats(35)
    sys.exit(0)
else:
    prep = prepare(problem)
seconds = time.perf_counter() - t
lot = prep.lottery
print(json.dumps({"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "types": len(lot["types"]), "panels": len(lot["panels"]),
                  "lottery": {"features": lot["features"], "types": [{"values": t["values"], "people": t["people"]}
                              for t in lot["types"]], "panels": lot["panels"], "denominator": lot["denominator"]}}))
"""


def household_sizes(people) -> dict[str, int]:
    """People per household id, from the rows of people.csv."""
    sizes: dict[str, int] = {}
    for row in people:
        if row.get("household"):
            sizes[row["household"]] = sizes.get(row["household"], 0) + 1
    return sizes


def lottery_checks(lot: dict, base: Path, k: int) -> tuple[float, list[str]]:
    """The smallest selection probability of the lottery (from its panels and weights) and
    what is wrong with it: a panel off a quota or seating two of a dwelling, a weight sum
    that is not the denominator, a person missing."""
    faults: list[str] = []
    quotas = {}
    with (base / "features.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            quotas[(row["feature"], row["value"])] = (int(row["min"]), int(row["max"]))
    with (base / "people.csv").open(encoding="utf-8") as fh:
        people = {row["id"]: row for row in csv.DictReader(fh)}
    types = lot["types"]
    house_of = [[people[p].get("household") for p in tp["people"]] for tp in types]
    shared = household_sizes(people.values())
    seen = [p for tp in types for p in tp["people"]]
    if sorted(seen) != sorted(people):
        faults.append("the lottery's types do not hold every person exactly once")
    expected = np.zeros(len(types))
    total = 0
    for panel in lot["panels"]:
        w = int(panel["weight"])
        total += w
        count = {q: 0 for q in quotas}
        seats = 0
        for t, c in panel["seats"]:
            seats += c
            expected[t] += w * c
            for feature, value in zip(lot["features"], types[t]["values"]):
                count[(feature, value)] += c
            houses = [h for h in house_of[t] if h and shared[h] > 1]
            if houses and (len(types[t]["people"]) > 1 or c > 1):
                faults.append("a type holds a person of a shared dwelling among others")
        if seats != k:
            faults.append(f"a panel of {seats} seats")
        for q, (lo, hi) in quotas.items():
            if not lo <= count[q] <= hi:
                faults.append(f"a panel has {count[q]} of {q}, quota {lo}..{hi}")
        dwelling_seats: dict[str, int] = {}
        for t, c in panel["seats"]:
            for h in house_of[t]:
                if h and shared[h] > 1:
                    dwelling_seats[h] = dwelling_seats.get(h, 0) + c
        if any(v > 1 for v in dwelling_seats.values()):
            faults.append("a panel seats two people of one dwelling")
    if total != lot["denominator"]:
        faults.append("weights do not sum to the denominator")
    sizes = np.array([len(tp["people"]) for tp in types], dtype=float)
    probs = expected / total / sizes
    return float(probs.min()), sorted(set(faults))[:5]


def lp_bound(base: Path, k: int) -> float:
    """max z over the LP relaxation: quotas, k seats, at most one per shared dwelling,
    every person's probability at least z. People with the same values who share no
    dwelling are one variable (by symmetry some optimum treats them alike); grouped
    here from the files, so nothing of Otos's own grouping into types is trusted."""
    from sampling.highs import new_highs

    with (base / "features.csv").open(encoding="utf-8") as fh:
        quotas = [(r["feature"], r["value"], int(r["min"]), int(r["max"])) for r in csv.DictReader(fh)]
    with (base / "people.csv").open(encoding="utf-8") as fh:
        people = list(csv.DictReader(fh))
    features = sorted({q[0] for q in quotas})
    shared = household_sizes(people)
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(people):
        alone = not p.get("household") or shared[p["household"]] == 1
        groups.setdefault((tuple(p[f] for f in features), "" if alone else p["id"]), []).append(i)
    keys = list(groups)
    size = np.array([len(groups[g]) for g in keys], dtype=float)
    n = len(keys)
    h = new_highs()
    h.setOptionValue("primal_feasibility_tolerance", 1e-10)
    h.setOptionValue("dual_feasibility_tolerance", 1e-10)
    inf = highspy.kHighsInf
    h.addVars(n + 1, np.zeros(n + 1), np.append(size, 1.0))
    h.changeColCost(n, -1.0)
    for feature, value, lo, hi in quotas:
        j = features.index(feature)
        members = np.array([g for g, key in enumerate(keys) if key[0][j] == value], dtype=np.int32)
        h.addRow(float(lo), float(hi), len(members), members, np.ones(len(members)))
    h.addRow(float(k), float(k), n, np.arange(n, dtype=np.int32), np.ones(n))
    group_of = {i: g for g, key in enumerate(keys) for i in groups[key]}
    houses: dict[str, list[int]] = {}
    for i, p in enumerate(people):
        if p.get("household") and shared[p["household"]] > 1:
            houses.setdefault(p["household"], []).append(group_of[i])
    for members in houses.values():
        h.addRow(-inf, 1.0, len(members), np.array(members, dtype=np.int32), np.ones(len(members)))
    for g in range(n):
        h.addRow(0.0, inf, 2, np.array([g, n], dtype=np.int32), np.array([1.0, -size[g]]))
    h.run()
    return float(h.getSolution().col_value[n])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="*", default=["1000x150x6", "50000x150x6", "10000x300x7", "5000x150x6d"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--peer-timeout", type=float, default=300.0, help="seconds per peer run")
    ap.add_argument("--skew", type=float, default=1.0,
                    help="volunteers' over-representation, scaled (0.3: flatter pools with more types)")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--profile", metavar="CASE", help="run Otos on CASE under cProfile and stop")
    args = ap.parse_args()
    from panel_fairness import PEER, run

    if args.profile:
        pool, seats, features, dwellings = parse_case(args.profile)
        base = OUT / f"{args.profile}-s{args.seed}" if args.skew == 1 else OUT / f"{args.profile}-s{args.seed}-k{args.skew}"
        if not (base / "people.csv").exists():
            generate(base, pool, seats, features, dwellings, args.seed, args.skew)
        subprocess.run([sys.executable, "-c", OTOS, str(base), str(seats), "profile"], cwd=ROOT)
        return
    print(f"{'case':16} {'types':>6} {'otos s':>8} {'peak MiB':>9} {'min prob':>10} {'LP bound':>10} {'gap':>9} "
          f"{'panels':>7} {'checks':>7}   peer maximin (cbc)")
    for case in args.cases:
        pool, seats, features, dwellings = parse_case(case)
        base = OUT / f"{case}-s{args.seed}" if args.skew == 1 else OUT / f"{case}-s{args.seed}-k{args.skew}"
        if not (base / "people.csv").exists():
            generate(base, pool, seats, features, dwellings, args.seed, args.skew)
        ours = run(OTOS, [str(base), str(seats)], 3600)
        t = time.perf_counter()
        bound = lp_bound(base, seats)
        print(f"  (LP bound in {time.perf_counter() - t:.1f} s)", file=sys.stderr)
        if "error" in ours:
            print(f"{case:16} otos failed after {ours['seconds']:.1f} s: {ours['error']}")
            continue
        low, faults = lottery_checks(ours["lottery"], base, seats)
        peer = {"error": "skipped", "seconds": 0.0} if args.skip_peer else run(
            PEER, [str(base), str(seats), "maximin"], args.peer_timeout)
        peer_text = (f"{peer['min_prob']:.6f} in {peer['seconds']:.1f} s, ratio otos/peer "
                     f"{ours['seconds'] / peer['seconds']:.3f}") if "error" not in peer else \
            f"({peer['error']}, {peer['seconds']:.0f} s)"
        print(f"{case:16} {ours['types']:6d} {ours['seconds']:8.1f} {ours['peak_mib']:9.0f} {low:10.6f} "
              f"{bound:10.6f} {bound - low:9.1e} {ours['panels']:7d} {'ok' if not faults else 'FAIL':>7}   {peer_text}")
        for f in faults:
            print(f"{'':16} {f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
