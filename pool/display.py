"""Values from data shown on a terminal: never markup, never control sequences.

A name is whatever a file or a form said it is. Printed raw, ``\\x1b]8;;…`` makes a
hidden link, ``\\x1b[2J`` clears the screen and a newline forges a line of output;
shown through Rich markup, ``[/]`` or ``[link=…]`` rewrite the table. ``printable``
makes every control character visible as an escape (``\\u001b``, valid inside JSON
strings too), and the app shows the result as plain text (``tui.plain``).
"""
from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LAYOUT_OK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    return f"\\u{ord(m.group()):04x}"


def printable(value: object) -> str:
    """``value`` as text with every control (and bidi override) character escaped."""
    text = "" if value is None else str(value)
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def terminal_safe(text: str) -> str:
    """Output text with control characters escaped, except the line breaks and tabs
    that lay it out (for a whole stream of output, see ``tui.cli``)."""
    return _LAYOUT_OK.sub(_escape, text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character ``printable`` would escape."""
    return bool(_CONTROL.search(text))
