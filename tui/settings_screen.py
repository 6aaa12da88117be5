"""The Settings screen (F9): the county this workspace serves and what its letters say.

The same values as ``otos workspace show / set``; the screen only shows them and
passes what the user types to ``pool.workspace``.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from pool.errors import OtosError
from tui.dialogs import FormDialog, _titled
from tui.guard import Guarded, guarded
from tui.nav import NavBar
from tui.plain import plain_row
from pool.i18n import _, language


class SettingEditor(FormDialog):
    """Type a new value for one setting; returns the text or None."""

    def __init__(self, setting) -> None:
        super().__init__()
        self.key, self.label, self.meaning = setting.key, setting.label, setting.meaning
        self.value = setting.text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"{self.label} ({self.key})", classes="title", markup=False)
            yield Static(self.meaning, markup=False)
            yield _titled(Input(self.value, id="value"), _("Value"))
            yield from self.form_end(_("Save"), "save")

    @on(Button.Pressed, "#save")
    @guarded
    def _save(self) -> None:
        self.dismiss(self.query_one("#value", Input).value)


class SettingsScreen(Guarded, Screen):
    """Every workspace setting in a table; Enter edits the one under the cursor."""

    AUTO_FOCUS = "#settings"
    BINDINGS = [Binding("e", "edit_setting", _("Edit"), id="settings-edit")]

    def compose(self) -> ComposeResult:
        yield NavBar("settings")
        yield Static("", id="settings-status", markup=False)
        with Horizontal(id="settings-start"):
            yield Select([], prompt=_("the county this workspace serves"), id="county")
            yield Button(_("Start"), variant="primary", id="start")
        yield DataTable(id="settings", cursor_type="row")
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        from pool.reference import counties

        self.title = _("Otos — Settings")
        self.query_one("#settings", DataTable).add_columns(_("Setting"), _("Value"))
        self.query_one("#county", Select).set_options([(c, c) for c in counties()])
        self.refresh_settings()

    def refresh_settings(self) -> None:
        from pool import workspace

        table = self.query_one("#settings", DataTable)
        row = table.cursor_row  # after an edit the cursor stays on the row edited
        table.clear()
        started = workspace.exists(self.app.engine)
        self.query_one("#settings-start").display = not started
        status = self.query_one("#settings-status", Static)
        if not started:
            self.query_one("#county", Select).focus()
            status.update(_("Choose the county this workspace serves, then Start. Its names, municipalities and default texts come with it."))
            return
        ws = workspace.load(self.app.engine)
        self._rows = workspace.describe(ws)
        for setting in self._rows:
            table.add_row(*plain_row(setting.label, setting.text or "-"), key=setting.key)
        table.move_cursor(row=min(row, table.row_count - 1))
        missing = ws.missing()
        status.update(f"{ws.county_name(language())}. " + (
            _("Letters still need: ") + ", ".join(workspace.KEYS[k].label_text() for k in missing) + _(" (Enter on a row to edit).") if missing
            else _("Letters have every setting they need. Enter on a row edits it.")))

    @on(Button.Pressed, "#start")
    @guarded
    def _start(self) -> None:
        from pool import workspace

        county = self.query_one("#county", Select).value
        if county is Select.NULL:
            raise OtosError(_("Choose the county first."))
        workspace.init(self.app.engine, str(county))
        self.refresh_settings()
        self.query_one("#settings", DataTable).focus()

    @on(DataTable.RowSelected, "#settings")
    @guarded
    def action_edit_setting(self) -> None:
        table = self.query_one("#settings", DataTable)
        if not table.row_count:
            return
        setting = self._rows[table.cursor_row]
        key = setting.key

        def save(value: str | None) -> None:
            from pool import workspace

            if value is None:
                return
            try:
                workspace.set_value(self.app.engine, key, value)
            except OtosError as exc:
                self.app.notify(str(exc), severity="error", timeout=10)
                return
            self.refresh_settings()
            self.app.notify(_("Saved: {label}.").format(label=setting.label) + (
                " " + _("Otos speaks the new language when it is started again.") if key == "language" else ""))
        editable = "" if key.startswith("template.") or key == "logo" else setting.text  # a file is given anew
        self.app.push_screen(SettingEditor(setting._replace(text=editable)), self.guard(save))
