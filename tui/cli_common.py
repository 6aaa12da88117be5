"""What the command groups of ``otos`` share: confirmation, small parsers, JSON output."""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any
from pool.i18n import _


def confirm(question: str, yes: bool) -> None:
    from pool.errors import OtosError

    if yes:
        return
    if not sys.stdin.isatty():
        raise OtosError(_("{question} needs confirmation.").format(question=question), hint=_("Add --yes to confirm."))
    if input(_("{question} Type yes to go on: ").format(question=question)).strip().lower() not in ("yes", "y", "kyllä", "k"):
        raise OtosError(_("Nothing was changed."))


def pairs(items: list[str], what: str) -> dict[str, str]:
    from pool.errors import OtosError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise OtosError(_("{what} {item!r} must look like NAME=VALUE.").format(what=what, item=item))
        out[key.strip().replace("-", "_")] = value
    return out


def date(text: str, option: str):
    """A date typed as 1.12.2026, 01.12.2026 or 2026-12-01."""
    from pool.errors import OtosError
    from pool.i18n import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise OtosError(_("{option} {text!r}: {problem}.").format(option=option, text=text[:40], problem=exc)) from None


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def ints(text: str, option: str) -> tuple[int, ...]:
    from pool.errors import OtosError

    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise OtosError(_("{option} {text!r} must be whole numbers separated by commas.").format(option=option, text=text)) from None


def strata_settings(engine, args: argparse.Namespace) -> tuple[tuple[int, ...], dict[str, str], int]:
    """(age bands, municipality groups, minimum age): the workspace's, unless the
    command line gives them."""
    from pool import workspace
    from sampling.categories import suggested_municipality_groups

    ws = workspace.load(engine)
    bands = ints(args.age_bands, "--age-bands") if args.age_bands else tuple(ws["age_bands"])
    groups = (suggested_municipality_groups(ws.county, args.min_population) if args.min_population is not None
              else ws.municipality_groups())
    min_age = getattr(args, "min_age", None)
    return bands, groups, ws["min_age"] if min_age is None else min_age


@contextlib.contextmanager
def plain_streams():
    """The terminal as it is, for the app, which draws with control sequences of its own."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = getattr(out, "raw_stream", out), getattr(err, "raw_stream", err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
