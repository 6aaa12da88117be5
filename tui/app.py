"""The Otos terminal app: Extracts and Pool screens, command palette, error messages."""
from __future__ import annotations

import os
import tomllib
from collections import deque
from pathlib import Path
from typing import Iterable

from sqlalchemy import Engine
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from pool.display import terminal_safe
from pool.errors import OtosError
from tui.guard import guarded, show_error
from tui.lottery_screens import DrawScreen, QuotasScreen
from tui.nav import SCREENS
from tui.opinion_screens import OpinionsScreen
from tui.output_screens import ExportsScreen, LettersScreen
from tui.screens import ExtractsScreen, PoolScreen
from tui.settings_screen import SettingsScreen
from pool.i18n import _


class OtosApp(App):
    """Otos in the terminal. ``engine`` is the open workspace database."""

    TITLE = "Otos"
    CSS_PATH = "otos.tcss"
    MODES = {"extracts": ExtractsScreen, "pool": PoolScreen, "quotas": QuotasScreen, "draw": DrawScreen,
             "letters": LettersScreen, "exports": ExportsScreen, "opinions": OpinionsScreen,
             "settings": SettingsScreen}
    DEFAULT_MODE = "pool"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]  # dialogs get compact below 36 rows
    # The F-keys are shown by each screen's navigation line (tui.nav), not in the footer.
    BINDINGS = [Binding(key.lower(), f"switch_mode('{mode}')", _(name), id=f"show-{mode}", show=False)
                for key, name, mode in SCREENS] + [Binding("ctrl+q", "quit", _("Quit"), id="quit"),
           Binding("ctrl+p", "command_palette", _("palette"), show=False, priority=True,
                   tooltip=_("Open the command palette"))]

    def __init__(self, engine: Engine, opinions_example: Path | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.opinions_example = opinions_example  # the demo's generated conversation, if any
        self.messages: deque[str] = deque(maxlen=200)  # what was shown, newest last
        self.quotas: list = []  # the quotas the Quotas screen edits and the Draw screen uses ...
        self.quota_size: int | None = None  # ... the panel size they are for ...
        self.quota_source = ""  # ... where they came from ("the quota set 'Lappi 2027'") ...
        self.quota_set: str | None = None  # ... and the name of their quota set, if from one
        self._keymap_problem = None
        try:
            self.set_keymap(load_keymap())
        except OtosError as exc:
            self._keymap_problem = str(exc)

    def use_quotas(self, quotas: list, size: int | None, source: str, quota_set: str | None = None) -> None:
        """Make ``quotas`` (for a panel of ``size``) the ones the Quotas and Draw screens use."""
        self.quotas, self.quota_size, self.quota_source, self.quota_set = list(quotas), size, source, quota_set

    def use_quota_set(self, name: str) -> None:
        from sampling import quota_sets

        self.use_quotas(*quota_sets.load(self.engine, name), _("the quota set {name!r}").format(name=name), name)

    @guarded
    def on_mount(self) -> None:
        from pool.extract import overdue
        from sampling import quota_sets

        saved = quota_sets.listing(self.engine)
        if saved and not self.quotas:  # after a restart: the quota set saved last
            self.use_quota_set(saved[0]["name"])
        if self._keymap_problem:
            self.notify(self._keymap_problem, severity="warning", timeout=15)
        for e in overdue(self.engine):
            self.notify(_("Extract {id} ({file}) is past its delete-by date {delete_by}: purge it on the Extracts screen (F2, then p).").format(id=e['id'], file=e['file'], delete_by=e['delete_by']), severity="warning", timeout=15)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(_("Extracts"), _("List, import and purge DVV extracts"), lambda: self.switch_mode("extracts"))
        yield SystemCommand(_("Pool"), _("Browse, add, edit and withdraw pool members"), lambda: self.switch_mode("pool"))
        yield SystemCommand(_("Quotas"), _("Quotas against the pool, feasibility"), lambda: self.switch_mode("quotas"))
        yield SystemCommand(_("Draw"), _("Draw a panel with the fair lottery"), lambda: self.switch_mode("draw"))
        yield SystemCommand(_("Letters"), _("Print a round's invitation letters"), lambda: self.switch_mode("letters"))
        yield SystemCommand(_("Exports"), _("Rosters, composition, call list, report"), lambda: self.switch_mode("exports"))
        yield SystemCommand(_("Opinions"), _("Opinion groups, consensus and divisive statements from votes"),
                            lambda: self.switch_mode("opinions"))
        yield SystemCommand(_("Settings"), _("The county, sender, phone and letter texts of this workspace"),
                            lambda: self.switch_mode("settings"))
        for title, help_text, callback in getattr(screen, "palette_commands", lambda: ())():
            yield SystemCommand(title, help_text, callback)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Messages carry names of files, rounds and statements: shown as plain text
        unless a caller asks for markup (see tui.plain)."""
        message = terminal_safe(message)
        self.messages.append(message)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    @guarded
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker errors become messages, never tracebacks (see tui.guard)."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            show_error(self, event.worker.error)


def keymap_path() -> Path:
    """Where a user's key remapping lives: ``$OTOS_KEYMAP`` or ~/.config/otos/keymap.toml."""
    given = os.environ.get("OTOS_KEYMAP")
    if given:
        return Path(given)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "otos" / "keymap.toml"


def load_keymap() -> dict[str, str]:
    """Binding id -> keys, e.g. ``pool-withdraw = "ctrl+w"``, from the keymap file if any."""
    path = keymap_path()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OtosError(_("{path}: the key map is not valid TOML ({exc}); the default keys are in use.").format(path=path, exc=exc)) from None
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise OtosError(_("{path}: give each binding id a key as text (not: {join}); the default keys are in use.").format(path=path, join=', '.join(bad)))
    return data
