"""``otos panel`` and ``otos select``: quotas, draws, verification, replacements; the lottery on files.
"""
from __future__ import annotations

import argparse
import json
import sys

from pool.display import printable
from pool.errors import OtosError
from tui.cli_common import ints, print_json, strata_settings
from pool.i18n import _, moment, number as fmt_number


def add_parser(sub) -> None:
    pan = sub.add_parser("panel", help=_("panels drawn from the pool")).add_subparsers(dest="action", metavar="ACTION",
                                                                                    required=True)
    pq = pan.add_parser("quotas", help=_("write quotas (features.csv) from population margins"))
    pq.add_argument("--size", type=int, required=True, help=_("panel size"))
    src = pq.add_mutually_exclusive_group()
    src.add_argument("--extract", type=int, help=_("take margins from this (full-population) extract (default: the extract of --round, else the newest)"))
    src.add_argument("--margins", help=_("margins CSV in the layout of Statistics Finland table 11rl"))
    pq.add_argument("--features", default="age,sex,language,municipality",
                    help=_("comma-separated: age, sex, language, municipality (default all four)"))
    pq.add_argument("--age-bands", help=_("age cut points (default: the workspace's age_bands)"))
    pq.add_argument("--min-population", type=int,
                    help=_("municipalities smaller than this form the group 'muut' (default: the workspace's municipalities_alone)"))
    pq.add_argument("--tolerance", type=int, default=1, help=_("seats either side of each target (default 1)"))
    pq.add_argument("--round", help=_("the recruitment round whose extract gives the margins"))
    pq.add_argument("--out", required=True, help=_("features.csv to write"))
    pq.add_argument("--save", metavar="NAME", help=_("also keep the quotas in the workspace under this name"))
    pd_ = pan.add_parser("draw", help=_("draw a panel from the active pool"))
    pd_.add_argument("--size", type=int, help=_("panel size (default: the quota set's)"))
    given = pd_.add_mutually_exclusive_group(required=True)
    given.add_argument("--quotas", help=_("features.csv: feature,value,min,max"))
    given.add_argument("--quota-set", metavar="NAME", help=_("quotas kept in the workspace (otos quotas list)"))
    given.add_argument("--prepared", metavar="HASH", help=_("draw from the lottery otos panel prepare stored (its SHA-256, published before the draw)"))
    chance = pd_.add_mutually_exclusive_group(required=True)
    chance.add_argument("--seed", help=_("the public seed of the lottery"))
    chance.add_argument("--ticket", type=int, help=_("the ticket number drawn by hand (a lottery of --uniform tickets)"))
    pd_.add_argument("--round", help=_("only members of this recruitment round"))
    pd_.add_argument("--fixed", default="", help=_("member ids already seated, comma-separated"))
    pd_.add_argument("--method", default="leximin", choices=["leximin", "legacy"])
    pd_.add_argument("--uniform", type=int, metavar="M", help=_("round the lottery to M equally likely tickets"))
    pd_.add_argument("--reserves", type=int, default=1,
                     help=_("like-for-like reserves drawn per seat, ranked (default 1; 0 for none)"))
    pd_.add_argument("--json", action="store_true")
    pp = pan.add_parser("prepare", help=_("compute and store the lottery before the seed exists; prints its SHA-256 to publish"))
    pp.add_argument("--size", type=int, help=_("panel size (default: the quota set's)"))
    pgiven = pp.add_mutually_exclusive_group(required=True)
    pgiven.add_argument("--quotas", help=_("features.csv: feature,value,min,max"))
    pgiven.add_argument("--quota-set", metavar="NAME", help=_("quotas kept in the workspace (otos quotas list)"))
    pp.add_argument("--round", help=_("only members of this recruitment round"))
    pp.add_argument("--fixed", default="", help=_("member ids already seated, comma-separated"))
    pp.add_argument("--uniform", type=int, metavar="M", nargs="?", const=1000,
                    help=_("round the lottery to M equally likely tickets (default 1000), so a number from 1 to M drawn in public decides the panel"))
    pp.add_argument("--json", action="store_true")
    pv = pan.add_parser("verify", help=_("check a recorded draw: its stored lottery and the draw from it"))
    pv.add_argument("id", type=int, nargs="?", help=_("the panel (or give --record)"))
    pv.add_argument("--record", metavar="FILE", help=_("a record written by otos panel record or otos select --record (no workspace needed)"))
    pv.add_argument("--resolve", action="store_true",
                    help=_("also solve the lottery again (HiGHS) and say whether the optimum differs"))
    prec = pan.add_parser("record", help=_("write the panel's lottery record for publishing (no names or contacts)"))
    prec.add_argument("id", type=int)
    prec.add_argument("--out", required=True, help=_("record.json to write"))
    pr = pan.add_parser("replace", help=_("fill the seat of a member who dropped out: the next reserve of their quota group, else a fair replacement lottery"))
    pr.add_argument("id", type=int)
    pr.add_argument("member", type=int)
    pr.add_argument("--redraw", action="store_true", help=_("skip the reserves: draw the replacement by lottery"))
    pe = pan.add_parser("export", help=_("write the pool as people.csv for sortition-algorithms and similar tools"))
    pe.add_argument("--quotas", required=True, help=_("features.csv whose features the columns follow"))
    pe.add_argument("--out", required=True, help=_("people.csv to write (member id, one column per feature, household)"))
    pe.add_argument("--round", help=_("only members of this recruitment round"))
    pan.add_parser("list", help=_("list drawn panels"))
    ps = pan.add_parser("show", help=_("seats of a panel"))
    ps.add_argument("id", type=int)
    ps.add_argument("--all", action="store_true", help=_("every volunteer's selection probability, not only the seats"))
    ps.add_argument("--json", action="store_true")

    qs = sub.add_parser("quotas", help=_("quotas kept in the workspace under a name")).add_subparsers(
        dest="action", metavar="ACTION", required=True)
    qs.add_parser("list", help=_("the saved quota sets, the newest first"))
    qsave = qs.add_parser("save", help=_("keep a features.csv under a name"))
    qsave.add_argument("name")
    qsave.add_argument("--from", dest="source", required=True, metavar="FILE", help=_("features.csv"))
    qsave.add_argument("--size", type=int, required=True, help=_("the panel size the quotas are for"))
    qsave.add_argument("--replace", action="store_true", help=_("replace a set of the same name"))
    qexp = qs.add_parser("export", help=_("write a saved set as features.csv"))
    qexp.add_argument("name")
    qexp.add_argument("--out", required=True)
    qdel = qs.add_parser("delete", help=_("remove a saved set (panels drawn with it keep their quotas)"))
    qdel.add_argument("name")

    sel = sub.add_parser("select", help=_("run the fair lottery on features.csv / people.csv files (no workspace)"))
    sel.add_argument("--features", help=_("features.csv: feature,value,min,max"))
    sel.add_argument("--people", help=_("people.csv: id, one column per feature"))
    sel.add_argument("--size", type=int, help=_("panel size"))
    sel.add_argument("--seed", help=_("the public seed of the lottery"))
    sel.add_argument("--ticket", type=int, help=_("the ticket drawn by hand (a lottery of --uniform tickets)"))
    sel.add_argument("--uniform", type=int, metavar="M", nargs="?", const=1000,
                     help=_("round the lottery to M equally likely tickets (default 1000)"))
    sel.add_argument("--record", metavar="FILE", help=_("write the lottery record (JSON) to FILE"))
    sel.add_argument("--prepare", action="store_true",
                     help=_("only compute the lottery: write it to --record FILE and print its SHA-256"))
    sel.add_argument("--prepared", metavar="FILE", help=_("draw from the lottery in this prepared record (no solver): give --seed or --ticket"))
    sel.add_argument("--household", help=_("column that names each person's household"))
    sel.add_argument("--method", default="leximin", choices=["leximin", "legacy"],
                     help=_("leximin (fair, the default) or legacy (greedy, less fair; for comparison)"))
    sel.add_argument("--json", action="store_true", help=_("print one JSON object"))


def run(engine, args: argparse.Namespace) -> int:
    from sampling import panels

    if args.action == "quotas":
        from sampling.interop import write_features
        from sampling.targets import make_quotas

        features = [f.strip() for f in args.features.split(",") if f.strip()]
        bands, groups, _x = strata_settings(engine, args)
        made = make_quotas(engine, args.size, tolerance=args.tolerance, features=features, extract_id=args.extract,
                           recruitment_round=args.round, margins_csv=args.margins, age_bands=bands, groups=groups)
        if args.save:
            from sampling import quota_sets

            quota_sets.save(engine, args.save, made.quotas, args.size)
        write_features(args.out, made.quotas)
        from sampling.categories import feature_name, value_name

        for q in made.quotas:
            print(f"{printable(feature_name(q.feature)):>13} {printable(value_name(q.feature, q.value)):<16} "
                  f"{q.min:>4} - {q.max:<4}")
        print(_("Wrote {count} quotas for a panel of {size} to {out} (population from {source}).").format(count=len(made.quotas), size=args.size, out=args.out, source=made.source))
        if args.save:
            print(_("Kept them in the workspace as {save!r} (otos panel draw --quota-set).").format(save=args.save))
        return 0
    if args.action in ("draw", "prepare"):
        quotas, size = None, args.size
        if getattr(args, "prepared", None):
            if args.size or args.round or args.fixed or args.uniform:
                raise OtosError(_("A prepared lottery keeps the size, round, fixed seats and tickets it was prepared with."), hint=_("Give only --prepared HASH and --seed (or --ticket)."))
        elif args.quota_set:
            from sampling import quota_sets

            quotas, size = quota_sets.load(engine, args.quota_set)
            size = args.size or size
        elif args.size is None:
            raise OtosError(_("Give the panel size (--size) with a quotas file."))
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
        print(_("Drew panel {panel_id}: {count} members with {how} ({algorithm}); lowest selection probability {min_probability}; {sum} reserves.").format(panel_id=panel_id, count=len(sel.panel), how=how, algorithm=sel.algorithm, min_probability=fmt_number(sel.min_probability, 4), sum=sum(s['role'] == 'reserve' for s in panels.panel_seats(engine, panel_id))))
        if sel.prepared:
            print(_("The lottery's SHA-256: {sha256}").format(sha256=sel.prepared.sha256)
                  + (_(" (the one prepared and published before the draw).") if args.prepared else "."))
        for note in sel.notes:
            print(_("Note: {note}.").format(note=note))
        print(_("See it with: otos panel show {panel_id}   Check it with: otos panel verify {panel_id}   Publish it with: otos panel record {panel_id} --out record.json").format(panel_id=panel_id))
        return 0
    if args.action == "export":
        from sampling.interop import read_features

        count = panels.export_pool(engine, read_features(args.quotas), args.out, recruitment_round=args.round)
        print(_("Wrote {count} pool members (ids and quota categories only) to {out}.").format(count=count, out=args.out))
        return 0
    if args.action == "verify":
        if args.id is None:
            raise OtosError(_("Give the panel's number, or --record FILE."))
        return _print_verification(panels.verify_panel(engine, args.id, resolve=args.resolve),
                                   _("Panel {id} verified: its stored lottery and the draw from it give exactly the recorded panel.").format(id=args.id))
    if args.action == "record":
        rec = panels.write_record(engine, args.id, args.out)
        print(_("Wrote the lottery record of panel {id} to {out}: {count} types, {count2} panels, lottery SHA-256 {lottery_sha256}. It holds pseudonymous ids and categories only; anyone can check it with: otos panel verify --record {out}").format(id=args.id, out=args.out, count=len(rec['lottery']['types']), count2=len(rec['lottery']['panels']), lottery_sha256=rec['lottery_sha256']))
        return 0
    if args.action == "replace":
        new = panels.replace_member(engine, args.id, args.member, redraw=args.redraw)
        how = (_("reserve number {reserve_rank} for member {reserve_for}").format(reserve_rank=new.reserve_rank, reserve_for=new.reserve_for) if new.reserve_rank is not None
               else _("probability {probability} in the replacement lottery").format(probability=fmt_number(new.probability, 4)))
        print(_("Member {member} dropped out of panel {id}; member {member2} takes the seat ({how}).").format(member=args.member, id=args.id, member2=new.member, how=how))
        return 0
    if args.action == "list":
        for p in panels.list_panels(engine):
            print(_("{id:>4}  {created_at}  size {size:>3}  seed {seed!r}  {algorithm}  lowest probability {min_probability}").format(id=p['id'], created_at=moment(p['created_at']), size=p['size'], seed=p['seed'], algorithm=p['algorithm'], min_probability=fmt_number(p['min_probability'], 4)))
        waiting = panels.list_prepared(engine)
        if waiting:
            print(_("Prepared lotteries not drawn yet:"))
        for p in waiting:
            print(_("      {created_at}  size {size:>3}  SHA-256 {sha256}").format(created_at=moment(p['created_at']), size=p['size'], sha256=p['sha256'])
                  + (_("  {tickets} tickets").format(tickets=p['tickets']) if p["tickets"] else ""))
        return 0
    if args.action == "show" and args.all:
        probs = panels.all_probabilities(engine, args.id)
        if args.json:
            print_json(probs)
        else:
            for pid, p in sorted(probs.items(), key=lambda x: (x[1], int(x[0]) if x[0].isdigit() else 0)):
                print(f"{pid:>6}  {fmt_number(p, 4)}")
        return 0
    if args.action == "show":
        seats = panels.panel_seats(engine, args.id)
        if args.json:
            print_json(seats)
            return 0
        for seat in seats:
            print(f"{seat['member']:>6}  {printable(seat['name']):<34} {panels.role_label(seat):<20} "
                  f"{fmt_number(seat['probability'], 4)}  {seat['public_id'] or '':<10}  "
                  + printable(" · ".join(seat["group_shown"])))
        if any(seat["public_id"] for seat in seats):
            print(_("The fourth column is each member's id in the published lottery record (otos panel record)."))
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
    print(_("Prepared the lottery for a panel of {size}: {count} possible panels, lowest selection probability {low}.").format(size=size, count=len(prep.lottery['panels']), low=fmt_number(low, 4)))
    if prep.min_before is not None:
        print(_("Rounded to {uniform} equally likely tickets: the lowest probability was {float} before rounding and is {low} after (fairness lost: {value}).").format(uniform=args.uniform, float=fmt_number(float(prep.min_before), 4), low=fmt_number(low, 4), value=fmt_number(float(prep.min_before) - low, 4)))
    print(_("Its SHA-256 (publish this before the draw):\n  {sha}").format(sha=sha))
    how = _("--ticket N (1-{uniform}) or --seed S").format(uniform=args.uniform) if args.uniform else _("--seed S")
    print(_("Then draw at the public event with: otos panel draw --prepared {value} {how}").format(value=sha[:16], how=how))
    return 0


def _print_verification(result, ok_text: str) -> int:
    for note in result.notes:
        print(_("Note: {note}.").format(note=note))
    if result.ok:
        print(ok_text)
        return 0
    for d in result.differences:
        print(_("otos: {d}").format(d=d), file=sys.stderr)
    print(_("otos: NOT verified: the record does not hold together (see above)."), file=sys.stderr)
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
    lottery = (_("{record} verified: every panel of its lottery meets the quotas and the household rule and the probabilities are exact").format(record=args.record))
    if not draw:
        return _print_verification(result, _("{lottery}; it holds no draw yet (SHA-256 {lottery_sha256}).").format(lottery=lottery, lottery_sha256=rec['lottery_sha256']))
    how = _("ticket {ticket}").format(ticket=draw['ticket']) if draw.get("ticket") is not None else _("seed {get!r}").format(get=draw.get('seed'))
    return _print_verification(result, _("{lottery}, and {how} draws exactly the {count} seated ids.").format(lottery=lottery, how=how, count=len(draw['panel'])))


def run_quotas(engine, args: argparse.Namespace) -> int:
    from sampling import quota_sets
    from sampling.interop import read_features, write_features

    if args.action == "list":
        sets = quota_sets.listing(engine)
        if not sets:
            print(_("No quota sets saved yet (otos quotas save NAME --from features.csv --size N)."))
        for q in sets:
            print(_("{printable:<30} {size:>4} seats  {quotas:>3} quotas  saved {value} by {printable2}").format(printable=printable(q['name']), size=q['size'], quotas=q['quotas'], value=moment(q['saved_at']), printable2=printable(q['saved_by'])))
    elif args.action == "save":
        quota_sets.save(engine, args.name, read_features(args.source), args.size, replace=args.replace)
        print(_("Kept the quotas of {source} for a panel of {size} as {name!r}.").format(source=args.source, size=args.size, name=args.name))
    elif args.action == "export":
        quotas, size = quota_sets.load(engine, args.name)
        write_features(args.out, quotas)
        print(_("Wrote the {count} quotas of {name!r} (for a panel of {size}) to {out}.").format(count=len(quotas), name=args.name, size=size, out=args.out))
    else:
        quota_sets.delete(engine, args.name)
        print(_("Removed the quota set {name!r}.").format(name=args.name))
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
        raise OtosError(_("Give {join}.").format(join=', '.join(missing)), hint=_("otos select --features F --people P --size N --seed S"))
    if args.prepare and (args.seed is not None or args.ticket is not None):
        raise OtosError(_("--prepare fixes the lottery before any seed exists; leave out --seed and --ticket."),
                        hint=_("Publish the printed hash, then draw with --prepared FILE --seed S."))
    if args.prepare and not args.record:
        raise OtosError(_("--prepare writes the lottery to a file: give --record FILE."))
    problem = read_people(args.people, read_features(args.features), args.size, household=args.household)
    if args.record:
        record.check_publishable(problem.ids, args.people)
    if args.prepare:
        from sampling.select import prepare

        prep = prepare(problem, uniform=args.uniform)
        record.save(args.record, record.assemble(prep.lottery, prepared_at=record.timestamp()))
        print(_("Prepared the lottery: {count} possible panels; wrote it to {record}.").format(count=len(prep.lottery['panels']), record=args.record))
        if prep.min_before is not None:
            print(_("Rounded to {uniform} tickets: lowest probability {float} before, {float2} after.").format(uniform=args.uniform, float=fmt_number(float(prep.min_before), 4), float2=fmt_number(float(lowest(prep.lottery)), 4)))
        print(_("Its SHA-256 (publish this before the draw):\n  {sha256}").format(sha256=prep.sha256))
        return 0
    if args.seed is None and args.ticket is None:
        raise OtosError(_("Give the public seed (--seed) or the ticket drawn by hand (--ticket)."))
    result = select(problem, args.seed, args.method, uniform=args.uniform, ticket=args.ticket)
    if args.record:
        record.save(args.record, result.record(record.timestamp()))
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    print(_("Panel of {count} drawn with {how} ({algorithm}):").format(count=len(result.panel), how=_how(args), algorithm=result.algorithm))
    print("  " + ", ".join(result.panel))
    probs = sorted(result.probabilities.values())
    print(_("Selection probabilities: lowest {value}, median {value2}, highest {value3}.").format(value=fmt_number(probs[0], 4), value2=fmt_number(probs[len(probs) // 2], 4), value3=fmt_number(probs[-1], 4)))
    for note in result.notes:
        print(_("Note: {note}.").format(note=note))
    if args.record:
        print(_("Wrote the lottery record to {record} (lottery SHA-256 {sha256}).").format(record=args.record, sha256=result.prepared.sha256))
    return 0


def _how(args: argparse.Namespace) -> str:
    return _("ticket {ticket}").format(ticket=args.ticket) if args.ticket is not None else _("seed {seed!r}").format(seed=args.seed)


def _select_prepared(args: argparse.Namespace) -> int:
    """``otos select --prepared FILE --seed S``: draw from a prepared record, no solver."""
    from sampling import record

    if args.prepare or args.features or args.people or args.size or args.uniform:
        raise OtosError(_("--prepared draws from the lottery in the file as it is; leave out --prepare, --features, --people, --size and --uniform."))
    out = record.draw_prepared(record.load(args.prepared), args.prepared, args.seed, args.ticket)
    if args.record:
        record.save(args.record, out)
    panel = out["draw"]["panel"]
    if args.json:
        print(json.dumps({"panel": panel, "lottery_sha256": out["lottery_sha256"], "seed": args.seed,
                          "ticket": args.ticket}, ensure_ascii=False))
        return 0
    print(_("Panel of {count} drawn with {how} from the prepared lottery {lottery_sha256}:").format(count=len(panel), how=_how(args), lottery_sha256=out['lottery_sha256']))
    print("  " + ", ".join(panel))
    if args.record:
        print(_("Wrote the record to {record}.").format(record=args.record))
    return 0
