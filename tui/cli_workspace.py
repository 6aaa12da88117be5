"""``otos workspace``: the county this database serves and what its letters say.

One module per command group: it parses, calls ``pool.workspace`` and prints. The
domain is imported when the command runs, so other commands stay lean.
"""
from __future__ import annotations

import argparse
import json

from pool.display import printable
from pool.i18n import _


def add_parser(sub) -> None:
    ws = sub.add_parser("workspace", help=_("the county and letter settings of this workspace")).add_subparsers(
        dest="action", metavar="ACTION", required=True)
    init = ws.add_parser("init", help=_("start the workspace for a county, with defaults for every setting"))
    init.add_argument("--county", required=True, help=_("e.g. Lappi, Lapin hyvinvointialue or Lapplands välfärdsområde"))
    show = ws.add_parser("show", help=_("every setting, and what letters still need"))
    show.add_argument("--json", action="store_true", help=_("print one JSON object"))
    st = ws.add_parser("set", help=_("change one setting (otos workspace show lists them)"))
    st.add_argument("key", help=_("e.g. phone, register_url, sender, topic.fi, compensation.sv, age_bands"))
    st.add_argument("value", help=_("the new value; sender and signature lines are separated by |; logo: a PNG or SVG file"))


def run(engine, args: argparse.Namespace) -> int:
    from pool import workspace

    if args.action == "init":
        ws = workspace.init(engine, args.county)
        print(_("The workspace serves {county_name} ({county_name2}).").format(county_name=ws.county_name('fi'), county_name2=ws.county_name('sv')))
        _missing(ws)
        return 0
    if args.action == "set":
        workspace.set_value(engine, args.key, args.value)
        print(_("Saved {key}.").format(key=args.key))
        if args.key == "language":
            print(_("Otos speaks the new language when it is started again."))
        _missing(workspace.load(engine))
        return 0
    ws = workspace.load(engine)
    if args.json:
        print(json.dumps(ws.public() | {"missing": ws.missing()}, ensure_ascii=False, indent=2))
        return 0
    rows = workspace.describe(ws)
    width = max(len(row.key) for row in rows)
    for row in rows:
        print(f"{row.key:<{width}}  {printable(row.text) or '-'}")
        print(f"{'':<{width}}  {row.label}: {row.meaning}")
    _missing(ws)
    return 0


def _missing(ws) -> None:
    missing = ws.missing()
    if missing:
        print(_("Before letters can be printed, set: ") + ", ".join(missing)
              + _(" (e.g. otos workspace set phone '040 123 4567'; otos workspace set register_url https://...)."))
    else:
        print(_("Letters have every setting they need."))
