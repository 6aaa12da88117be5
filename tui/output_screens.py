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


class LettersScreen(Guarded, Screen):
    """Pick a round, see the language versions and one letter's text, print with progress."""

    AUTO_FOCUS = "#round"
    BINDINGS = [
        Binding("ctrl+r", "preview", "Preview", id="letters-preview", priority=True),
        Binding("ctrl+o", "print", "Print batch", id="letters-print", priority=True),
        Binding("escape", "cancel_print", "Cancel printing", id="letters-cancel"),
    ]

    def palette_commands(self):
        yield "Preview letter", "Show the language versions and one letter (Ctrl+R)", self.action_preview
        yield "Print letters", "Print the round's batch (Ctrl+O)", self.action_print
        yield "Cancel printing", "Stop the batch being printed (Escape)", self.action_cancel_print

    def compose(self) -> ComposeResult:
        yield NavBar("letters")
        with Horizontal(classes="inputs", id="letters-choose"):
            yield _titled(Select([], prompt="no round yet", id="round"), "Recruitment round")
            yield Checkbox("Reminder (not answered)", id="reminder")
        with Horizontal(classes="inputs"):
            yield _titled(Input(placeholder="the workspace's topic (Settings, F9)", id="topic"), "Panel topic (Finnish)")
            yield _titled(Input("kirjeet.pdf", id="out"), "Batch file")
        with Horizontal(classes="inputs"):
            yield Button("Preview (Ctrl+R)", id="preview")
            yield Button("Print batch (Ctrl+O)", variant="primary", id="print")
        yield ProgressBar(total=1.0, show_eta=False, id="letters-progress")
        yield Static("Choose a round, then preview (Ctrl+R) or print (Ctrl+O).", id="letters-status", markup=False)
        with VerticalScroll():
            yield Static("", id="letter-preview", markup=False)
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        from pool.invitations import list_rounds

        self.title = "Otos — Letters"
        rounds = list_rounds(self.app.engine)  # newest first
        select = self.query_one("#round", Select)
        select.set_options((plain(f"{r.name} · {r.drawn_on} · {r.invited:,} invited"), r.name) for r in rounds)
        if rounds:
            select.value = rounds[0].name

    def _settings(self):
        from letters.batch import LetterSettings

        topic = self.query_one("#topic", Input).value.strip()
        return LetterSettings.from_workspace(self.app.engine, topic={"fi": topic} if topic else None)

    def _round(self) -> str:
        value = self.query_one("#round", Select).value
        if value is Select.NULL:
            raise OtosError("Choose the recruitment round first.")
        return str(value)

    @on(Button.Pressed, "#preview")
    @guarded
    def action_preview(self) -> None:
        from letters.batch import preview

        groups, text = preview(self.app.engine, self._round(), self._settings())
        langs = ", ".join(f"{k}: {v}" for k, v in groups.most_common())
        self.query_one("#letters-status", Static).update(f"Language versions: {langs}.")
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
        left = "; ".join(f"{n} left out ({why})" for why, n in report.left_out.items())
        self.app.call_from_thread(self._progress, 1.0, f"{report.letters:,} letters written to {report.pdf}, "
                                  f"mailing list {report.mailing_list}. {left}")

    def _progress(self, fraction: float, message: str) -> None:
        self.query_one("#letters-progress", ProgressBar).update(progress=fraction)
        self.query_one("#letters-status", Static).update(message)

    @guarded
    def action_cancel_print(self) -> None:
        self.workers.cancel_group(self, "letters")


EXPORTS = {  # button id -> (key, label, what it writes)
    "roster-csv": ("c", "Roster CSV", "the panel's contact list as CSV"),
    "roster-xlsx": ("x", "Roster XLSX", "the panel's contact list for Excel"),
    "roster-pdf": ("p", "Roster PDF", "the panel's contact list to print"),
    "composition": ("k", "Composition", "the anonymised composition table"),
    "reserves": ("v", "Reserves to call", "the panel's reserves in call order"),
    "calls": ("l", "Call list", "members to phone (no e-mail)"),
    "report": ("r", "Report PDF", "how representative the panel is"),
    "record": ("j", "Lottery record", "the lottery record to publish (no names)"),
}


class ExportsScreen(Guarded, Screen):
    """Rosters, the composition table, the call list and the representativeness report.
    Each file is written by a worker, so a long report never stops the app."""

    AUTO_FOCUS = "#panel"
    BINDINGS = [Binding(key, f"export('{kind}')", label, id=f"exports-{kind}")
                for kind, (key, label, _) in EXPORTS.items()] + [
        Binding("escape", "stop", "Stop writing", id="exports-stop", show=False)]

    def compose(self) -> ComposeResult:
        yield NavBar("exports")
        with Horizontal(classes="inputs"):
            yield _titled(Select([], prompt="no panel drawn yet", id="panel"), "Panel")
            yield _titled(Input(".", id="folder"), "Folder for the files")
        with Grid(id="export-buttons"):
            for kind, (key, label, _) in EXPORTS.items():
                yield Button(f"{label} ({key})", id=kind, variant="primary" if kind == "report" else "default")
        yield Static("Choose a panel to see how representative it is.", id="exports-status", markup=False)
        with VerticalScroll(id="report-scroll"):
            yield Static("", id="report-table", markup=False)
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        from sampling.panels import list_panels

        self.title = "Otos — Exports"
        panels = list(reversed(list_panels(self.app.engine)))
        select = self.query_one("#panel", Select)
        select.set_options([(f"panel {p['id']} · {p['created_at'][:10]} · {p['size']} seats", p["id"])
                            for p in panels])
        if panels:
            select.value = panels[0]["id"]

    def palette_commands(self):
        for kind, (key, label, help_text) in EXPORTS.items():
            yield label, f"Write {help_text} ({key})", lambda kind=kind: self.action_export(kind)

    def _panel(self) -> int:
        value = self.query_one("#panel", Select).value
        if value is Select.NULL:
            raise OtosError("Choose a panel first (draw one on the Draw screen, F5).")
        return int(value)

    def _folder(self) -> Path:
        folder = Path(self.query_one("#folder", Input).value.strip() or ".").expanduser()
        if not folder.is_dir():
            raise OtosError(f"{folder} is not a folder: give one that exists.")
        return folder

    @guarded
    @on(Select.Changed, "#panel")
    def _show_report(self) -> None:
        if self.query_one("#panel", Select).value is not Select.NULL:
            self.query_one("#report-table", Static).update("Counting ...")
            self.run_table(self._panel())

    @work(thread=True, exclusive=True, exit_on_error=False, group="exports-table")
    def run_table(self, panel: int) -> None:
        from letters.report import build_report, format_table

        text = format_table(build_report(self.app.engine, panel))
        self.app.call_from_thread(self._table, panel, text)

    def _table(self, panel: int, text: str) -> None:
        self.query_one("#report-table", Static).update(text)
        self.query_one("#exports-status", Static).update(
            f"Panel {panel}: choose what to write (the keys in brackets), into the folder given.")

    @guarded
    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id in EXPORTS:
            self.action_export(event.button.id)

    @guarded
    def action_export(self, kind: str) -> None:
        folder = self._folder()
        panel = None if kind == "calls" else self._panel()
        self.query_one("#exports-status", Static).update(f"Writing {EXPORTS[kind][2]} ... (Escape stops it)")
        self.run_export(kind, panel, folder)

    @guarded
    def action_stop(self) -> None:
        """Escape: stop the files being written (the report can take a while); none is left half-written."""
        if stop_work(self, "exports"):
            self.query_one("#exports-status", Static).update("Stopping ...")

    @work(thread=True, exclusive=False, exit_on_error=False, group="exports")
    def run_export(self, kind: str, panel: int | None, folder: Path) -> None:
        from letters import exports
        from letters.report import build_report, write_pdf

        if kind == "calls":
            out = folder / "soitettavat.csv"
            n = exports.export_call_list(self.app.engine, out)
            text = f"{n} members to call written to {out} (owner-only)."
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
                    self.app.call_from_thread(self._written, "Stopped: the report was not written.")
                    return
                write_pdf(self.app.engine, report, out)
            text = f"Written: {out}."
        self.app.call_from_thread(self._written, text)

    def _written(self, text: str) -> None:
        self.query_one("#exports-status", Static).update(text)
        self.notify(text)
