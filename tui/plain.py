"""Data shown as plain text in the app: no Rich markup, control characters escaped.

A member's name ``[/]`` would otherwise blank a table and ``[link=…]`` hide a link
(see ``pool.display``). Tables get ``plain_row``; Statics that show data are built
with ``markup=False``; ``OtosApp.notify`` defaults to no markup.
"""
from __future__ import annotations

from rich.text import Text

from pool.display import printable


def plain(value: object) -> object:
    """A table cell: text as a plain ``Text``; numbers as they are."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return Text(printable(value))


def plain_row(*values: object) -> list:
    return [plain(v) for v in values]
