"""The Letters and Exports screens: what leaves the building."""
from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, ProgressBar, Select, Static
from textual.worker import get_current_worker

from pool.errors import OtosError
from tui.dialogs import _titled
from tui.guard import Guarded, guarded, stop_work
from tui.nav import NavBar
from tui.plain import plain
from pool.i18n import N_, _, moment, number


class LettersScreen(Guarded, Screen):
    """Pick a round, see the language versions and one letter's text, print with progress."""

    AUTO_FOCUS = "#round"
    BINDINGS = [
        Binding("ctrl+r", "preview", _("Preview"), id="letters-preview", priority=True),
        Binding("ctrl+o", "print", _("Print batch"), id="letters-print", priority=True),
        Binding("escape", "cancel_print", _("Cancel printing"), id="letters-cancel"),
    ]

    def palette_commands(self):
        yield _("Preview letter"), _("Show the language versions and one letter (Ctrl+R)"), self.action_preview
        yield _("Print letters"), _("Print the round's batch (Ctrl+O)"), self.action_print
        yield _("Cancel printing"), _("Stop the batch being printed (Escape)"), self.action_cancel_print

    def compose(self) -> ComposeResult:
        yield NavBar("letters")
        with Horizontal(classes="inputs", id="letters-choose"):
            yield _titled(Select([], prompt=_("no round yet"), id="round"), _("Recruitment round"))
            yield Checkbox(_("Reminder (not answered)"), id="reminder")
        with Horizontal(classes="inputs"):
            yield _titled(Input(placeholder=_("the workspace's topic (Settings, F9)"), id="topic"), _("Panel topic (Finnish)"))
            yield _titled(Input(_("kirjeet.pdf"), id="out"), _("Batch file"))
        with Horizontal(classes="inputs"):
            yield Button(_("Preview (Ctrl+R)"), id="preview")
            yield Button(_("Print batch (Ctrl+O)"), variant="primary", id="print")
        yield ProgressBar(total=1.0, show_eta=False, id="letters-progress")
        yield Static(_("Choose a round, then preview (Ctrl+R) or print (Ctrl+O)."), id="letters-status", markup=False)
        with VerticalScroll():
            yield Static("", id="letter-preview", markup=False)
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        from pool.invitations import list_rounds

        self.title = _("Otos — Letters")
        rounds = list_rounds(self.app.engine)  # newest first
        select = self.query_one("#round", Select)
        select.set_options((plain(_("{name} · {drawn_on} · {invited} invited").format(name=r.name, drawn_on=moment(r.drawn_on, with_time=False), invited=number(r.invited))), r.name) for r in rounds)
        if rounds:
            select.value = rounds[0].name

    def _settings(self):
        from letters.batch import LetterSettings

        topic = self.query_one("#topic", Input).value.strip()
        return LetterSettings.from_workspace(self.app.engine, topic={"fi": topic} if topic else None)

    def _round(self) -> str:
        value = self.query_one("#round", Select).value
        if value is Select.NULL:
            raise OtosError(_("Choose the recruitment round first."))
        return str(value)

    @on(Button.Pressed, "#preview")
    @guarded
    def action_preview(self) -> None:
        from letters.batch import preview

        groups, text = preview(self.app.engine, self._round(), self._settings())
        langs = ", ".join(f"{k}: {v}" for k, v in groups.most_common())
        self.query_one("#letters-status", Static).update(_("Language versions: {langs}.").format(langs=langs))
        self.query_one("#letter-preview", Static).update(text)

    @on(Button.Pressed, "#print")
    @guarded
    def action_print(self) -> None:
        out = Path(self.query_one("#out", Input).value.strip()).expanduser()
        self.run_print(self._round(), out, self._settings(), self.query_one("#reminder", Checkbox).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="letters")
    def run_print(self, round_name: str, out: Path, settings, reminder: bool) -> None:
        from letters.batch import print_round

        worker = get_current_worker()
        say = lambda f, m: self.app.call_from_thread(self._progress, f, m)  # noqa: E731
        try:
            report = print_round(self.app.engine, round_name, out, settings, reminder=reminder, progress=say,
                                 cancelled=lambda: worker.is_cancelled)
        except OtosError as exc:
            self.app.call_from_thread(self._progress, 0.0, str(exc))
            return
        self.app.call_from_thread(self._progress, 1.0, " ".join(report.summary()))

    def _progress(self, fraction: float, message: str) -> None:
        self.query_one("#letters-progress", ProgressBar).update(progress=fraction)
        self.query_one("#letters-status", Static).update(message)

    @guarded
    def action_cancel_print(self) -> None:
        self.workers.cancel_group(self, "letters")


EXPORTS = {  # button id -> (key, label, what it writes)
    "roster-csv": ("c", N_("Roster CSV"), N_("the panel's contact list as CSV")),
    "roster-xlsx": ("x", N_("Roster XLSX"), N_("the panel's contact list for Excel")),
    "roster-pdf": ("p", N_("Roster PDF"), N_("the panel's contact list to print")),
    "composition": ("k", N_("Composition"), N_("the anonymised composition table")),
    "reserves": ("v", N_("Reserves to call"), N_("the panel's reserves in call order")),
    "calls": ("l", N_("Call list"), N_("members to phone (no e-mail)")),
    "report": ("r", N_("Report PDF"), N_("how representative the panel is")),
    "record": ("j", N_("Lottery record"), N_("the lottery record to publish (no names)")),
}


class ExportsScreen(Guarded, Screen):
    """Rosters, the composition table, the call list and the representativeness report.
    Each file is written by a worker, so a long report never stops the app."""

    AUTO_FOCUS = "#panel"
    BINDINGS = [Binding(key, f"export('{kind}')", _(label), id=f"exports-{kind}")
                for kind, (key, label, _unused) in EXPORTS.items()] + [
        Binding("escape", "stop", _("Stop writing"), id="exports-stop", show=False)]

    def compose(self) -> ComposeResult:
        yield NavBar("exports")
        with Horizontal(classes="inputs"):
            yield _titled(Select([], prompt=_("no panel drawn yet"), id="panel"), _("Panel"))
            yield _titled(Input(".", id="folder"), _("Folder for the files"))
        with Grid(id="export-buttons"):
            for kind, (key, label, _unused) in EXPORTS.items():
                yield Button(f"{_(label)} ({key})", id=kind, variant="primary" if kind == "report" else "default")
        yield Static(_("Choose a panel to see how representative it is."), id="exports-status", markup=False)
        with VerticalScroll(id="report-scroll"):
            yield Static("", id="report-table", markup=False)
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        from sampling.panels import list_panels

        self.title = _("Otos — Exports")
        panels = list(reversed(list_panels(self.app.engine)))
        select = self.query_one("#panel", Select)
        select.set_options([(_("panel {id} · {value} · {size} seats").format(id=p['id'], value=moment(p['created_at'], with_time=False), size=p['size']), p["id"])
                            for p in panels])
        if panels:
            select.value = panels[0]["id"]

    def palette_commands(self):
        for kind, (key, label, help_text) in EXPORTS.items():
            yield _(label), _("Write {help_text} ({key})").format(help_text=_(help_text), key=key), lambda kind=kind: self.action_export(kind)

    def _panel(self) -> int:
        value = self.query_one("#panel", Select).value
        if value is Select.NULL:
            raise OtosError(_("Choose a panel first (draw one on the Draw screen, F5)."))
        return int(value)

    def _folder(self) -> Path:
        folder = Path(self.query_one("#folder", Input).value.strip() or ".").expanduser()
        if not folder.is_dir():
            raise OtosError(_("{folder} is not a folder: give one that exists.").format(folder=folder))
        return folder

    @guarded
    @on(Select.Changed, "#panel")
    def _show_report(self) -> None:
        if self.query_one("#panel", Select).value is not Select.NULL:
            self.query_one("#report-table", Static).update(_("Counting ..."))
            self.run_table(self._panel())

    @work(thread=True, exclusive=True, exit_on_error=False, group="exports-table")
    def run_table(self, panel: int) -> None:
        from letters.report import build_report, format_table

        text = format_table(build_report(self.app.engine, panel))
        self.app.call_from_thread(self._table, panel, text)

    def _table(self, panel: int, text: str) -> None:
        self.query_one("#report-table", Static).update(text)
        self.query_one("#exports-status", Static).update(
            _("Panel {panel}: choose what to write (the keys in brackets), into the folder given.").format(panel=panel))

    @guarded
    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id in EXPORTS:
            self.action_export(event.button.id)

    @guarded
    def action_export(self, kind: str) -> None:
        folder = self._folder()
        panel = None if kind == "calls" else self._panel()
        self.query_one("#exports-status", Static).update(_("Writing {value} ... (Escape stops it)").format(value=_(EXPORTS[kind][2])))
        self.run_export(kind, panel, folder)

    @guarded
    def action_stop(self) -> None:
        """Escape: stop the files being written (the report can take a while); none is left half-written."""
        if stop_work(self, "exports"):
            self.query_one("#exports-status", Static).update(_("Stopping ..."))

    @work(thread=True, exclusive=False, exit_on_error=False, group="exports")
    def run_export(self, kind: str, panel: int | None, folder: Path) -> None:
        from letters import exports
        from letters.report import build_report, write_pdf

        if kind == "calls":
            out = folder / "soitettavat.csv"
            n = exports.export_call_list(self.app.engine, out)
            text = _("{n} members to call written to {out} (owner-only).").format(n=n, out=out)
        else:
            if kind.startswith("roster-"):
                fmt = kind.split("-", 1)[1]
                out = folder / f"paneeli-{panel}-jasenet.{fmt}"
                exports.export_roster(self.app.engine, panel, out, fmt)
            elif kind == "reserves":
                out = folder / f"paneeli-{panel}-varalla.csv"
                exports.export_reserve_calls(self.app.engine, panel, out)
            elif kind == "record":
                from sampling.panels import write_record

                out = folder / f"paneeli-{panel}-arvonta.json"
                write_record(self.app.engine, panel, out)
            elif kind == "composition":
                out = folder / f"paneeli-{panel}-kokoonpano.csv"
                exports.export_composition(self.app.engine, panel, out)
            else:
                out = folder / f"paneeli-{panel}-edustavuus.pdf"
                report = build_report(self.app.engine, panel)
                if get_current_worker().is_cancelled:
                    self.app.call_from_thread(self._written, _("Stopped: the report was not written."))
                    return
                write_pdf(self.app.engine, report, out)
            text = _("Written: {out}.").format(out=out)
        self.app.call_from_thread(self._written, text)

    def _written(self, text: str) -> None:
        self.query_one("#exports-status", Static).update(text)
        self.notify(text)
