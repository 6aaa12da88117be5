"""``otos extract``: import DVV extracts, list them, their faults, purge.
"""
from __future__ import annotations

import argparse

from pool.display import printable
from tui.cli_common import confirm, date, print_json
from pool.i18n import _, number


def add_parser(sub) -> None:
    ext = sub.add_parser("extract", help=_("DVV extracts")).add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = ext.add_parser("import", help=_("import an extract file"))
    imp.add_argument("file")
    imp.add_argument("--permit", required=True, help=_("DVV permit number"))
    imp.add_argument("--purpose", required=True, help=_("what the extract is used for"))
    imp.add_argument("--delete-by", required=True, help=_("date the permit requires deletion, e.g. 31.12.2027"))
    imp.add_argument("--profile", default="dvv", help=_("import profile name or .toml path (default dvv)"))
    imp.add_argument("--encoding", help=_("override detection (utf-8, cp1252, latin-1)"))
    imp.add_argument("--strict", action="store_true", help=_("reject the whole file on any row fault"))
    imp.add_argument("--json", action="store_true")
    lst = ext.add_parser("list", help=_("list extracts"))
    lst.add_argument("--json", action="store_true")
    flt = ext.add_parser("faults", help=_("rows left out of an extract and why"))
    flt.add_argument("id", type=int)
    pur = ext.add_parser("purge", help=_("delete the register rows of everyone who did not join the pool"))
    pur.add_argument("id", type=int)
    pur.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
    ext.add_parser("profiles", help=_("list the shipped import profiles"))


def run(engine, args: argparse.Namespace) -> int:
    from pool import extract

    if args.action == "import":
        report = extract.import_extract(engine, args.file, permit=args.permit, purpose=args.purpose,
                                        delete_by=date(args.delete_by, "--delete-by"), profile=args.profile,
                                        encoding=args.encoding, strict=args.strict)
        if args.json:
            print_json({"id": report.extract_id, "file": report.file_name, "encoding": report.encoding,
                         "rows": report.rows_stored, "rejected": report.rows_rejected,
                         "mailable": report.rows_mailable, "turvakielto": report.turvakielto,
                         "deceased": report.deceased, "faults": [str(f) for f in report.faults]})
            return 0
        print(_("Imported. {summary}").format(summary=report.summary()))
        if report.rows_rejected:
            print(_("{rows_rejected} row(s) were left out:").format(rows_rejected=number(report.rows_rejected)))
            for f in report.faults[:200]:
                print(f"  {f}")
            if report.faults_total > 200:
                print(_("  ... see all with: otos extract faults {extract_id}").format(extract_id=report.extract_id))
        return 0
    if args.action == "list":
        rows = extract.list_extracts(engine)
        if args.json:
            print_json(rows)
            return 0
        if not rows:
            print(_("No extracts yet. Import one with: otos extract import FILE --permit P --purpose TEXT --delete-by DATE"))
        for e in rows:
            state = "purged" if e["purged"] else ("OVERDUE" if e["overdue"] else "")
            print(_("{id:>3}  {printable:<30} {rows:>9,} people  {rejected:>6,} rejected  permit {printable2}  delete by {delete_by}  {state}").format(id=e['id'], printable=printable(e['file']), rows=e['rows'], rejected=e['rejected'], printable2=printable(e['permit']), delete_by=e['delete_by'], state=state))
        return 0
    if args.action == "faults":
        faults = extract.faults_of(engine, args.id, limit=100_000)
        for f in faults:
            print(f)
        print(_("Extract {id}: {count} faulty row(s) left out.").format(id=args.id, count=number(len(faults))) if faults
              else _("Extract {id}: no faulty rows; every row was imported.").format(id=args.id))
        return 0
    if args.action == "purge":
        confirm(_("Purge extract {id}: delete the register data of everyone who did not join the pool?").format(id=args.id), args.yes)
        n = extract.purge(engine, args.id)
        print(_("Purged extract {id}: {n} register rows deleted; pool members keep their data.").format(id=args.id, n=number(n)))
        return 0
    if args.action == "profiles":
        from pool.profile import shipped_profiles

        print("\n".join(shipped_profiles()))
        return 0
    return 1
