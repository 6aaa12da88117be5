"""The ``otos`` command line: a thin face over the domain packages.

Each command group is a module of its own (``tui/cli_*.py``, with ``add_parser`` and
``run``): it parses, calls a service function and prints. Imports stay lean (argparse
only at the top) so the command starts fast; each command imports what it needs. Errors a user can cause are printed as one paragraph, never as
a traceback, and the exit status is non-zero.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

from tui import (
    cli_audit,
    cli_demo,
    cli_export,
    cli_extract,
    cli_invite,
    cli_letters,
    cli_opinions,
    cli_panel,
    cli_pool,
    cli_workspace,
)
from tui.cli_common import plain_streams
from pool.i18n import N_, _

EXIT_REJECTED = 2
# argparse's own texts (Python 3.11+), translated in Otos's catalog (pool.i18n.set_language).
ARGPARSE_TEXTS = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"), N_("one of the arguments %s is required"),
    N_("unrecognized arguments: %s"), N_("not allowed with argument %s"), N_("expected one argument"),
    N_("invalid %(type)s value: %(value)r"), N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="otos", description=_("Fair, representative resident panels."))
    ap.add_argument("--lang", metavar="fi|sv|en",
                    help=_("language of the app, the messages and the files it writes (default: $OTOS_LANG, then "
                           "the workspace's setting, then the system's language if fi, sv or en, else fi)"))
    ap.add_argument("--csv-dialect", metavar="excel-fi|comma",
                    help=_("CSV files for people: excel-fi (';' and a byte order mark, what Excel in a Finnish "
                           "locale opens as columns; the default, or $OTOS_CSV_DIALECT) or comma"))
    ap.add_argument("--db", help=_("database: an SQLite file path or an SQLAlchemy URL (default: $OTOS_DATABASE_URL, else otos.db in this folder)"))
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("tui", help=_("open the terminal app (the default)"))
    for group in (cli_demo, cli_workspace, cli_extract, cli_invite, cli_letters, cli_pool, cli_panel, cli_export,
                  cli_opinions, cli_audit):
        group.add_parser(sub)
    return ap


def _warn_overdue(engine) -> None:
    from pool.extract import overdue

    for e in overdue(engine):
        print(_("otos: warning: extract {id} ({file}) is past its delete-by date {delete_by}; purge it with: otos extract purge {id}").format(id=e['id'], file=e['file'], delete_by=e['delete_by']), file=sys.stderr)


# Commands that need no workspace database (opinions: keep it a quick process).
_WITHOUT_DATABASE = {"demo": cli_demo.run, "select": cli_panel.run_select, "opinions": cli_opinions.run}
_WITH_DATABASE = {"workspace": cli_workspace.run, "extract": cli_extract.run, "invite": cli_invite.run,
                  "letters": cli_letters.run, "pool": cli_pool.run, "panel": cli_panel.run,
                  "quotas": cli_panel.run_quotas,
                  "export": cli_export.run_export, "report": cli_export.run_report, "audit": cli_audit.run}


def _run(args: argparse.Namespace) -> int:
    if args.command == "panel" and args.action == "verify" and args.record:
        return cli_panel.verify_record(args)  # a record file: no workspace, no solver
    if args.command in _WITHOUT_DATABASE:
        return _WITHOUT_DATABASE[args.command](args)
    from pool.db import open_database

    engine = open_database(args.db)
    if not args.lang and not os.environ.get("OTOS_LANG"):
        _workspace_language(engine)
    if args.command in (None, "tui"):
        from tui.app import OtosApp

        with plain_streams():
            OtosApp(engine).run()
        return 0
    if not getattr(args, "json", False):
        _warn_overdue(engine)
    return _WITH_DATABASE[args.command](engine, args)


def _workspace_language(engine) -> None:
    """Speak the workspace's language when neither --lang nor OTOS_LANG chose one."""
    from pool import i18n, workspace

    if workspace.exists(engine):
        i18n.set_language(i18n.choose(workspace=workspace.load(engine)["language"]))


def _given_language(argv: list[str]) -> str | None:
    """--lang from the command line, read before the parser is built (its help is translated)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``otos`` command."""
    # Whatever Otos creates (database, journals, exports) is for this user only, and a
    # SIGTERM unwinds like Ctrl+C, so half-written files are removed on the way out.
    os.umask(0o077)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    from pool import i18n
    from pool.errors import OtosError

    try:  # a message about a bad --lang is in the language the environment chooses
        i18n.set_language(i18n.choose())
    except i18n.LanguageError:
        i18n.set_language(i18n.system_language() or i18n.DEFAULT)
    try:
        i18n.set_language(i18n.choose(_given_language(sys.argv[1:] if argv is None else argv)))
    except i18n.LanguageError as exc:
        print(f"otos: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    args = _parser().parse_args(argv)
    if args.csv_dialect:
        try:
            i18n.set_csv_dialect(args.csv_dialect)
        except i18n.LanguageError as exc:
            print(f"otos: {exc}", file=sys.stderr)
            return EXIT_REJECTED

    with _safe_streams():  # file names and messages may carry control characters too
        try:
            return _run(args)
        except OtosError as exc:
            print(_("otos: {exc}").format(exc=exc), file=sys.stderr)
            return EXIT_REJECTED
        except KeyboardInterrupt:
            print(_("otos: cancelled; nothing was saved."), file=sys.stderr)
            return 130
        except BrokenPipeError:  # the reader stopped early (otos ... | head): not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except Exception as exc:  # never a traceback (it could carry personal data)
            if os.environ.get("OTOS_DEBUG"):
                raise
            print(_("otos: unexpected error ({name}); nothing more was saved. Run again with OTOS_DEBUG=1 to see the details, and report it without personal data.").format(name=type(exc).__name__),
                  file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
