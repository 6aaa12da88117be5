"""The ``otos`` command line: a thin face over the domain packages.

Imports stay lean (argparse only at the top) so the command starts fast; each command
imports what it needs. Errors a user can cause are printed as one paragraph, never as
a traceback, and the exit status is non-zero.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from typing import Any

from pool.display import printable
from tui import cli_workspace

EXIT_REJECTED = 2
DEMO_DB = "otos-demo.db"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="otos", description="Fair, representative resident panels.")
    ap.add_argument("--db", help="database: an SQLite file path or an SQLAlchemy URL "
                                 "(default: $OTOS_DATABASE_URL, else otos.db in this folder)")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("tui", help="open the terminal app (the default)")
    demo = sub.add_parser("demo", help="build a demo workspace from generated people and open it")
    demo.add_argument("--county", default="Keski-Suomi", help="county or region name (default Keski-Suomi)")
    demo.add_argument("--rows", type=int, default=8000, help="people in the generated extract")
    demo.add_argument("--fresh", action="store_true", help="rebuild the demo database from scratch")
    demo.add_argument("--no-open", action="store_true", help="build only, do not open the app")

    ext = sub.add_parser("extract", help="DVV extracts").add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = ext.add_parser("import", help="import an extract file")
    imp.add_argument("file")
    imp.add_argument("--permit", required=True, help="DVV permit number")
    imp.add_argument("--purpose", required=True, help="what the extract is used for")
    imp.add_argument("--delete-by", required=True, help="date the permit requires deletion, YYYY-MM-DD")
    imp.add_argument("--profile", default="dvv", help="import profile name or .toml path (default dvv)")
    imp.add_argument("--encoding", help="override detection (utf-8, cp1252, latin-1)")
    imp.add_argument("--strict", action="store_true", help="reject the whole file on any row fault")
    imp.add_argument("--json", action="store_true")
    lst = ext.add_parser("list", help="list extracts")
    lst.add_argument("--json", action="store_true")
    flt = ext.add_parser("faults", help="rows left out of an extract and why")
    flt.add_argument("id", type=int)
    pur = ext.add_parser("purge", help="delete the register rows of everyone who did not join the pool")
    pur.add_argument("id", type=int)
    pur.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    ext.add_parser("profiles", help="list the shipped import profiles")

    pool = sub.add_parser("pool", help="the resident pool").add_subparsers(dest="action", metavar="ACTION", required=True)
    add = pool.add_parser("add", help="register a volunteer (by response code or by hand)")
    add.add_argument("--code", help="response code from the invitation letter")
    for f in ("first-names", "surname", "email", "phone", "street", "postal-code", "post-office",
              "birth-year", "sex", "mother-tongue", "municipality", "education", "needs"):
        add.add_argument(f"--{f}")
    add.add_argument("--language", dest="preferred_language", help="preferred language: fi, sv, en or se")
    add.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE", help="self-reported attribute")
    add.add_argument("--consent-version", required=True, help="version of the consent text agreed to")
    add.add_argument("--json", action="store_true")
    pim = pool.add_parser("import", help="import volunteers from a registration-survey CSV")
    pim.add_argument("file")
    pim.add_argument("--map", action="append", default=[], required=True, metavar="FIELD=COLUMN",
                     help="map a member field to a CSV column (repeat)")
    pim.add_argument("--consent-version", required=True)
    pim.add_argument("--round", help="recruitment round for these members")
    pim.add_argument("--delimiter", help="CSV delimiter (default: detected)")
    pls = pool.add_parser("list", help="list pool members")
    pls.add_argument("--search", default="")
    pls.add_argument("--status")
    pls.add_argument("--municipality")
    pls.add_argument("--language")
    pls.add_argument("--round")
    pls.add_argument("--limit", type=int, default=50)
    pls.add_argument("--offset", type=int, default=0)
    pls.add_argument("--json", action="store_true")
    shw = pool.add_parser("show", help="show one member")
    shw.add_argument("id", type=int)
    shw.add_argument("--json", action="store_true")
    edt = pool.add_parser("edit", help="change a member's fields")
    edt.add_argument("id", type=int)
    edt.add_argument("--set", action="append", default=[], required=True, metavar="FIELD=VALUE")
    wdr = pool.add_parser("withdraw", help="withdraw a member and erase their personal data")
    wdr.add_argument("id", type=int)
    wdr.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    inv = sub.add_parser("invite", help="stage 1: the invitation sample").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    idr = inv.add_parser("draw", help="draw a stratified invitation sample from an extract")
    idr.add_argument("--extract", type=int, required=True)
    idr.add_argument("--size", type=int, required=True, help="number of invitations")
    idr.add_argument("--seed", required=True)
    idr.add_argument("--strata", default="age,sex,language,municipality",
                     help="comma-separated strata (default age,sex,language,municipality)")
    idr.add_argument("--oversample", action="append", default=[], metavar="FEATURE=VALUE:FACTOR",
                     help="e.g. age=18-29:1.5 (repeat)")
    idr.add_argument("--min-age", type=int, help="default: the workspace's min_age")
    idr.add_argument("--age-bands", help="age cut points (default: the workspace's age_bands)")
    idr.add_argument("--min-population", type=int,
                     help="municipalities smaller than this form the group 'muut' "
                          "(default: the workspace's municipalities_alone)")
    idr.add_argument("--round", help="name of the recruitment round")
    idr.add_argument("--json", action="store_true")

    let = sub.add_parser("letters", help="invitation letters").add_subparsers(dest="action", metavar="ACTION",
                                                                             required=True)
    lp = let.add_parser("print", help="write a round's letters as one print-ready PDF, and its mailing list")
    lp.add_argument("--round", required=True, help="the recruitment round of the invitations")
    lp.add_argument("--out", required=True, help="FILE.pdf (the mailing list goes beside it as FILE.csv)")
    lp.add_argument("--reminder", action="store_true", help="only those who have not answered")
    lp.add_argument("--topic", help="the panel topic in Finnish letters (default: the workspace's topic.fi)")
    lp.add_argument("--topic-sv", help="the topic in Swedish letters (default: the workspace's topic.sv)")
    lp.add_argument("--topic-en", help="the topic in English letters (default: the workspace's topic.en)")
    lp.add_argument("--reply-by", help="last day to answer (default: three weeks from today)")
    lp.add_argument("--templates", help="folder of letter templates (fi.txt ...) to use instead of the shipped ones")

    exp = sub.add_parser("export", help="rosters, composition table, call list").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    er = exp.add_parser("roster", help="a panel's roster for facilitators (contact details)")
    er.add_argument("--panel", type=int, required=True)
    er.add_argument("--format", choices=["csv", "xlsx", "pdf"], default="csv")
    er.add_argument("--out", required=True)
    ec = exp.add_parser("composition", help="anonymised composition of a panel, for publication")
    ec.add_argument("--panel", type=int, required=True)
    ec.add_argument("--out", required=True)
    el = exp.add_parser("calls", help="call list: active members with a phone but no e-mail")
    el.add_argument("--out", required=True)

    rep = sub.add_parser("report", help="how representative a panel is: population, invited, volunteers, panel")
    rep.add_argument("--panel", type=int, required=True)
    rep.add_argument("--out", help="FILE.pdf with bar charts (without it, a table in the terminal)")

    pan = sub.add_parser("panel", help="panels drawn from the pool").add_subparsers(dest="action", metavar="ACTION",
                                                                                    required=True)
    pq = pan.add_parser("quotas", help="write quotas (features.csv) from population margins")
    pq.add_argument("--size", type=int, required=True, help="panel size")
    src = pq.add_mutually_exclusive_group(required=True)
    src.add_argument("--extract", type=int, help="take margins from this (full-population) extract")
    src.add_argument("--margins", help="margins CSV in the layout of Statistics Finland table 11rl")
    pq.add_argument("--features", default="age,sex,language,municipality",
                    help="comma-separated: age, sex, language, municipality (default all four)")
    pq.add_argument("--age-bands", help="age cut points (default: the workspace's age_bands)")
    pq.add_argument("--min-population", type=int,
                    help="municipalities smaller than this form the group 'muut' "
                         "(default: the workspace's municipalities_alone)")
    pq.add_argument("--tolerance", type=int, default=1, help="seats either side of each target (default 1)")
    pq.add_argument("--out", required=True, help="features.csv to write")
    pd_ = pan.add_parser("draw", help="draw a panel from the active pool")
    pd_.add_argument("--size", type=int, required=True)
    pd_.add_argument("--quotas", required=True, help="features.csv: feature,value,min,max")
    pd_.add_argument("--seed", required=True, help="the public seed of the lottery")
    pd_.add_argument("--round", help="only members of this recruitment round")
    pd_.add_argument("--fixed", default="", help="member ids already seated, comma-separated")
    pd_.add_argument("--method", default="leximin", choices=["leximin", "legacy"])
    pd_.add_argument("--json", action="store_true")
    pv = pan.add_parser("verify", help="recompute a recorded draw and compare")
    pv.add_argument("id", type=int)
    pr = pan.add_parser("replace", help="draw a replacement for a member who dropped out")
    pr.add_argument("id", type=int)
    pr.add_argument("member", type=int)
    pe = pan.add_parser("export", help="write the pool as people.csv for sortition-algorithms and similar tools")
    pe.add_argument("--quotas", required=True, help="features.csv whose features the columns follow")
    pe.add_argument("--out", required=True, help="people.csv to write (member id, one column per feature, household)")
    pe.add_argument("--round", help="only members of this recruitment round")
    pan.add_parser("list", help="list drawn panels")
    ps = pan.add_parser("show", help="seats of a panel")
    ps.add_argument("id", type=int)
    ps.add_argument("--all", action="store_true", help="every volunteer's selection probability, not only the seats")
    ps.add_argument("--json", action="store_true")

    sel = sub.add_parser("select", help="run the fair lottery on features.csv / people.csv files (no workspace)")
    sel.add_argument("--features", required=True, help="features.csv: feature,value,min,max")
    sel.add_argument("--people", required=True, help="people.csv: id, one column per feature")
    sel.add_argument("--size", type=int, required=True, help="panel size")
    sel.add_argument("--seed", required=True, help="the public seed of the lottery")
    sel.add_argument("--household", help="column that names each person's household")
    sel.add_argument("--method", default="leximin", choices=["leximin", "legacy"],
                     help="leximin (fair, the default) or legacy (greedy, less fair; for comparison)")
    sel.add_argument("--json", action="store_true", help="print one JSON object")

    opi = sub.add_parser("opinions", help="opinion groups, consensus and divisive statements from votes "
                                          "(Polis export or Otos votes CSV)").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    for name, help_ in (("analyze", "find the opinion groups and print them"),
                        ("report", "write the opinion summary as a PDF, with CSV tables beside it")):
        op = opi.add_parser(name, help=help_)
        src = op.add_mutually_exclusive_group(required=True)
        src.add_argument("--polis", metavar="DIR", help="a Polis export folder (participants-votes.csv, comments.csv)")
        src.add_argument("--votes", metavar="FILE", help="Otos votes CSV: participant, statement, vote[, time]")
        op.add_argument("--statements", metavar="FILE", help="with --votes: statement, text[, moderated]")
        op.add_argument("--participants", metavar="FILE",
                        help="participant, and member (pool member id) and/or strata columns such as role")
        op.add_argument("--population", metavar="FILE", help="population margins: feature, value, share (or count)")
        op.add_argument("--panel", type=int, metavar="ID",
                        help="strata of linked pool members by this panel's quota categories and its population "
                             "shares (default: age band, sex, language, municipality, weighted by the newest "
                             "extract; both use the workspace database)")
        op.add_argument("--seed", default="otos", help="fixes the groups (default otos)")
        op.add_argument("--min-group-size", type=int, default=3, help="smallest allowed group (default 3)")
        op.add_argument("--stability", type=int, default=5, metavar="N",
                        help="reruns with other seeds and bootstrap resamples to report stability (default 5; 0 = off)")
        if name == "analyze":
            op.add_argument("--json", action="store_true", help="print one JSON object")
        else:
            op.add_argument("--out", required=True, help="the PDF to write")

    cli_workspace.add_parser(sub)

    aud = sub.add_parser("audit", help="the audit log").add_subparsers(dest="action", metavar="ACTION", required=True)
    av = aud.add_parser("verify", help="check the hash chain (and, with --anchor, that nothing up to it changed)")
    av.add_argument("--anchor", help="an anchor printed earlier by otos audit anchor (COUNT:HASH)")
    aud.add_parser("anchor", help="print the log's anchor, to file outside the database")
    al = aud.add_parser("list", help="newest entries")
    al.add_argument("--limit", type=int, default=30)
    al.add_argument("--json", action="store_true")
    return ap


def _confirm(question: str, yes: bool) -> None:
    from pool.errors import OtosError

    if yes:
        return
    if not sys.stdin.isatty():
        raise OtosError(f"{question} needs confirmation.", hint="Add --yes to confirm.")
    if input(f"{question} Type yes to go on: ").strip().lower() not in ("yes", "y", "kyllä", "k"):
        raise OtosError("Nothing was changed.")


def _pairs(items: list[str], what: str) -> dict[str, str]:
    from pool.errors import OtosError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise OtosError(f"{what} {item!r} must look like NAME=VALUE.")
        out[key.strip().replace("-", "_")] = value
    return out


def _date(text: str, option: str):
    import datetime as dt

    from pool.errors import OtosError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OtosError(f"{option} {text!r} is not a date.", hint="Write it as YYYY-MM-DD.") from None


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _warn_overdue(engine) -> None:
    from pool.extract import overdue

    for e in overdue(engine):
        print(f"otos: warning: extract {e['id']} ({e['file']}) is past its delete-by date {e['delete_by']}; "
              f"purge it with: otos extract purge {e['id']}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return _demo(args)
    if args.command == "select":
        return _select(args)
    if args.command == "opinions":  # no database: keep it a quick process
        return _opinions(args)
    from pool.db import open_database

    engine = open_database(args.db)
    if args.command in (None, "tui"):
        from tui.app import OtosApp

        with _plain_streams():
            OtosApp(engine).run()
        return 0
    if not getattr(args, "json", False):
        _warn_overdue(engine)
    return {"extract": _extract, "pool": _pool, "audit": _audit, "panel": _panel, "workspace": cli_workspace.run,
            "invite": _invite, "letters": _letters, "export": _export,
            "report": _report}[args.command](engine, args)


def _opinions(args: argparse.Namespace) -> int:
    from opinions.analysis import analyze
    from opinions.data import read_polis_export, read_votes_csv
    from pool.errors import OtosError

    if args.min_group_size < 1 or args.stability < 0:
        raise OtosError("--min-group-size must be at least 1 and --stability at least 0.")
    if args.statements and not args.votes:
        raise OtosError("--statements goes with --votes.")
    conv = read_polis_export(args.polis) if args.polis else read_votes_csv(args.votes, args.statements)
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
                print("\nStrata: " + ", ".join(strata.features) + " (tables: otos opinions report, or --json)")
        return 0
    from opinions.report import write_report

    written = write_report(result, args.out, strata)
    print(f"Wrote {', '.join(str(p) for p in written)}.")
    return 0


def _opinion_strata(args: argparse.Namespace):
    """The participants' strata and population shares the options ask for, or None."""
    from pool.errors import OtosError

    if not args.participants:
        if args.population or args.panel:
            raise OtosError("--population and --panel need --participants (who is who).")
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


def _demo(args: argparse.Namespace) -> int:
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
        print(f"Opening the existing demo workspace ({given}); use --fresh to rebuild it.", file=sys.stderr)
    else:
        print(f"Building a demo workspace in {given} (generated people only) ...", file=sys.stderr)
        made = build_demo(engine, county=args.county, rows=args.rows)
        print(f"Imported {made['people']:,} people, sent {made['invitations']:,} invitations, "
              f"{made['volunteers']} volunteers joined the pool.", file=sys.stderr)
    example = None
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        from pathlib import Path

        from sample_data.demo import write_demo_votes

        example = Path(url[len("sqlite:///"):]).with_name("otos-demo-mielipiteet")
        if args.fresh or not (example / "votes.csv").is_file():
            write_demo_votes(engine, example)
    if not args.no_open:
        from tui.app import OtosApp

        with _plain_streams():
            OtosApp(engine, opinions_example=example).run()
    return 0


def _ints(text: str, option: str) -> tuple[int, ...]:
    from pool.errors import OtosError

    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise OtosError(f"{option} {text!r} must be whole numbers separated by commas.") from None


def _report(engine, args: argparse.Namespace) -> int:
    from letters.report import build_report, format_table, write_pdf

    report = build_report(engine, args.panel)
    if args.out:
        write_pdf(engine, report, args.out)
        print(f"Wrote the representativeness report of panel {args.panel} to {args.out}.")
    else:
        print(format_table(report))
    return 0


def _export(engine, args: argparse.Namespace) -> int:
    from letters import exports

    if args.action == "roster":
        n = exports.export_roster(engine, args.panel, args.out, args.format)
        print(f"Wrote the roster of panel {args.panel} ({n} seats) to {args.out} (owner-only: contact details).")
    elif args.action == "composition":
        n = exports.export_composition(engine, args.panel, args.out)
        print(f"Wrote the composition of panel {args.panel} ({n} categories, no personal data) to {args.out}.")
    else:
        n = exports.export_call_list(engine, args.out)
        print(f"Wrote {n} members to call to {args.out} (owner-only).")
    return 0


def _letters(engine, args: argparse.Namespace) -> int:
    from letters.batch import LetterSettings, print_round

    topic = {lang: text for lang, text in (("fi", args.topic), ("sv", args.topic_sv), ("en", args.topic_en)) if text}
    settings = LetterSettings.from_workspace(engine, topic=topic, templates=args.templates,
                                             reply_by=args.reply_by or "")
    report = print_round(engine, args.round, args.out, settings, reminder=args.reminder)
    print(f"Wrote {report.letters:,} letters to {report.pdf} and the mailing list to {report.mailing_list} "
          "(owner-only files: they hold personal data).")
    for reason, n in report.left_out.items():
        print(f"  left out: {n} ({reason})")
    for problem in report.problems:
        print(f"  {problem}")
    return 0


def _strata_settings(engine, args: argparse.Namespace) -> tuple[tuple[int, ...], dict[str, str], int]:
    """(age bands, municipality groups, minimum age): the workspace's, unless the
    command line gives them."""
    from pool import workspace
    from sampling.categories import suggested_municipality_groups

    ws = workspace.load(engine)
    bands = _ints(args.age_bands, "--age-bands") if args.age_bands else tuple(ws["age_bands"])
    groups = (suggested_municipality_groups(ws.county, args.min_population) if args.min_population
              else ws.municipality_groups())
    min_age = getattr(args, "min_age", None)
    return bands, groups, ws["min_age"] if min_age is None else min_age


def _invite(engine, args: argparse.Namespace) -> int:
    from pool.errors import OtosError
    from sampling.invitations import draw_invitations

    bands, groups, min_age = _strata_settings(engine, args)
    oversample = {}
    for item in args.oversample:
        key, _, factor = item.rpartition(":")
        feature, sep, value = key.partition("=")
        try:
            oversample[(feature.strip(), value.strip())] = float(factor)
        except ValueError:
            raise OtosError(f"--oversample {item!r} must look like age=18-29:1.5.") from None
        if not sep:
            raise OtosError(f"--oversample {item!r} must look like age=18-29:1.5.")
    result = draw_invitations(engine, args.extract, args.size, args.seed,
                              strata=tuple(f.strip() for f in args.strata.split(",") if f.strip()),
                              age_bands=bands, groups=groups, oversample=oversample, min_age=min_age,
                              round_name=args.round)
    if args.json:
        _print_json({"round": result.round, "invited": result.drawn, "allocations": [
            {"stratum": list(a.stratum), "population": a.population, "candidates": a.candidates,
             "allocated": a.allocated, "drawn": a.drawn} for a in result.allocations]})
        return 0
    print(f"{'stratum':<44} {'population':>10} {'allocated':>9} {'drawn':>6}")
    for a in result.allocations:
        print(f"{' / '.join(a.stratum):<44} {a.population:>10,} {a.allocated:>9} {a.drawn:>6}")
    print(f"{result.drawn:,} invitations with response codes in round {result.round!r}.")
    return 0


def _panel(engine, args: argparse.Namespace) -> int:
    from sampling import panels

    if args.action == "quotas":
        from sampling.interop import write_features
        from sampling.targets import margins_from_csv, margins_from_extract, quotas_from_margins

        features = [f.strip() for f in args.features.split(",") if f.strip()]
        bands, groups, _ = _strata_settings(engine, args)
        if args.extract:
            margins = margins_from_extract(engine, args.extract, features, age_bands=bands, groups=groups)
        else:
            margins = margins_from_csv(args.margins, features, age_bands=bands, groups=groups, areas=set(groups))
        quotas = quotas_from_margins(margins, args.size, args.tolerance)
        write_features(args.out, quotas)
        for q in quotas:
            print(f"{q.feature:>13} {q.value:<16} {q.min:>4} - {q.max:<4}")
        print(f"Wrote {len(quotas)} quotas for a panel of {args.size} to {args.out}.")
        return 0
    if args.action == "draw":
        from sampling.interop import read_features

        quotas = read_features(args.quotas)
        panel_id, sel = panels.draw_panel(engine, quotas, args.size, args.seed, method=args.method,
                                          recruitment_round=args.round, fixed=list(_ints(args.fixed, "--fixed")))
        if args.json:
            _print_json({"id": panel_id, **sel.as_json()})
            return 0
        print(f"Drew panel {panel_id}: {len(sel.panel)} members with seed {args.seed!r} ({sel.algorithm}); "
              f"lowest selection probability {sel.min_probability:.4f}.")
        for note in sel.notes:
            print(f"Note: {note}.")
        print(f"See it with: otos panel show {panel_id}   Check it with: otos panel verify {panel_id}")
        return 0
    if args.action == "export":
        from sampling.interop import read_features

        count = panels.export_pool(engine, read_features(args.quotas), args.out, recruitment_round=args.round)
        print(f"Wrote {count} pool members (ids and quota categories only) to {args.out}.")
        return 0
    if args.action == "verify":
        result = panels.verify_panel(engine, args.id)
        for note in result.notes:
            print(f"Note: {note}.")
        if result.ok:
            print(f"Panel {args.id} verified: recomputing the lottery from its record gives the same panel.")
            return 0
        for d in result.differences:
            print(f"otos: {d}", file=sys.stderr)
        return 1
    if args.action == "replace":
        new, prob = panels.replace_member(engine, args.id, args.member)
        print(f"Member {args.member} dropped out of panel {args.id}; member {new} takes the seat "
              f"(probability {prob:.4f} in the replacement lottery).")
        return 0
    if args.action == "list":
        for p in panels.list_panels(engine):
            print(f"{p['id']:>4}  {p['created_at']}  size {p['size']:>3}  seed {p['seed']!r}  {p['algorithm']}  "
                  f"lowest probability {p['min_probability']:.4f}")
        return 0
    if args.action == "show" and args.all:
        probs = panels.all_probabilities(engine, args.id)
        if args.json:
            _print_json(probs)
        else:
            for pid, p in sorted(probs.items(), key=lambda x: (x[1], int(x[0]) if x[0].isdigit() else 0)):
                print(f"{pid:>6}  {p:.4f}")
        return 0
    if args.action == "show":
        seats = panels.panel_seats(engine, args.id)
        if args.json:
            _print_json(seats)
            return 0
        for seat in seats:
            print(f"{seat['member']:>6}  {printable(seat['name']):<40} {seat['role']:<12} {seat['probability']:.4f}")
        return 0
    return 1


def _select(args: argparse.Namespace) -> int:
    from sampling.interop import read_features, read_people
    from sampling.select import select

    problem = read_people(args.people, read_features(args.features), args.size, household=args.household)
    result = select(problem, args.seed, args.method)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    print(f"Panel of {len(result.panel)} drawn with seed {args.seed!r} ({result.algorithm}):")
    print("  " + ", ".join(result.panel))
    probs = sorted(result.probabilities.values())
    print(f"Selection probabilities: lowest {probs[0]:.4f}, median {probs[len(probs) // 2]:.4f}, highest {probs[-1]:.4f}.")
    for note in result.notes:
        print(f"Note: {note}.")
    return 0


def _extract(engine, args: argparse.Namespace) -> int:
    from pool import extract

    if args.action == "import":
        report = extract.import_extract(engine, args.file, permit=args.permit, purpose=args.purpose,
                                        delete_by=_date(args.delete_by, "--delete-by"), profile=args.profile,
                                        encoding=args.encoding, strict=args.strict)
        if args.json:
            _print_json({"id": report.extract_id, "file": report.file_name, "encoding": report.encoding,
                         "rows": report.rows_stored, "rejected": report.rows_rejected,
                         "mailable": report.rows_mailable, "turvakielto": report.turvakielto,
                         "deceased": report.deceased, "faults": [str(f) for f in report.faults]})
            return 0
        print(f"Imported. {report.summary()}")
        if report.rows_rejected:
            print(f"{report.rows_rejected:,} row(s) were left out:")
            for f in report.faults[:200]:
                print(f"  {f}")
            if report.faults_total > 200:
                print(f"  ... see all with: otos extract faults {report.extract_id}")
        return 0
    if args.action == "list":
        rows = extract.list_extracts(engine)
        if args.json:
            _print_json(rows)
            return 0
        if not rows:
            print("No extracts yet. Import one with: otos extract import FILE --permit P --purpose TEXT --delete-by DATE")
        for e in rows:
            state = "purged" if e["purged"] else ("OVERDUE" if e["overdue"] else "")
            print(f"{e['id']:>3}  {printable(e['file']):<30} {e['rows']:>9,} people  {e['rejected']:>6,} rejected  "
                  f"permit {printable(e['permit'])}  delete by {e['delete_by']}  {state}")
        return 0
    if args.action == "faults":
        for f in extract.faults_of(engine, args.id, limit=100_000):
            print(f)
        return 0
    if args.action == "purge":
        _confirm(f"Purge extract {args.id}: delete the register data of everyone who did not join the pool?", args.yes)
        n = extract.purge(engine, args.id)
        print(f"Purged extract {args.id}: {n:,} register rows deleted; pool members keep their data.")
        return 0
    if args.action == "profiles":
        from pool.profile import shipped_profiles

        print("\n".join(shipped_profiles()))
        return 0
    return 1


def _pool(engine, args: argparse.Namespace) -> int:
    from pool import members

    if args.action == "add":
        fields = {k: getattr(args, k.replace("-", "_")) for k in (
            "first_names", "surname", "email", "phone", "street", "postal_code", "post_office", "birth_year",
            "sex", "mother_tongue", "municipality", "education", "needs", "preferred_language")}
        fields = {k: v for k, v in fields.items() if v is not None}
        if args.extra:
            fields["extra"] = json.dumps(_pairs(args.extra, "--extra"), ensure_ascii=False)
        if args.code:
            member_id = members.register_by_code(engine, args.code, fields, consent_version=args.consent_version)
        else:
            member_id = members.add_member(engine, fields, consent_version=args.consent_version)
        if args.json:
            _print_json({"id": member_id})
        else:
            print(f"Registered pool member {member_id}.")
        return 0
    if args.action == "import":
        n = members.import_members(engine, args.file, _pairs(args.map, "--map"), consent_version=args.consent_version,
                                   recruitment_round=args.round, delimiter=args.delimiter)
        print(f"Imported {n} pool member(s).")
        return 0
    if args.action == "list":
        q = members.MemberQuery(args.search, args.status, args.municipality, args.language, args.round)
        page = members.list_members(engine, q, offset=args.offset, limit=args.limit)
        if args.json:
            _print_json([members.member_dict(m) for m in page])
            return 0
        total = members.count_members(engine, q)
        for m in page:
            print(f"{m.id:>6}  {printable(m.surname)}, {printable(m.first_names):<28} {m.birth_year or '':>4}  "
                  f"{m.municipality or '':>3}  "
                  f"{m.preferred_language}  {m.status}")
        print(f"{len(page)} of {total:,} shown.")
        return 0
    if args.action == "show":
        d = members.member_dict(members.get_member(engine, args.id))
        d["participation"] = members.participation(engine, args.id)
        if args.json:
            _print_json(d)
        else:
            for k, v in d.items():
                print(f"{k:>20}: {printable(v)}")
        return 0
    if args.action == "edit":
        members.update_member(engine, args.id, _pairs(args.set, "--set"))
        print(f"Saved pool member {args.id}.")
        return 0
    if args.action == "withdraw":
        members.get_member(engine, args.id)
        _confirm(f"Withdraw member {args.id} and erase their personal data for good?", args.yes)
        members.withdraw(engine, args.id)
        print(f"Member {args.id} withdrawn; their personal data is erased.")
        return 0
    return 1


def _audit(engine, args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from pool import audit

    with Session(engine) as s:
        if args.action == "verify":
            r = audit.verify(s, anchor=args.anchor)
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
                  f"otos audit verify --anchor ANCHOR. Anchor: {audit.anchor(s)}")
            return 0
        rows = audit.entries(s, args.limit)
    if args.json:
        _print_json([{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action,
                      "details": json.loads(e.details), "hash": e.hash} for e in rows])
    else:
        for e in rows:
            print(f"{e.id:>5}  {e.at}  {printable(e.actor):<12} {e.action:<18} {printable(e.details)}")
    return 0


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt


class _SafeStream:
    """Output stream that escapes control characters coming from data (names, file
    names, statement texts), keeping line breaks and tabs (``pool.display``)."""

    def __init__(self, stream) -> None:
        self.raw_stream = stream

    def write(self, text: str) -> int:
        from pool.display import terminal_safe

        return self.raw_stream.write(terminal_safe(text))

    def __getattr__(self, name: str):
        return getattr(self.raw_stream, name)


@contextlib.contextmanager
def _safe_streams():
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _SafeStream(out), _SafeStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


@contextlib.contextmanager
def _plain_streams():
    """The terminal as it is, for the app, which draws with control sequences of its own."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = getattr(out, "raw_stream", out), getattr(err, "raw_stream", err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``otos`` command."""
    # Whatever Otos creates (database, journals, exports) is for this user only, and a
    # SIGTERM unwinds like Ctrl+C, so half-written files are removed on the way out.
    os.umask(0o077)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    args = _parser().parse_args(argv)
    from pool.errors import OtosError

    with _safe_streams():  # file names and messages may carry control characters too
        try:
            return _run(args)
        except OtosError as exc:
            print(f"otos: {exc}", file=sys.stderr)
            return EXIT_REJECTED
        except KeyboardInterrupt:
            print("otos: cancelled; nothing was saved.", file=sys.stderr)
            return 130
        except BrokenPipeError:  # the reader stopped early (otos ... | head): not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except Exception as exc:  # never a traceback (it could carry personal data)
            if os.environ.get("OTOS_DEBUG"):
                raise
            print(f"otos: unexpected error ({type(exc).__name__}); nothing more was saved. "
                  "Run again with OTOS_DEBUG=1 to see the details, and report it without personal data.",
                  file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
