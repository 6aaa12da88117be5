"""The language Otos speaks and the formats it writes: gettext catalogs made with Babel.

Every text a user reads is written in English in the code and marked: ``_("...")``
where it is shown, ``N_("...")`` where it is defined ahead of time (a table header, a
binding) and translated where shown, ``ngettext`` for counts. Placeholders are named
(``{extract}``), so a translation can reorder them and an error is an id (its English
text) with parameters. The catalogs are ``pool/locale/{fi,sv}/LC_MESSAGES/otos.po``,
compiled to ``.mo`` beside them; ``python -m pool.i18n update`` extracts the marked
texts from the code, merges them into both catalogs and compiles them, and
``python -m pool.i18n check`` fails when a text lacks a translation or a catalog
holds one no code uses (tests/test_i18n.py runs it).

The language is chosen once per process (``choose``): ``--lang``, then ``OTOS_LANG``,
then the workspace's ``language`` setting, then the system locale when it is Finnish,
Swedish or English, else Finnish. Formats follow the language: Finnish and Swedish
write a decimal comma, "19,6 %" and a space between thousands; every language shows
dates as 1.12.2026 and reads 1.12.2026, 01.12.2026 or 2026-12-01.
"""
from __future__ import annotations

import datetime as dt
import gettext as _gettext
import os
import re
from functools import cache
from pathlib import Path

LANGUAGES = ("fi", "sv", "en")
DEFAULT = "fi"
DOMAIN = "otos"
LOCALE_DIR = Path(__file__).with_name("locale")
_BABEL_LOCALE = {"fi": "fi_FI", "sv": "sv_FI", "en": "en"}
NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}  # each language in its own words

_current: str | None = None


class LanguageError(ValueError):
    """A language code Otos does not speak."""


def _checked(code: str, where: str) -> str:
    lang = code.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    if lang not in LANGUAGES:
        raise LanguageError(_("{where}: Otos speaks fi, sv and en, not {code!r}.").format(
            where=where, code=code.strip()[:20]))
    return lang


def system_language() -> str | None:
    """fi, sv or en when the system locale is one of them (LC_ALL, LC_MESSAGES, LANG)."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            lang = value.split("_")[0].split(".")[0].lower()
            return lang if lang in LANGUAGES else None
    return None


def choose(given: str | None = None, workspace: str | None = None) -> str:
    """The language of this run: ``given`` (--lang), ``OTOS_LANG``, the workspace's
    setting, the system locale if fi/sv/en, else Finnish. A bad --lang or OTOS_LANG
    raises LanguageError; a bad stored setting is passed over."""
    if given:
        return _checked(given, "--lang")
    env = os.environ.get("OTOS_LANG", "").strip()
    if env:
        return _checked(env, "OTOS_LANG")
    if workspace and workspace in LANGUAGES:
        return workspace
    return system_language() or DEFAULT


def set_language(lang: str) -> None:
    """Speak ``lang`` (fi, sv or en) from now on, in this process."""
    global _current
    _current = _checked(lang, "language")
    # argparse's own words (usage, errors) come from gettext's default domain and the
    # LANGUAGE variable: point them at Otos's catalog (their texts: tui.cli.ARGPARSE_TEXTS).
    _gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    _gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _current


def language() -> str:
    """The language in use (chosen from the environment when none was set)."""
    global _current
    if _current is None:
        # provisional first: the message about a bad OTOS_LANG is itself translated
        _current = system_language() or DEFAULT
        try:
            _current = choose()
        except LanguageError:
            pass
    return _current


@cache
def _catalog(lang: str) -> _gettext.NullTranslations:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if lang == "en" or not path.is_file():
        return _gettext.NullTranslations()
    with path.open("rb") as f:
        return _gettext.GNUTranslations(f)


def _(message: str) -> str:
    """``message`` in the language in use."""
    return _catalog(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a counted message for ``n`` in the language in use."""
    return _catalog(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; translate it with ``_`` where shown."""
    return message


LANGUAGE_NAMES = {"fi": N_("Finnish"), "sv": N_("Swedish"), "en": N_("English"),
                  "se": N_("North Sámi"), "smn": N_("Inari Sámi"), "sms": N_("Skolt Sámi")}


def language_name(code: str) -> str:
    """A language (of a letter, a setting) named in the language in use: se -> "pohjoissaame"."""
    return _(LANGUAGE_NAMES[code]) if code in LANGUAGE_NAMES else code


# --- formats -----------------------------------------------------------------------

def _babel(lang: str | None) -> str:
    return _BABEL_LOCALE[lang or language()]


def number(value: float | int, digits: int | None = None, lang: str | None = None) -> str:
    """``value`` with the language's separators: 12 345,6 (fi, sv), 12,345.6 (en)."""
    from babel.numbers import format_decimal

    if digits is None:
        pattern = "#,##0" if isinstance(value, int) else "#,##0.###"
    else:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_babel(lang))


def percent(fraction: float, digits: int = 1, lang: str | None = None) -> str:
    """A share as a percentage: 0.196 -> "19,6 %" (fi, sv), "19.6%" (en)."""
    from babel.numbers import format_percent

    lang = lang or language()
    zeros = "." + "0" * digits if digits else ""
    pattern = f"#,##0{zeros}\u00a0%" if lang in ("fi", "sv") else f"#,##0{zeros}%"
    return format_percent(fraction, format=pattern, locale=_babel(lang))


def duration(seconds: float, lang: str | None = None) -> str:
    """A length of time as a person says it, rounded: "2 minutes", "2 minuuttia", "40 s"."""
    from babel.dates import format_timedelta

    return format_timedelta(dt.timedelta(seconds=max(1.0, float(seconds))), threshold=1.5, locale=_babel(lang))


def date(value: dt.date | None) -> str:
    """A date as every Finnish official reads it: 1.12.2026 ('' for none)."""
    if value is None:
        return ""
    return f"{value.day}.{value.month}.{value.year}"


def moment(value: dt.datetime | dt.date | str | None, *, with_time: bool = True) -> str:
    """A stored time (a datetime, or its ISO text as JSON carries it) as the reader
    writes it: 1.12.2026 14.05 in Finnish and Swedish, 1.12.2026 14:05 in English."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if not with_time or not isinstance(value, dt.datetime):
        return date(value)
    from babel.dates import format_time

    return f"{date(value)} {format_time(value.time(), 'short', locale=_babel(None))}"


_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_date(text: str) -> dt.date:
    """1.12.2026, 01.12.2026 or 2026-12-01 as a date; ValueError (in the language in
    use, naming the accepted forms) for anything else."""
    text = text.strip()
    m = _DOTTED.fullmatch(text)
    try:
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        m = _ISO.fullmatch(text)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(_("is not a date in the calendar")) from None
    raise ValueError(_("is not a date: write it as 1.12.2026 or 2026-12-01"))


_csv_choice: str | None = None


def set_csv_dialect(choice: str) -> None:
    """Write people's CSV files in ``choice`` (excel-fi or comma) from now on (--csv-dialect)."""
    global _csv_choice
    csv_dialect(choice)  # refused here if unknown
    _csv_choice = choice


def csv_dialect(given: str | None = None) -> tuple[str, str]:
    """(delimiter, encoding) of CSV files for people to open: ``excel-fi`` (the default:
    ';' and UTF-8 with a byte order mark, what Excel in a Finnish locale opens as
    columns) or ``comma`` (',' and plain UTF-8, for other programs)."""
    choice = (given or _csv_choice or os.environ.get("OTOS_CSV_DIALECT") or "excel-fi").strip().lower()
    if choice in ("excel-fi", "excel", "semicolon"):
        return ";", "utf-8-sig"
    if choice in ("comma", "rfc4180", "plain"):
        return ",", "utf-8"
    raise LanguageError(_("CSV dialect {given!r} is unknown: use excel-fi (';', for Excel) or comma (',').")
                        .format(given=choice[:20]))


# --- catalogs (developer tools) --------------------------------------------------------

PACKAGES = ("pool", "sampling", "letters", "opinions", "tui", "sample_data")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extract():
    """Every marked text in the code, as a Babel catalog."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parent.parent
    catalog = Catalog(project="otos", domain=DOMAIN)
    for package in PACKAGES:
        for filename, lineno, message, comments, context in extract_from_dir(
                root / package, method_map=[("**.py", "python")], keywords=KEYWORDS,
                comment_tags=("Translators:",), strip_comment_tags=True):
            catalog.add(message, None, [(f"{package}/{filename}", lineno)], auto_comments=comments,
                        context=context)
    return catalog


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def problems() -> list[str]:
    """What is wrong with the catalogs: untranslated, unused or uncompiled texts."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    import io

    wanted = {m.id for m in extract() if m.id}
    out = []
    for lang in ("fi", "sv"):
        po = _po_path(lang)
        if not po.is_file():
            out.append(f"{po}: missing")
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        have = {m.id: m for m in catalog if m.id}
        for msgid in sorted(wanted - set(have), key=str):
            out.append(f"{lang}: no translation for {msgid!r}")
        for msgid in sorted(set(have) - wanted, key=str):
            out.append(f"{lang}: unused entry {msgid!r}")
        for msgid, m in have.items():
            if msgid in wanted and (m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)):
                out.append(f"{lang}: empty or fuzzy translation for {msgid!r}")
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        mo = po.with_suffix(".mo")
        if not mo.is_file() or mo.read_bytes() != compiled.getvalue():
            out.append(f"{mo}: not compiled from {po.name} (run python -m pool.i18n update)")
    return out


def update() -> None:
    """Extract, merge into fi and sv (new texts empty, unused ones dropped), compile."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    template = extract()
    for lang in ("fi", "sv"):
        po = _po_path(lang)
        po.parent.mkdir(parents=True, exist_ok=True)
        if po.is_file():
            with po.open("rb") as f:
                catalog = read_po(f, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="otos", domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with po.open("wb") as f:
            write_po(f, catalog, width=100, omit_header=False, sort_output=False)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["update"]:
        update()
    elif sys.argv[1:] == ["check"]:
        found = problems()
        print("\n".join(found) or "catalogs complete")
        sys.exit(1 if found else 0)
    else:
        print("usage: python -m pool.i18n update|check", file=sys.stderr)
        sys.exit(2)
