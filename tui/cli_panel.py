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
    given.add_argument("--prepared", metavar="HASH", help="draw from the lottery otos panel prepare stored "
                                                          "(its SHA-256, published before the draw)")
    chance = pd_.add_mutually_exclusive_group(required=True)
    chance.add_argument("--seed", help="the public seed of the lottery")
    chance.add_argument("--ticket", type=int, help="the ticket number drawn by hand (a lottery of --uniform tickets)")
    pd_.add_argument("--round", help="only members of this recruitment round")
    pd_.add_argument("--fixed", default="", help="member ids already seated, comma-separated")
    pd_.add_argument("--method", default="leximin", choices=["leximin", "legacy"])
    pd_.add_argument("--uniform", type=int, metavar="M", help="round the lottery to M equally likely tickets")
    pd_.add_argument("--reserves", type=int, default=1,
                     help="like-for-like reserves drawn per seat, ranked (default 1; 0 for none)")
    pd_.add_argument("--json", action="store_true")
    pp = pan.add_parser("prepare", help="compute and store the lottery before the seed exists; prints its SHA-256 "
                                        "to publish")
    pp.add_argument("--size", type=int, help="panel size (default: the quota set's)")
    pgiven = pp.add_mutually_exclusive_group(required=True)
    pgiven.add_argument("--quotas", help="features.csv: feature,value,min,max")
    pgiven.add_argument("--quota-set", metavar="NAME", help="quotas kept in the workspace (otos quotas list)")
    pp.add_argument("--round", help="only members of this recruitment round")
    pp.add_argument("--fixed", default="", help="member ids already seated, comma-separated")
    pp.add_argument("--uniform", type=int, metavar="M", nargs="?", const=1000,
                    help="round the lottery to M equally likely tickets (default 1000), so a number from 1 to M "
                         "drawn in public decides the panel")
    pp.add_argument("--json", action="store_true")
    pv = pan.add_parser("verify", help="check a recorded draw: its stored lottery and the draw from it")
    pv.add_argument("id", type=int, nargs="?", help="the panel (or give --record)")
    pv.add_argument("--record", metavar="FILE", help="a record written by otos panel record or otos select --record "
                                                     "(no workspace needed)")
    pv.add_argument("--resolve", action="store_true",
                    help="also solve the lottery again (HiGHS) and say whether the optimum differs")
    prec = pan.add_parser("record", help="write the panel's lottery record for publishing (no names or contacts)")
    prec.add_argument("id", type=int)
    prec.add_argument("--out", required=True, help="record.json to write")
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
    sel.add_argument("--features", help="features.csv: feature,value,min,max")
    sel.add_argument("--people", help="people.csv: id, one column per feature")
    sel.add_argument("--size", type=int, help="panel size")
    sel.add_argument("--seed", help="the public seed of the lottery")
    sel.add_argument("--ticket", type=int, help="the ticket drawn by hand (a lottery of --uniform tickets)")
    sel.add_argument("--uniform", type=int, metavar="M", nargs="?", const=1000,
                     help="round the lottery to M equally likely tickets (default 1000)")
    sel.add_argument("--record", metavar="FILE", help="write the lottery record (JSON) to FILE")
    sel.add_argument("--prepare", action="store_true",
                     help="only compute the lottery: write it to --record FILE and print its SHA-256")
    sel.add_argument("--prepared", metavar="FILE", help="draw from the lottery in this prepared record "
                                                        "(no solver): give --seed or --ticket")
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
    if args.action in ("draw", "prepare"):
        quotas, size = None, args.size
        if getattr(args, "prepared", None):
            if args.size or args.round or args.fixed or args.uniform:
                raise OtosError("A prepared lottery keeps the size, round, fixed seats and tickets it was prepared "
                                "with.", hint="Give only --prepared HASH and --seed (or --ticket).")
        elif args.quota_set:
            from sampling import quota_sets

            quotas, size = quota_sets.load(engine, args.quota_set)
            size = args.size or size
        elif args.size is None:
            raise OtosError("Give the panel size (--size) with a quotas file.")
        else:
            from sampling.interop import read_features

            quotas = read_features(args.quotas)
        fixed = list(ints(args.fixed, "--fixed"))
        if args.action == "prepare":
            return _prepare(engine, args, quotas, size, fixed)
        panel_id, sel = panels.draw_panel(engine, quotas, size, args.seed, method=args.method,
                                          recruitment_round=args.round, fixed=fixed, reserves_per_seat=args.reserves,
                                          uniform=args.uniform, ticket=args.ticket, prepared=args.prepared)
        if args.json:
            print_json({"id": panel_id, **sel.as_json()})
            return 0
        how = _how(args)
        print(f"Drew panel {panel_id}: {len(sel.panel)} members with {how} ({sel.algorithm}); "
              f"lowest selection probability {sel.min_probability:.4f}; "
              f"{sum(s['role'] == 'reserve' for s in panels.panel_seats(engine, panel_id))} reserves.")
        if sel.prepared:
            print(f"The lottery's SHA-256: {sel.prepared.sha256}"
                  + (" (the one prepared and published before the draw)." if args.prepared else "."))
        for note in sel.notes:
            print(f"Note: {note}.")
        print(f"See it with: otos panel show {panel_id}   Check it with: otos panel verify {panel_id}   "
              f"Publish it with: otos panel record {panel_id} --out record.json")
        return 0
    if args.action == "export":
        from sampling.interop import read_features

        count = panels.export_pool(engine, read_features(args.quotas), args.out, recruitment_round=args.round)
        print(f"Wrote {count} pool members (ids and quota categories only) to {args.out}.")
        return 0
    if args.action == "verify":
        if args.id is None:
            raise OtosError("Give the panel's number, or --record FILE.")
        return _print_verification(panels.verify_panel(engine, args.id, resolve=args.resolve),
                                   f"Panel {args.id} verified: its stored lottery and the draw from it give "
                                   "exactly the recorded panel.")
    if args.action == "record":
        rec = panels.write_record(engine, args.id, args.out)
        print(f"Wrote the lottery record of panel {args.id} to {args.out}: {len(rec['lottery']['types'])} types, "
              f"{len(rec['lottery']['panels'])} panels, lottery SHA-256 {rec['lottery_sha256']}. It holds "
              "pseudonymous ids and categories only; anyone can check it with: otos panel verify --record "
              f"{args.out}")
        return 0
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
        waiting = panels.list_prepared(engine)
        if waiting:
            print("Prepared lotteries not drawn yet:")
        for p in waiting:
            print(f"      {p['created_at']}  size {p['size']:>3}  SHA-256 {p['sha256']}"
                  + (f"  {p['tickets']} tickets" if p["tickets"] else ""))
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
            print(f"{seat['member']:>6}  {printable(seat['name']):<34} {panels.role_label(seat):<20} "
                  f"{seat['probability']:.4f}  {seat['public_id'] or '':<10}  "
                  + printable(" · ".join(seat["group"])))
        if any(seat["public_id"] for seat in seats):
            print("The fourth column is each member's id in the published lottery record (otos panel record).")
        return 0
    return 1


def _prepare(engine, args, quotas, size, fixed) -> int:
    from sampling import panels

    sha, prep = panels.prepare_panel(engine, quotas, size, recruitment_round=args.round, fixed=fixed,
                                     uniform=args.uniform)
    from sampling.lottery import lowest

    low = float(lowest(prep.lottery))
    if args.json:
        print_json({"lottery_sha256": sha, "panels": len(prep.lottery["panels"]), "min_probability": low,
                    "tickets": args.uniform,
                    "min_probability_before_rounding": float(prep.min_before) if prep.min_before else None})
        return 0
    print(f"Prepared the lottery for a panel of {size}: {len(prep.lottery['panels'])} possible panels, "
          f"lowest selection probability {low:.4f}.")
    if prep.min_before is not None:
        print(f"Rounded to {args.uniform} equally likely tickets: the lowest probability was "
              f"{float(prep.min_before):.4f} "
              f"before rounding and is {low:.4f} after (fairness lost: {float(prep.min_before) - low:.4f}).")
    print(f"Its SHA-256 (publish this before the draw):\n  {sha}")
    how = f"--ticket N (1-{args.uniform}) or --seed S" if args.uniform else "--seed S"
    print(f"Then draw at the public event with: otos panel draw --prepared {sha[:16]} {how}")
    return 0


def _print_verification(result, ok_text: str) -> int:
    for note in result.notes:
        print(f"Note: {note}.")
    if result.ok:
        print(ok_text)
        return 0
    for d in result.differences:
        print(f"otos: {d}", file=sys.stderr)
    print("otos: NOT verified: the record does not hold together (see above).", file=sys.stderr)
    return 1


def verify_record(args: argparse.Namespace) -> int:
    """``otos panel verify --record FILE``: no workspace, no solver (unless --resolve)."""
    from sampling import record

    rec = record.load(args.record)
    result = record.verify(rec)
    if args.resolve and result.ok:
        from sampling.select import resolve_note

        result.notes.append(resolve_note(rec["lottery"]))
    draw = rec.get("draw")
    lottery = (f"{args.record} verified: every panel of its lottery meets the quotas and the household rule and "
               "the probabilities are exact")
    if not draw:
        return _print_verification(result, f"{lottery}; it holds no draw yet (SHA-256 {rec['lottery_sha256']}).")
    how = f"ticket {draw['ticket']}" if draw.get("ticket") is not None else f"seed {draw.get('seed')!r}"
    return _print_verification(result, f"{lottery}, and {how} draws exactly the {len(draw['panel'])} seated ids.")


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
    from sampling import record
    from sampling.interop import read_features, read_people
    from sampling.lottery import lowest
    from sampling.select import select

    if args.prepared:
        return _select_prepared(args)
    missing = [f"--{n}" for n in ("features", "people", "size") if getattr(args, n) is None]
    if missing:
        raise OtosError(f"Give {', '.join(missing)}.", hint="otos select --features F --people P --size N --seed S")
    if args.prepare and (args.seed is not None or args.ticket is not None):
        raise OtosError("--prepare fixes the lottery before any seed exists; leave out --seed and --ticket.",
                        hint="Publish the printed hash, then draw with --prepared FILE --seed S.")
    if args.prepare and not args.record:
        raise OtosError("--prepare writes the lottery to a file: give --record FILE.")
    problem = read_people(args.people, read_features(args.features), args.size, household=args.household)
    if args.record:
        record.check_publishable(problem.ids, args.people)
    if args.prepare:
        from sampling.select import prepare

        prep = prepare(problem, uniform=args.uniform)
        record.save(args.record, record.assemble(prep.lottery, prepared_at=record.timestamp()))
        print(f"Prepared the lottery: {len(prep.lottery['panels'])} possible panels; wrote it to {args.record}.")
        if prep.min_before is not None:
            print(f"Rounded to {args.uniform} tickets: lowest probability {float(prep.min_before):.4f} before, "
                  f"{float(lowest(prep.lottery)):.4f} after.")
        print(f"Its SHA-256 (publish this before the draw):\n  {prep.sha256}")
        return 0
    if args.seed is None and args.ticket is None:
        raise OtosError("Give the public seed (--seed) or the ticket drawn by hand (--ticket).")
    result = select(problem, args.seed, args.method, uniform=args.uniform, ticket=args.ticket)
    if args.record:
        record.save(args.record, result.record(record.timestamp()))
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    print(f"Panel of {len(result.panel)} drawn with {_how(args)} ({result.algorithm}):")
    print("  " + ", ".join(result.panel))
    probs = sorted(result.probabilities.values())
    print(f"Selection probabilities: lowest {probs[0]:.4f}, median {probs[len(probs) // 2]:.4f}, highest {probs[-1]:.4f}.")
    for note in result.notes:
        print(f"Note: {note}.")
    if args.record:
        print(f"Wrote the lottery record to {args.record} (lottery SHA-256 {result.prepared.sha256}).")
    return 0


def _how(args: argparse.Namespace) -> str:
    return f"ticket {args.ticket}" if args.ticket is not None else f"seed {args.seed!r}"


def _select_prepared(args: argparse.Namespace) -> int:
    """``otos select --prepared FILE --seed S``: draw from a prepared record, no solver."""
    from sampling import record

    if args.prepare or args.features or args.people or args.size or args.uniform:
        raise OtosError("--prepared draws from the lottery in the file as it is; leave out --prepare, --features, "
                        "--people, --size and --uniform.")
    out = record.draw_prepared(record.load(args.prepared), args.prepared, args.seed, args.ticket)
    if args.record:
        record.save(args.record, out)
    panel = out["draw"]["panel"]
    if args.json:
        print(json.dumps({"panel": panel, "lottery_sha256": out["lottery_sha256"], "seed": args.seed,
                          "ticket": args.ticket}, ensure_ascii=False))
        return 0
    print(f"Panel of {len(panel)} drawn with {_how(args)} from the prepared lottery {out['lottery_sha256']}:")
    print("  " + ", ".join(panel))
    if args.record:
        print(f"Wrote the record to {args.record}.")
    return 0
