"""``otos panel`` and ``otos select``: quotas, draws, verification, replacements; the lottery on files.
"""
from __future__ import annotations

import argparse
import json
import sys

from pool.display import printable
from pool.errors import OtosError
from tui.cli_common import ints, print_json, strata_settings


def add_parser(sub) -> None:
    pan = sub.add_parser("panel", help="panels drawn from the pool").add_subparsers(dest="action", metavar="ACTION",
                                                                                    required=True)
    pq = pan.add_parser("quotas", help="write quotas (features.csv) from population margins")
    pq.add_argument("--size", type=int, required=True, help="panel size")
    src = pq.add_mutually_exclusive_group()
    src.add_argument("--extract", type=int, help="take margins from this (full-population) extract "
                                                 "(default: the extract of --round, else the newest)")
    src.add_argument("--margins", help="margins CSV in the layout of Statistics Finland table 11rl")
    pq.add_argument("--features", default="age,sex,language,municipality",
                    help="comma-separated: age, sex, language, municipality (default all four)")
    pq.add_argument("--age-bands", help="age cut points (default: the workspace's age_bands)")
    pq.add_argument("--min-population", type=int,
                    help="municipalities smaller than this form the group 'muut' "
                         "(default: the workspace's municipalities_alone)")
    pq.add_argument("--tolerance", type=int, default=1, help="seats either side of each target (default 1)")
    pq.add_argument("--round", help="the recruitment round whose extract gives the margins")
    pq.add_argument("--out", required=True, help="features.csv to write")
    pq.add_argument("--save", metavar="NAME", help="also keep the quotas in the workspace under this name")
    pd_ = pan.add_parser("draw", help="draw a panel from the active pool")
    pd_.add_argument("--size", type=int, help="panel size (default: the quota set's)")
    given = pd_.add_mutually_exclusive_group(required=True)
    given.add_argument("--quotas", help="features.csv: feature,value,min,max")
    given.add_argument("--quota-set", metavar="NAME", help="quotas kept in the workspace (otos quotas list)")
    pd_.add_argument("--seed", required=True, help="the public seed of the lottery")
    pd_.add_argument("--round", help="only members of this recruitment round")
    pd_.add_argument("--fixed", default="", help="member ids already seated, comma-separated")
    pd_.add_argument("--method", default="leximin", choices=["leximin", "legacy"])
    pd_.add_argument("--reserves", type=int, default=1,
                     help="like-for-like reserves drawn per seat, ranked (default 1; 0 for none)")
    pd_.add_argument("--json", action="store_true")
    pv = pan.add_parser("verify", help="recompute a recorded draw and compare")
    pv.add_argument("id", type=int)
    pr = pan.add_parser("replace", help="fill the seat of a member who dropped out: the next reserve of their "
                                        "quota group, else a fair replacement lottery")
    pr.add_argument("id", type=int)
    pr.add_argument("member", type=int)
    pr.add_argument("--redraw", action="store_true", help="skip the reserves: draw the replacement by lottery")
    pe = pan.add_parser("export", help="write the pool as people.csv for sortition-algorithms and similar tools")
    pe.add_argument("--quotas", required=True, help="features.csv whose features the columns follow")
    pe.add_argument("--out", required=True, help="people.csv to write (member id, one column per feature, household)")
    pe.add_argument("--round", help="only members of this recruitment round")
    pan.add_parser("list", help="list drawn panels")
    ps = pan.add_parser("show", help="seats of a panel")
    ps.add_argument("id", type=int)
    ps.add_argument("--all", action="store_true", help="every volunteer's selection probability, not only the seats")
    ps.add_argument("--json", action="store_true")

    qs = sub.add_parser("quotas", help="quotas kept in the workspace under a name").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    qs.add_parser("list", help="the saved quota sets, the newest first")
    qsave = qs.add_parser("save", help="keep a features.csv under a name")
    qsave.add_argument("name")
    qsave.add_argument("--from", dest="source", required=True, metavar="FILE", help="features.csv")
    qsave.add_argument("--size", type=int, required=True, help="the panel size the quotas are for")
    qsave.add_argument("--replace", action="store_true", help="replace a set of the same name")
    qexp = qs.add_parser("export", help="write a saved set as features.csv")
    qexp.add_argument("name")
    qexp.add_argument("--out", required=True)
    qdel = qs.add_parser("delete", help="remove a saved set (panels drawn with it keep their quotas)")
    qdel.add_argument("name")

    sel = sub.add_parser("select", help="run the fair lottery on features.csv / people.csv files (no workspace)")
    sel.add_argument("--features", required=True, help="features.csv: feature,value,min,max")
    sel.add_argument("--people", required=True, help="people.csv: id, one column per feature")
    sel.add_argument("--size", type=int, required=True, help="panel size")
    sel.add_argument("--seed", required=True, help="the public seed of the lottery")
    sel.add_argument("--household", help="column that names each person's household")
    sel.add_argument("--method", default="leximin", choices=["leximin", "legacy"],
                     help="leximin (fair, the default) or legacy (greedy, less fair; for comparison)")
    sel.add_argument("--json", action="store_true", help="print one JSON object")


def run(engine, args: argparse.Namespace) -> int:
    from sampling import panels

    if args.action == "quotas":
        from sampling.interop import write_features
        from sampling.targets import make_quotas

        features = [f.strip() for f in args.features.split(",") if f.strip()]
        bands, groups, _ = strata_settings(engine, args)
        made = make_quotas(engine, args.size, tolerance=args.tolerance, features=features, extract_id=args.extract,
                           recruitment_round=args.round, margins_csv=args.margins, age_bands=bands, groups=groups)
        if args.save:
            from sampling import quota_sets

            quota_sets.save(engine, args.save, made.quotas, args.size)
        write_features(args.out, made.quotas)
        for q in made.quotas:
            print(f"{printable(q.feature):>13} {printable(q.value):<16} {q.min:>4} - {q.max:<4}")
        print(f"Wrote {len(made.quotas)} quotas for a panel of {args.size} to {args.out} "
              f"(population from {made.source}).")
        if args.save:
            print(f"Kept them in the workspace as {args.save!r} (otos panel draw --quota-set).")
        return 0
    if args.action == "draw":
        from sampling.interop import read_features

        if args.quota_set:
            from sampling import quota_sets

            quotas, size = quota_sets.load(engine, args.quota_set)
            size = args.size or size
        elif args.size is None:
            raise OtosError("Give the panel size (--size) with a quotas file.")
        else:
            quotas, size = read_features(args.quotas), args.size
        panel_id, sel = panels.draw_panel(engine, quotas, size, args.seed, method=args.method,
                                          recruitment_round=args.round, fixed=list(ints(args.fixed, "--fixed")),
                                          reserves_per_seat=args.reserves)
        if args.json:
            print_json({"id": panel_id, **sel.as_json()})
            return 0
        print(f"Drew panel {panel_id}: {len(sel.panel)} members with seed {args.seed!r} ({sel.algorithm}); "
              f"lowest selection probability {sel.min_probability:.4f}; "
              f"{sum(s['role'] == 'reserve' for s in panels.panel_seats(engine, panel_id))} reserves.")
        for note in sel.notes:
            print(f"Note: {note}.")
        print(f"See it with: otos panel show {panel_id}   Check it with: otos panel verify {panel_id}")
        return 0
    if args.action == "export":
        from sampling.interop import read_features

        count = panels.export_pool(engine, read_features(args.quotas), args.out, recruitment_round=args.round)
        print(f"Wrote {count} pool members (ids and quota categories only) to {args.out}.")
        return 0
    if args.action == "verify":
        result = panels.verify_panel(engine, args.id)
        for note in result.notes:
            print(f"Note: {note}.")
        if result.ok:
            print(f"Panel {args.id} verified: recomputing the lottery from its record gives the same panel.")
            return 0
        for d in result.differences:
            print(f"otos: {d}", file=sys.stderr)
        return 1
    if args.action == "replace":
        new = panels.replace_member(engine, args.id, args.member, redraw=args.redraw)
        how = (f"reserve number {new.reserve_rank} for member {new.reserve_for}" if new.reserve_rank is not None
               else f"probability {new.probability:.4f} in the replacement lottery")
        print(f"Member {args.member} dropped out of panel {args.id}; member {new.member} takes the seat ({how}).")
        return 0
    if args.action == "list":
        for p in panels.list_panels(engine):
            print(f"{p['id']:>4}  {p['created_at']}  size {p['size']:>3}  seed {p['seed']!r}  {p['algorithm']}  "
                  f"lowest probability {p['min_probability']:.4f}")
        return 0
    if args.action == "show" and args.all:
        probs = panels.all_probabilities(engine, args.id)
        if args.json:
            print_json(probs)
        else:
            for pid, p in sorted(probs.items(), key=lambda x: (x[1], int(x[0]) if x[0].isdigit() else 0)):
                print(f"{pid:>6}  {p:.4f}")
        return 0
    if args.action == "show":
        seats = panels.panel_seats(engine, args.id)
        if args.json:
            print_json(seats)
            return 0
        for seat in seats:
            print(f"{seat['member']:>6}  {printable(seat['name']):<40} {panels.role_label(seat):<20} "
                  f"{seat['probability']:.4f}  "
                  + printable(" · ".join(seat["group"])))
        return 0
    return 1


def run_quotas(engine, args: argparse.Namespace) -> int:
    from sampling import quota_sets
    from sampling.interop import read_features, write_features

    if args.action == "list":
        sets = quota_sets.listing(engine)
        if not sets:
            print("No quota sets saved yet (otos quotas save NAME --from features.csv --size N).")
        for q in sets:
            print(f"{printable(q['name']):<30} {q['size']:>4} seats  {q['quotas']:>3} quotas  "
                  f"saved {q['saved_at'][:16]} by {printable(q['saved_by'])}")
    elif args.action == "save":
        quota_sets.save(engine, args.name, read_features(args.source), args.size, replace=args.replace)
        print(f"Kept the quotas of {args.source} for a panel of {args.size} as {args.name!r}.")
    elif args.action == "export":
        quotas, size = quota_sets.load(engine, args.name)
        write_features(args.out, quotas)
        print(f"Wrote the {len(quotas)} quotas of {args.name!r} (for a panel of {size}) to {args.out}.")
    else:
        quota_sets.delete(engine, args.name)
        print(f"Removed the quota set {args.name!r}.")
    return 0


def run_select(args: argparse.Namespace) -> int:
    from sampling.interop import read_features, read_people
    from sampling.select import select

    problem = read_people(args.people, read_features(args.features), args.size, household=args.household)
    result = select(problem, args.seed, args.method)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    print(f"Panel of {len(result.panel)} drawn with seed {args.seed!r} ({result.algorithm}):")
    print("  " + ", ".join(result.panel))
    probs = sorted(result.probabilities.values())
    print(f"Selection probabilities: lowest {probs[0]:.4f}, median {probs[len(probs) // 2]:.4f}, highest {probs[-1]:.4f}.")
    for note in result.notes:
        print(f"Note: {note}.")
    return 0
