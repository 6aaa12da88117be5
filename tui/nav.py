"""The top line of every screen: each screen's F-key and name, the current one marked.
The footer then has room for the screen's own keys, even at 80 columns."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pool.i18n import N_, _

SCREENS = [("F2", N_("Extracts"), "extracts"), ("F3", N_("Pool"), "pool"), ("F4", N_("Quotas"), "quotas"),
           ("F5", N_("Draw"), "draw"), ("F6", N_("Letters"), "letters"), ("F7", N_("Exports"), "exports"),
           ("F8", N_("Opinions"), "opinions"), ("F9", N_("Settings"), "settings")]


class NavBar(Static):
    """``NavBar(mode)``: the screens, with ``mode`` (a key of ``OtosApp.MODES``) marked."""

    # One line at 80 columns in every language (see the gap below).
    DEFAULT_CSS = "NavBar { background: $panel; color: $text-muted; height: auto; padding: 0 1; }"

    def __init__(self, mode: str) -> None:
        line = Text()
        names = [(key, _(name), screen_mode) for key, name, screen_mode in SCREENS]
        # A space between items when the line fits 78 columns (80 less the padding); a
        # longer language (Finnish) lets the reversed F-keys alone separate the names.
        gap = " " if sum(len(k) + len(n) + 1 for k, n, _m in names) - 1 <= 78 else ""
        for i, (key, name, screen_mode) in enumerate(names):
            if i:
                line.append(gap)
            here = screen_mode == mode
            line.append(key, style="bold reverse")
            line.append(name, style="bold reverse" if here else "")
        super().__init__(line, id="nav")
