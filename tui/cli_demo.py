"""``otos demo``: a demo workspace of generated people, opened in the app.
"""
from __future__ import annotations

import argparse
import os
import sys

from tui.cli_common import plain_streams
from pool.i18n import _, number

DEMO_DB = "otos-demo.db"


def add_parser(sub) -> None:
    demo = sub.add_parser("demo", help=_("build a demo workspace from generated people and open it"))
    demo.add_argument("--county", default="Keski-Suomi", help=_("county or region name (default Keski-Suomi)"))
    demo.add_argument("--rows", type=int, default=8000, help=_("people in the generated extract"))
    demo.add_argument("--fresh", action="store_true", help=_("rebuild the demo database from scratch"))
    demo.add_argument("--no-open", action="store_true", help=_("build only, do not open the app"))


def run(args: argparse.Namespace) -> int:
    from pool.db import database_url, open_database
    from sample_data.demo import build_demo, workspace_has_data

    given = args.db or os.environ.get("OTOS_DATABASE_URL") or DEMO_DB
    url = database_url(given)
    if args.fresh and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = url[len("sqlite:///"):]
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    engine = open_database(given)
    if workspace_has_data(engine):
        print(_("Opening the existing demo workspace ({given}); use --fresh to rebuild it.").format(given=given), file=sys.stderr)
    else:
        print(_("Building a demo workspace in {given} (generated people only) ...").format(given=given), file=sys.stderr)
        made = build_demo(engine, county=args.county, rows=args.rows)
        print(_("Imported {people} people, sent {invitations} invitations, {volunteers} volunteers joined the pool.").format(people=number(made['people']), invitations=number(made['invitations']), volunteers=made['volunteers']), file=sys.stderr)
    example = None
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        from pathlib import Path

        from sample_data.demo import write_demo_votes

        example = Path(url[len("sqlite:///"):]).with_name("otos-demo-mielipiteet")
        if args.fresh or not (example / "votes.csv").is_file():
            write_demo_votes(engine, example)
    if not args.no_open:
        from tui.app import OtosApp

        with plain_streams():
            OtosApp(engine, opinions_example=example).run()
    return 0
