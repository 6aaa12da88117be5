"""``otos invite``: stage 1, the invitation sample, and its rounds.
"""
from __future__ import annotations

import argparse
import shlex

from pool.display import printable
from tui.cli_common import print_json, strata_settings
from pool.i18n import _, moment, number


def add_parser(sub) -> None:
    inv = sub.add_parser("invite", help=_("stage 1: the invitation sample")).add_subparsers(
        dest="action", metavar="ACTION", required=True)
    idr = inv.add_parser("draw", help=_("draw a stratified invitation sample from an extract"))
    idr.add_argument("--extract", type=int, required=True)
    idr.add_argument("--size", type=int, required=True, help=_("number of invitations"))
    idr.add_argument("--seed", required=True)
    idr.add_argument("--strata", default="age,sex,language,municipality",
                     help=_("comma-separated strata (default age,sex,language,municipality)"))
    idr.add_argument("--oversample", action="append", default=[], metavar="FEATURE=VALUE:FACTOR",
                     help=_("e.g. age=18-29:1.5 (repeat)"))
    idr.add_argument("--min-age", type=int, help=_("default: the workspace's min_age"))
    idr.add_argument("--age-bands", help=_("age cut points (default: the workspace's age_bands)"))
    idr.add_argument("--min-population", type=int,
                     help=_("municipalities smaller than this form the group 'muut' (default: the workspace's municipalities_alone)"))
    idr.add_argument("--round", help=_("name of the recruitment round (default: month and county, e.g. '2026-12 Lappi')"))
    idr.add_argument("--table", metavar="FILE.csv", help=_("also write the allocation of every stratum to this CSV"))
    idr.add_argument("--json", action="store_true", help=_("print one JSON object, every stratum included"))
    ils = inv.add_parser("list", help=_("the recruitment rounds: name, extract, invited, registered so far"))
    ils.add_argument("--json", action="store_true", help=_("print one JSON array"))


def run(engine, args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(engine, args)
    return _draw(engine, args)


def _list(engine, args: argparse.Namespace) -> int:
    from pool.invitations import list_rounds

    rounds = list_rounds(engine)
    if args.json:
        print_json([{"round": r.name, "extract": r.extract_id, "invited": r.invited, "registered": r.registered,
                     "drawn_on": r.drawn_on.isoformat()} for r in rounds])
        return 0
    if not rounds:
        print(_("No rounds yet. Draw one with: otos invite draw --extract ID --size N --seed TEXT"))
        return 0
    width = max(24, *(len(r.name) for r in rounds))
    heads = [_("round"), _("extract"), _("invited"), _("registered"), _("drawn on")]
    w = [max(len(h), 9) for h in heads]  # the headers are as long as their language makes them
    print(f"{heads[0]:<{width}}  {heads[1]:>{w[1]}}  {heads[2]:>{w[2]}}  {heads[3]:>{w[3]}}  {heads[4]}")
    for r in rounds:
        print(f"{printable(r.name):<{width}}  {r.extract_id:>{w[1]}}  {number(r.invited):>{w[2]}}  "
              f"{number(r.registered):>{w[3]}}  {moment(r.drawn_on, with_time=False)}")
    return 0


def _draw(engine, args: argparse.Namespace) -> int:
    from sampling.invitations import invite_round, parse_oversample, write_allocation_table

    bands, groups, min_age = strata_settings(engine, args)
    result = invite_round(engine, args.extract, args.size, args.seed,
                          strata=tuple(f.strip() for f in args.strata.split(",") if f.strip()),
                          age_bands=bands, groups=groups, oversample=parse_oversample(args.oversample),
                          min_age=min_age, round_name=args.round)
    table = write_allocation_table(engine, result, args.table) if args.table else None
    if args.json:
        print_json({"round": result.round, "invited": result.drawn, "table": str(table) if table else None,
                    "allocations": [{"stratum": list(a.stratum), "population": a.population,
                                     "candidates": a.candidates, "allocated": a.allocated, "drawn": a.drawn}
                                    for a in result.allocations]})
        return 0
    print(_("Round {printable!r}: {drawn} invitations with response codes, from extract {extract}.").format(printable=printable(result.round), drawn=number(result.drawn), extract=args.extract))
    print(_("  {population} people aged {min_age}+ in {count} strata; {candidates} could be invited (mailable, one per dwelling, not invited before).").format(population=number(result.population), min_age=min_age, count=number(len(result.allocations)), candidates=number(result.candidates)))
    from sampling.categories import feature_name, value_name

    for feature, counts in result.drawn_by_feature().items():
        print(f"  {feature_name(feature)}: " + ", ".join(
            f"{printable(value_name(feature, v)) if v else _('(unknown)')} {number(n)}" for v, n in counts if v or n))
    if table:
        print(_("The allocation of every stratum: {table}").format(table=table))
    else:
        print(_("For the allocation of every stratum add --table FILE.csv (or --json)."))
    print(_("Print the letters with: otos letters print --round {quote} --out kirjeet.pdf").format(quote=shlex.quote(result.round)))
    return 0
