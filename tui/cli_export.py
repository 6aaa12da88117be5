"""``otos export`` and ``otos report``: rosters, composition, call list, representativeness.
"""
from __future__ import annotations

import argparse
from pool.i18n import _


def add_parser(sub) -> None:
    exp = sub.add_parser("export", help=_("rosters, composition table, call list")).add_subparsers(
        dest="action", metavar="ACTION", required=True)
    er = exp.add_parser("roster", help=_("a panel's roster for facilitators (contact details)"))
    er.add_argument("--panel", type=int, required=True)
    er.add_argument("--format", choices=["csv", "xlsx", "pdf"],
                    help=_("csv, xlsx or pdf (default: from the --out file's ending, else csv)"))
    er.add_argument("--out", required=True)
    ec = exp.add_parser("composition", help=_("anonymised composition of a panel, for publication"))
    ec.add_argument("--panel", type=int, required=True)
    ec.add_argument("--out", required=True)
    el = exp.add_parser("calls", help=_("call list: active members with a phone but no e-mail"))
    el.add_argument("--out", required=True)
    ev = exp.add_parser("reserves", help=_("a panel's reserves to call when a member drops out, in call order"))
    ev.add_argument("--panel", type=int, required=True)
    ev.add_argument("--out", required=True)

    rep = sub.add_parser("report", help=_("how representative a panel is: population, invited, volunteers, panel"))
    rep.add_argument("--panel", type=int, required=True)
    rep.add_argument("--out", help=_("FILE.pdf with bar charts (without it, a table in the terminal)"))


def run_export(engine, args: argparse.Namespace) -> int:
    from letters import exports

    if args.action == "roster":
        ending = str(args.out).lower().rsplit(".", 1)[-1]
        fmt = args.format or (ending if ending in ("csv", "xlsx", "pdf") else "csv")
        n = exports.export_roster(engine, args.panel, args.out, fmt)
        print(_("Wrote the roster of panel {panel} ({n} seats) to {out} (owner-only: contact details).").format(panel=args.panel, n=n, out=args.out))
    elif args.action == "composition":
        n = exports.export_composition(engine, args.panel, args.out)
        print(_("Wrote the composition of panel {panel} ({n} categories, no personal data) to {out}.").format(panel=args.panel, n=n, out=args.out))
    elif args.action == "reserves":
        n = exports.export_reserve_calls(engine, args.panel, args.out)
        print(_("Wrote the {n} reserves of panel {panel}, seat by seat in call order, to {out} (owner-only: contact details).").format(n=n, panel=args.panel, out=args.out))
    else:
        n = exports.export_call_list(engine, args.out)
        print(_("Wrote {n} members to call to {out} (owner-only).").format(n=n, out=args.out))
    return 0

def run_report(engine, args: argparse.Namespace) -> int:
    from letters.report import build_report, format_table, write_pdf

    report = build_report(engine, args.panel)
    if args.out:
        write_pdf(engine, report, args.out)
        print(_("Wrote the representativeness report of panel {panel} to {out}.").format(panel=args.panel, out=args.out))
    else:
        print(format_table(report))
    return 0
