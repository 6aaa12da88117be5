"""``otos audit``: verify the hash chain, print its anchor, list entries.
"""
from __future__ import annotations

import argparse
import json
import sys

from pool.display import printable
from tui.cli_common import print_json
from pool.i18n import _


def add_parser(sub) -> None:
    aud = sub.add_parser("audit", help=_("the audit log")).add_subparsers(dest="action", metavar="ACTION", required=True)
    av = aud.add_parser("verify", help=_("check the hash chain (and, with --anchor, that nothing up to it changed)"))
    av.add_argument("--anchor", help=_("an anchor printed earlier by otos audit anchor (COUNT:HASH)"))
    aud.add_parser("anchor", help=_("print the log's anchor, to file outside the database"))
    al = aud.add_parser("list", help=_("newest entries"))
    al.add_argument("--limit", type=int, default=30)
    al.add_argument("--json", action="store_true")


def run(engine, args: argparse.Namespace) -> int:
    from pool import audit

    if args.action == "verify":
        r = audit.verify(engine, anchor=args.anchor)
        if r.ok:
            print(_("The audit log is intact: {entries} entries, hash chain verified").format(entries=r.entries)
                  + (_(" up to and past the anchor") if args.anchor else "") + "."
                  + (_(" The first {unkeyed} entries predate keyed hashes (Otos before migration 0005).").format(unkeyed=r.unkeyed)
                     if r.unkeyed else ""))
            return 0
        where = _("at entry {broken_at}").format(broken_at=r.broken_at) if r.broken_at else _("at its end")
        print(_("otos: the audit log has been tampered with {where}: {reason}.").format(where=where, reason=r.reason), file=sys.stderr)
        return 1
    if args.action == "anchor":
        print(_("File this anchor outside Otos (e.g. in the case file); check later with otos audit verify --anchor ANCHOR. Anchor: {anchor}").format(anchor=audit.anchor(engine)))
        return 0
    rows = audit.entries(engine, args.limit)
    if args.json:
        print_json([{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action,
                      "details": json.loads(e.details), "hash": e.hash} for e in rows])
    else:
        for e in rows:
            print(f"{e.id:>5}  {e.at}  {printable(e.actor):<12} {e.action:<18} {printable(e.details)}")
    return 0
