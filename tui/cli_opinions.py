"""``otos opinions``: opinion groups from a Polis export or an Otos votes CSV.
"""
from __future__ import annotations

import argparse
import json
import sys
from pool.i18n import _


def add_parser(sub) -> None:
    opi = sub.add_parser("opinions", help=_("opinion groups, consensus and divisive statements from votes (Polis export or Otos votes CSV)")).add_subparsers(
        dest="action", metavar="ACTION", required=True)
    for name, help_ in (("analyze", _("find the opinion groups and print them")),
                        ("report", _("write the opinion summary as a PDF, with CSV tables beside it"))):
        op = opi.add_parser(name, help=help_)
        src = op.add_mutually_exclusive_group(required=True)
        src.add_argument("--polis", metavar="DIR", help=_("a Polis export folder (participants-votes.csv, comments.csv)"))
        src.add_argument("--votes", metavar="FILE", help=_("Otos votes CSV: participant, statement, vote[, time]"))
        op.add_argument("--statements", metavar="FILE", help=_("with --votes: statement, text[, moderated]"))
        op.add_argument("--participants", metavar="FILE",
                        help=_("participant, and member (pool member id) and/or strata columns such as role"))
        op.add_argument("--population", metavar="FILE", help=_("population margins: feature, value, share (or count)"))
        op.add_argument("--panel", type=int, metavar="ID",
                        help=_("strata of linked pool members by this panel's quota categories and its population shares (default: age band, sex, language, municipality, weighted by the newest extract; both use the workspace database)"))
        op.add_argument("--seed", default="otos", help=_("fixes the groups (default otos)"))
        op.add_argument("--min-group-size", type=int, default=3, help=_("smallest allowed group (default 3)"))
        op.add_argument("--stability", type=int, default=5, metavar="N",
                        help=_("random halves of the statements to repeat the calculation on, to report how stable the groups are (default 5; 0 = off)"))
        if name == "analyze":
            op.add_argument("--json", action="store_true", help=_("print one JSON object"))
        else:
            op.add_argument("--out", required=True, help=_("the PDF to write"))
    cmp = opi.add_parser("compare", help=_("compare how several audiences (e.g. residents, staff, the panel) answered the same statements"))
    cmp.add_argument("--polis", action="append", required=True, metavar="DIR",
                     help=_("a Polis export folder, once per audience, each followed by its --label"))
    cmp.add_argument("--label", action="append", required=True, metavar="NAME", help=_("the audience's name"))
    cmp.add_argument("--mapping", metavar="FILE",
                     help=_("pairs statements by id when the wording differs: a column per label, a row per statement"))
    cmp.add_argument("--weight", metavar="NAME",
                     help=_("weight this audience to the population (with --participants and --population or --panel)"))
    cmp.add_argument("--participants", metavar="FILE",
                     help=_("the weighted audience's participants: participant, and member and/or strata columns"))
    cmp.add_argument("--population", metavar="FILE", help=_("population margins: feature, value, share (or count)"))
    cmp.add_argument("--panel", type=int, metavar="ID", help=_("the panel the weighted audience was drawn as: its members' strata and population shares"))
    cmp.add_argument("--json", action="store_true", help=_("print one JSON object"))
    cmp.add_argument("--out", metavar="FILE", help=_("write the comparison as a PDF for decision-makers"))


def run(args: argparse.Namespace) -> int:
    if args.action == "compare":
        return run_compare(args)
    from opinions.analysis import analyze
    from opinions.data import read_polis_export, read_votes_csv
    from pool.errors import OtosError

    if args.min_group_size < 1 or args.stability < 0:
        raise OtosError(_("--min-group-size must be at least 1 and --stability at least 0."))
    if args.statements and not args.votes:
        raise OtosError(_("--statements goes with --votes."))
    conv = read_polis_export(args.polis) if args.polis else read_votes_csv(args.votes, args.statements)
    if not any(conv.texts.values()):
        print(_("No statement texts: statements are named by number. Give them with --statements FILE (statement, text) or put statements.csv beside the votes."), file=sys.stderr)
    strata = _opinion_strata(args)
    result = analyze(conv, args.seed, min_group_size=args.min_group_size, restarts=args.stability)
    if args.action == "analyze":
        if args.json:
            from opinions.summary import to_json

            obj = to_json(result)
            if strata is not None:
                from opinions.report import STRATA_COLUMNS, WEIGHTED_COLUMNS, strata_rows

                comparison, weighted = strata_rows(result, strata)
                obj["strata"] = [dict(zip(STRATA_COLUMNS, r)) for r in comparison]
                obj["weighted"] = [dict(zip(WEIGHTED_COLUMNS, r)) for r in weighted]
            print(json.dumps(obj, ensure_ascii=False))
        else:
            from opinions.summary import text_summary

            print("\n".join(text_summary(result)))
            if strata is not None:
                print(_("\nStrata: ") + ", ".join(strata.features) + _(" (tables: otos opinions report, or --json)"))
        return 0
    from opinions.report import write_report

    written = write_report(result, args.out, strata)
    print(_("Wrote {join}.").format(join=', '.join(str(p) for p in written)))
    return 0

def _opinion_strata(args: argparse.Namespace):
    """The participants' strata and population shares the options ask for, or None."""
    from pool.errors import OtosError

    if not args.participants:
        if args.population or args.panel:
            raise OtosError(_("--population and --panel need --participants (who is who)."))
        return None
    from opinions.strata import Strata, from_panel, read_participants, read_population

    own, members = read_participants(args.participants)
    strata = Strata(own, {})
    if args.panel is not None:
        from pool.db import open_database

        linked = from_panel(open_database(args.db), args.panel, members)
        for pid, values in linked.of.items():
            strata.of.setdefault(pid, {}).update(values)
        strata.population.update(linked.population)
    elif members:  # the pool's own strata, weighted by the newest extract
        from opinions.strata import from_pool
        from pool.db import open_database

        linked = from_pool(open_database(args.db), members)
        for pid, values in linked.of.items():
            strata.of.setdefault(pid, {}).update(values)
        strata.population.update(linked.population)
    if args.population:
        strata.population.update(read_population(args.population))
    return strata


def run_compare(args: argparse.Namespace) -> int:
    """``otos opinions compare``: parse, call opinions.compare, print or write."""
    from opinions.compare import check_weighted, compare_exports, to_json
    from pool.errors import OtosError

    if len(args.polis) != len(args.label):
        raise OtosError(_("Give one --label for each --polis folder ({folders} folders, {labels} labels).").format(
            folders=len(args.polis), labels=len(args.label)))
    check_weighted(args.label, args.weight)
    if args.weight is None and (args.participants or args.population or args.panel is not None):
        raise OtosError(_("--participants, --population and --panel go with --weight NAME (the audience to weight)."))
    if args.weight is not None and (not args.participants or not (args.population or args.panel is not None)):
        raise OtosError(_("--weight needs --participants and the population: --population FILE or --panel ID."))
    strata = _opinion_strata(args) if args.weight is not None else None
    result, audiences = compare_exports(list(zip(args.label, args.polis)), args.mapping, args.weight, strata)
    if args.json:
        print(json.dumps(to_json(result), ensure_ascii=False))
    else:
        from opinions.compare_report import text_summary

        print("\n".join(text_summary(result, audiences)))
    if args.out:
        from opinions.compare_report import write_comparison

        print(_("Wrote {join}.").format(join=", ".join(str(p) for p in write_comparison(result, audiences, args.out))),
              file=sys.stderr if args.json else sys.stdout)
    return 0
