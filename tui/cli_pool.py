"""``otos pool``: register volunteers, import a survey, list, show, edit, withdraw.
"""
from __future__ import annotations

import argparse
import json

from pool.display import printable
from tui.cli_common import confirm, pairs, print_json
from pool.i18n import _, number


def add_parser(sub) -> None:
    pool = sub.add_parser("pool", help=_("the resident pool")).add_subparsers(dest="action", metavar="ACTION", required=True)
    add = pool.add_parser("add", help=_("register a volunteer (by response code or by hand)"))
    add.add_argument("--code", help=_("response code from the invitation letter"))
    for f in ("first-names", "surname", "email", "phone", "street", "postal-code", "post-office",
              "birth-year", "sex", "mother-tongue", "municipality", "education", "needs"):
        add.add_argument(f"--{f}")
    add.add_argument("--language", dest="preferred_language", help=_("preferred language: fi, sv, en or se"))
    add.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE", help=_("self-reported attribute"))
    add.add_argument("--consent-version", required=True, help=_("version of the consent text agreed to"))
    add.add_argument("--json", action="store_true")
    pim = pool.add_parser("import", help=_("import volunteers from a registration-survey CSV"))
    pim.add_argument("file")
    pim.add_argument("--map", action="append", default=[], required=True, metavar="FIELD=COLUMN",
                     help=_("map a member field to a CSV column (repeat)"))
    pim.add_argument("--consent-version", required=True)
    pim.add_argument("--round", help=_("recruitment round for these members"))
    pim.add_argument("--delimiter", help=_("CSV delimiter (default: detected)"))
    pls = pool.add_parser("list", help=_("list pool members"))
    pls.add_argument("--search", default="")
    pls.add_argument("--status")
    pls.add_argument("--municipality")
    pls.add_argument("--language")
    pls.add_argument("--round")
    pls.add_argument("--limit", type=int, default=50)
    pls.add_argument("--offset", type=int, default=0)
    pls.add_argument("--json", action="store_true")
    shw = pool.add_parser("show", help=_("show one member"))
    shw.add_argument("id", type=int)
    shw.add_argument("--json", action="store_true")
    edt = pool.add_parser("edit", help=_("change a member's fields"))
    edt.add_argument("id", type=int)
    edt.add_argument("--set", action="append", default=[], required=True, metavar="FIELD=VALUE")
    wdr = pool.add_parser("withdraw", help=_("withdraw a member and erase their personal data"))
    wdr.add_argument("id", type=int)
    wdr.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))


SHOW_ORDER = ["id", "surname", "first_names", "birth_year", "sex", "municipality", "preferred_language", "email",
              "phone", "street", "postal_code", "post_office", "education", "needs", "status", "recruitment_round",
              "source", "consent_version", "consent_at", "joined_at", "panels_served", "participation", "extra"]


def run(engine, args: argparse.Namespace) -> int:
    from pool import members

    if args.action == "add":
        fields = {k: getattr(args, k.replace("-", "_")) for k in (
            "first_names", "surname", "email", "phone", "street", "postal_code", "post_office", "birth_year",
            "sex", "mother_tongue", "municipality", "education", "needs", "preferred_language")}
        fields = {k: v for k, v in fields.items() if v is not None}
        if args.extra:
            fields["extra"] = json.dumps(pairs(args.extra, "--extra"), ensure_ascii=False)
        if args.code:
            member_id = members.register_by_code(engine, args.code, fields, consent_version=args.consent_version)
        else:
            member_id = members.add_member(engine, fields, consent_version=args.consent_version)
        if args.json:
            print_json({"id": member_id})
        else:
            print(_("Registered pool member {member_id}.").format(member_id=member_id))
        return 0
    if args.action == "import":
        n = members.import_members(engine, args.file, pairs(args.map, "--map"), consent_version=args.consent_version,
                                   recruitment_round=args.round, delimiter=args.delimiter)
        print(_("Imported {n} pool member(s).").format(n=n))
        return 0
    if args.action == "list":
        q = members.MemberQuery(args.search, args.status, args.municipality, args.language, args.round)
        page = members.list_members(engine, q, offset=args.offset, limit=args.limit)
        if args.json:
            print_json([members.member_dict(m) for m in page])
            return 0
        total = members.count_members(engine, q)
        print(_("{value:>6}  {value2:<36} {value3:>4}  {value4:>3}  lang  status").format(value='id', value2='name', value3='born', value4='mun'))
        for m in page:
            name = printable(f"{m.surname}, {m.first_names}")
            name = name if len(name) <= 36 else name[:35] + "…"
            print(f"{m.id:>6}  {name:<36} {m.birth_year or '':>4}  {m.municipality or '':>3}  "
                  f"{m.preferred_language:<4}  {m.status}")
        print(_("{count} of {total} shown.").format(count=len(page), total=number(total)))
        return 0
    if args.action == "show":
        d = members.member_dict(members.get_member(engine, args.id))
        d["participation"] = members.participation(engine, args.id)
        if args.json:
            print_json(d)
        else:
            for k in sorted(d, key=lambda k: SHOW_ORDER.index(k) if k in SHOW_ORDER else len(SHOW_ORDER)):
                print(f"{k:>20}: {printable(d[k])}")
        return 0
    if args.action == "edit":
        members.update_member(engine, args.id, pairs(args.set, "--set"))
        print(_("Saved pool member {id}.").format(id=args.id))
        return 0
    if args.action == "withdraw":
        members.get_member(engine, args.id)
        confirm(_("Withdraw member {id} and erase their personal data for good?").format(id=args.id), args.yes)
        members.withdraw(engine, args.id)
        print(_("Member {id} withdrawn; their personal data is erased.").format(id=args.id))
        return 0
    return 1
