"""Finnish personal identity codes (henkilötunnus): format and check character.

Kept as strings. Sex and age are never derived from the code (from 2027 it will not
encode sex); the register's own fields are used for those.
"""
from __future__ import annotations

import datetime as dt
from pool.i18n import _

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
           "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}


def check_char(digits9: str) -> str:
    """The check character for the nine digits ddmmyy + individual number."""
    return CHECK_CHARS[int(digits9) % 31]


_DATE_OK: dict[str, bool] = {}
_SHAPE = "not an identity code (ddmmyy, century sign, 3 digits, check character)"


def _date_ok(stem_sign: str) -> bool:
    ok = _DATE_OK.get(stem_sign)
    if ok is None:
        stem, sign = stem_sign[:6], stem_sign[6]
        try:
            dt.date(CENTURY[sign] + int(stem[4:6]), int(stem[2:4]), int(stem[:2]))
            ok = True
        except (KeyError, ValueError):
            ok = False
        _DATE_OK[stem_sign] = ok
    return ok


def looks_like(code: str) -> bool:
    """Whether ``code`` has the shape of an identity code (date, check character or not)."""
    return problem(code) != _SHAPE


def problem(code: str) -> str | None:
    """What is wrong with ``code``, or None when it is a valid identity code.

    The message never repeats the code itself. (Called once per register row, so the
    date check is cached.)
    """
    if len(code) != 11 or not code.isascii() or code[6] not in CENTURY or not (code[:6].isdigit() and code[7:10].isdigit()):
        return _SHAPE
    if not _date_ok(code[:7]):
        return _("identity code holds an impossible date")
    num = code[7:10]
    if num < "002":
        return _("identity code has an individual number below 002")
    if CHECK_CHARS[int(code[:6] + num) % 31] != code[10]:
        return _("identity code check character does not match")
    return None


def make(birth: dt.date, individual: int, sign_index: int = 0) -> str:
    """Build a valid identity code (for generated demo and test people only)."""
    signs = {1800: "+", 1900: "-YXWVU", 2000: "ABCDEF"}[birth.year // 100 * 100]
    sign = signs[sign_index % len(signs)]
    stem = f"{birth:%d%m}{birth.year % 100:02d}"
    return f"{stem}{sign}{individual:03d}{check_char(stem + f'{individual:03d}')}"
