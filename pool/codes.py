"""Personal response codes: short, unambiguous, with a check character, unguessable.

Eight characters from a 32-letter alphabet without look-alikes (no I, O, 0, 1), the
last one a Luhn mod 32 check character that catches any single mistyped character and
most swapped neighbours. Seven random characters from ``secrets`` give 32**7 (3.4e10)
codes, so one code says nothing about another. Shown as ``ABCD-EFGH``.
"""
from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
BODY = 7


def check_character(body: str) -> str:
    """Luhn mod N check character over ``body``."""
    n = len(ALPHABET)
    total, factor = 0, 2
    for ch in reversed(body):
        addend = factor * _VALUE[ch]
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _x in range(BODY))
    return body + check_character(body)


def normalise(typed: str) -> str | None:
    """The canonical code for what a person typed, or None when it cannot be a code."""
    code = "".join(typed.split()).replace("-", "").upper()
    if len(code) != BODY + 1 or any(c not in _VALUE for c in code):
        return None
    return code if check_character(code[:-1]) == code[-1] else None


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"
