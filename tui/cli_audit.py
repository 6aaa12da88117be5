"""``otos audit``: verify the hash chain, print its anchor, list entries.
"""
from __future__ import annotations

import argparse
import json
import sys

from pool.display import printable
from tui.cli_common import print_json


def add_parser(sub) -> None:
    aud = sub.add_parser("audit", help="the audit log").add_subparsers(dest="action", metavar="ACTION", required=True)
    av = aud.add_parser("verify", help="check the hash chain (and, with --anchor, that nothing up to it changed)")
    av.add_argument("--anchor", help="an anchor printed earlier by otos audit anchor (COUNT:HASH)")
    aud.add_parser("anchor", help="print the log's anchor, to file outside the database")
    al = aud.add_parser("list", help="newest entries")
    al.add_argument("--limit", type=int, default=30)
    al.add_argument("--json", action="store_true")


def run(engine, args: argparse.Namespace) -> int:
    from pool import audit

    if args.action == "verify":
        r = audit.verify(engine, anchor=args.anchor)
        if r.ok:
            print(f"The audit log is intact: {r.entries} entries, hash chain verified"
                  + (" up to and past the anchor" if args.anchor else "") + "."
                  + (f" The first {r.unkeyed} entries predate keyed hashes (Otos before migration 0005)."
                     if r.unkeyed else ""))
            return 0
        where = f"at entry {r.broken_at}" if r.broken_at else "at its end"
        print(f"otos: the audit log has been tampered with {where}: {r.reason}.", file=sys.stderr)
        return 1
    if args.action == "anchor":
        print(f"File this anchor outside Otos (e.g. in the case file); check later with "
              f"otos audit verify --anchor ANCHOR. Anchor: {audit.anchor(engine)}")
        return 0
    rows = audit.entries(engine, args.limit)
    if args.json:
        print_json([{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action,
                      "details": json.loads(e.details), "hash": e.hash} for e in rows])
    else:
        for e in rows:
            print(f"{e.id:>5}  {e.at}  {printable(e.actor):<12} {e.action:<18} {printable(e.details)}")
    return 0
