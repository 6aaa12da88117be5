"""The Opinions screen: opinion groups, consensus, divisive statements, every statement's
statistics per group (sortable by any column) and the strata comparison."""
from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static, TabbedContent, TabPane, Tabs
from textual.worker import get_current_worker

from pool.errors import OtosError
from tui.dialogs import FormDialog, _titled
from tui.guard import Guarded, error_message, guarded, show_error, stop_work
from tui.nav import NavBar
from tui.plain import plain_row
from pool.i18n import N_, _, moment

STATEMENT_TABLE = [N_("statement"), N_("group"), N_("n"), N_("agree %"), N_("disagree %"), N_("pass %"), N_("z agree"), N_("z disagree"),
                   N_("agree ratio"), N_("z vs rest"), N_("gic"), N_("divisive D"), N_("text")]
STRATA_TABLE = [N_("feature"), N_("stratum"), N_("people"), N_("statement"), N_("n"), N_("agree %"), N_("95 % interval"), N_("disagree %"),
                N_("pass %"), N_("weighted agree %"), N_("text")]


def _number(value):
    """Sort key that puts blanks last and compares numbers as numbers."""
    if value is None or str(value) == "":
        return (1, 0.0, "")
    try:
        return (0, float(str(value).rstrip("%")), "")
    except ValueError:
        return (0, 0.0, str(value))


AUDIENCE_ROWS = 4  # audiences the dialog asks for (Keski-Suomi compares three)


class CompareDialog(FormDialog):
    """Ask for the audiences (a label and a Polis export folder each), an optional
    mapping file and the PDF to write (-> (audiences, mapping, pdf) or None). ``last``:
    the previous request, whose entries the fields start with (a wrong folder is then
    one field to correct, not seven to type again)."""

    def __init__(self, last: tuple | None = None) -> None:
        super().__init__()
        self.last = last

    def compose(self) -> ComposeResult:
        audiences, mapping, pdf = self.last or ([], None, _("vertailu.pdf"))
        rows = list(audiences) + [("", "")] * (AUDIENCE_ROWS - len(audiences))
        with Vertical(classes="dialog wide"):
            yield Label(_("Compare audiences"), classes="title")
            with VerticalScroll(classes="fields"):
                for i, (label, folder) in enumerate(rows, 1):
                    with Horizontal(classes="inputs"):
                        yield _titled(Input(label, placeholder=_("e.g. Asukkaat"), id=f"label-{i}", classes="label"),
                                      _("Audience {number}").format(number=i))
                        yield _titled(Input(folder, placeholder=_("Polis export folder"), id=f"folder-{i}"),
                                      _("Folder"))
                yield _titled(Input(mapping or "", placeholder=_("(optional) mapping.csv, when the wording differs"),
                                    id="mapping"), _("Statement mapping"))
                yield _titled(Input(pdf or "", id="pdf"), _("PDF for decision-makers (empty: none)"))
            yield from self.form_end(_("Compare"), "ok")

    @on(Button.Pressed, "#ok")
    @guarded
    def _ok(self) -> None:
        value = lambda wid: self.query_one(f"#{wid}", Input).value.strip()  # noqa: E731
        audiences = []
        for i in range(1, AUDIENCE_ROWS + 1):
            label, folder = value(f"label-{i}"), value(f"folder-{i}")
            if bool(label) != bool(folder):
                self.show_error(_("Audience {number}: give both a name and a folder.").format(number=i))
                self.query_one(f"#{'folder' if label else 'label'}-{i}", Input).focus()
                return
            if label:
                audiences.append((label, str(Path(folder).expanduser())))
        if len(audiences) < 2:
            self.show_error(_("Give at least two audiences."))
            return
        self.dismiss((audiences, value("mapping") or None, value("pdf") or None))


class Comparing:
    """The Opinions screen's audience comparison: a dialog, a worker, the Audiences tab."""

    last_comparison: tuple | None = None  # the dialog's last entries, offered again

    @guarded
    def action_compare(self) -> None:
        def go(request) -> None:
            if request is None:
                return
            self.last_comparison = request
            self.query_one("#op-status", Static).update(_("Comparing… (Escape stops it)"))
            self.run_compare(*request)

        self.app.push_screen(CompareDialog(self.last_comparison), self.guard(go))

    @work(thread=True, exclusive=True, exit_on_error=False, group="opinions")
    def run_compare(self, audiences: list, mapping: str | None, pdf: str | None) -> None:
        from opinions.compare import compare_exports
        from opinions.compare_report import overview, write_comparison

        try:
            result, auds = compare_exports(audiences, mapping)
            written = write_comparison(result, auds, Path(pdf).expanduser()) if pdf else []
        except Exception as exc:  # noqa: BLE001 (a wrong folder: the status line says so)
            self.app.call_from_thread(self._failed, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_comparison, result, overview(result, auds), written)

    def _show_comparison(self, result, lines: list[str], written: list) -> None:
        from opinions.compare_report import agreed_cells
        from pool.i18n import number

        table = self.query_one("#op-compare", DataTable)
        table.clear(columns=True)
        for label in [_("statement"), *result.audiences, _("gap"), _("differ"), _("common ground")]:
            table.add_column(label, key=label)
        for s in result.statements:
            table.add_row(*plain_row(s.text[:70], *agreed_cells(s, result.audiences), number(round(s.gap * 100)),
                                     _("yes") if s.significant else "", _("yes") if s.common_ground else ""))
        status = self.query_one("#op-status", Static)
        status.remove_class("error")
        if written:
            lines = lines + [_("Written: {join}.").format(join=", ".join(str(p) for p in written))]
        status.update("\n".join(lines))
        self.query_one("#op-tabs", TabbedContent).active = "op-compare-tab"
        self.notify(lines[0])


class OpinionsScreen(Comparing, Guarded, Screen):
    """Analyse a Polis export (folder) or an Otos votes CSV, optionally with strata. The
    analysis and the report run in workers; a failure is shown on the status line."""

    AUTO_FOCUS = "#op-source"
    BINDINGS = [
        Binding("ctrl+r", "analyze", _("Analyze"), id="opinions-analyze", priority=True),
        Binding("ctrl+o", "report", _("Report"), id="opinions-report", priority=True),
        Binding("ctrl+k", "compare", _("Compare audiences"), id="opinions-compare", priority=True),
        Binding("s", "sort", _("Sort by column"), id="opinions-sort"),
        Binding("escape", "focus_tabs", _("Stop / tables"), id="opinions-tables"),
    ]

    def palette_commands(self):
        yield _("Analyse votes"), _("Find the opinion groups (Ctrl+R)"), self.action_analyze
        yield _("Opinions report"), _("Write the PDF and CSV tables (Ctrl+O)"), self.action_report
        yield _("Sort statements"), _("Sort the table by the column under the cursor (s)"), self.action_sort
        yield _("Compare audiences"), _("The same statements in several conversations (Ctrl+K)"), self.action_compare

    def compose(self) -> ComposeResult:
        yield NavBar("opinions")
        with Horizontal(classes="inputs"):
            yield _titled(Input("", placeholder=_("Polis export folder, or votes.csv (statements.csv beside it)"),
                                id="op-source"), _("Votes"))
            yield _titled(Input("otos", id="op-seed"), _("Seed"))
            yield Button(_("Analyze (Ctrl+R)"), variant="primary", id="op-analyze")
        with Horizontal(classes="inputs"):
            yield _titled(Input("", placeholder=_("(optional) participants.csv"), id="op-participants"),
                          _("Participants' strata"))
            yield _titled(Input("", placeholder=_("(optional) population.csv"), id="op-population"),
                          _("Population margins"))
            yield _titled(Select([], prompt=_("none"), id="op-panel"), _("Panel of linked members"))
        with Horizontal(classes="inputs"):
            yield _titled(Input(_("mielipiteet.pdf"), id="op-out"), _("Report file"))
            yield Button(_("Report PDF + CSV (Ctrl+O)"), id="op-report")
        yield Static(_("Give the votes and press Analyze."), id="op-status", markup=False)
        with TabbedContent(id="op-tabs"):
            with TabPane(_("Groups"), id="op-groups-tab"):
                with VerticalScroll():
                    yield Static("", id="op-groups", markup=False)
            with TabPane(_("Statements"), id="op-statements-tab"):
                yield DataTable(id="op-statements", zebra_stripes=True, cursor_type="cell")
            with TabPane(_("Strata"), id="op-strata-tab"):
                yield DataTable(id="op-strata", zebra_stripes=True, cursor_type="cell")
            with TabPane(_("Audiences"), id="op-compare-tab"):
                yield DataTable(id="op-compare", zebra_stripes=True, cursor_type="cell")
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        from sampling.panels import list_panels

        self.title = _("Otos — Opinions")
        example = getattr(self.app, "opinions_example", None)
        if example is not None:  # the demo: its generated conversation, ready to analyse
            for widget_id, name in (("#op-source", "votes.csv"), ("#op-participants", "participants.csv"),
                                    ("#op-population", "population.csv")):
                self.query_one(widget_id, Input).value = str(example / name)
        self.query_one("#op-panel", Select).set_options(
            [(_("panel {id} ({value}, {size})").format(id=p['id'], value=moment(p['created_at'], with_time=False), size=p['size']), p["id"])
             for p in reversed(list_panels(self.app.engine))])
        self.analysis = None
        self.strata = None
        self._sorted: dict[str, tuple[str, bool]] = {}
        for table_id, columns in (("#op-statements", STATEMENT_TABLE), ("#op-strata", STRATA_TABLE)):
            table = self.query_one(table_id, DataTable)
            for label in columns:
                table.add_column(_(label), key=label)

    def _value(self, widget_id: str) -> str:
        return self.query_one(widget_id, Input).value.strip()

    @on(Button.Pressed, "#op-analyze")
    @on(Input.Submitted, "#op-source")
    @guarded
    def action_analyze(self) -> None:
        source = self._value("#op-source")
        if not source:
            raise OtosError(_("Give a Polis export folder or a votes CSV file first."))
        self.query_one("#op-status", Static).update(_("Analysing… (Escape stops it)"))
        panel = self.query_one("#op-panel", Select).value
        self.run_analysis(Path(source).expanduser(), self._value("#op-participants"), self._value("#op-population"),
                          self._value("#op-seed") or "otos", None if panel is Select.NULL else int(panel))

    @work(thread=True, exclusive=True, exit_on_error=False, group="opinions")
    def run_analysis(self, source: Path, participants: str, population: str, seed: str, panel: int | None) -> None:
        try:
            shown = self._analyse(source, participants, population, seed, panel)
        except Exception as exc:  # noqa: BLE001 (a wrong file: the status line says so, never "Analysing…" forever)
            self.app.call_from_thread(self._failed, exc)
            return
        if get_current_worker().is_cancelled:
            self.app.call_from_thread(self.query_one("#op-status", Static).update, _("Analysis stopped."))
        else:
            self.app.call_from_thread(self._show, *shown)

    def _analyse(self, source: Path, participants: str, population: str, seed: str, panel: int | None):
        """Read, analyse and lay out the tables (off the UI thread)."""
        from opinions.analysis import analyze
        from opinions.data import read_polis_export, read_votes_csv
        from opinions.report import strata_rows
        from opinions.strata import Strata, from_panel, from_pool, read_participants, read_population
        from opinions.summary import statement_rows, text_summary

        conv = read_polis_export(source) if source.is_dir() else read_votes_csv(source)
        strata = None
        if participants:
            own, members = read_participants(Path(participants).expanduser())
            strata = Strata(own, {})
            if members:  # by a chosen panel's categories, else the pool's own strata
                linked = (from_panel(self.app.engine, panel, members) if panel is not None
                          else from_pool(self.app.engine, members))
                for pid, values in linked.of.items():
                    strata.of.setdefault(pid, {}).update(values)
                strata.population.update(linked.population)
            if population:
                strata.population.update(read_population(Path(population).expanduser()))
        a = analyze(conv, seed)
        texts = a.conversation.texts
        statement_table = []
        for r in statement_rows(a):
            sid, g, n, agree, disagree, passed = r[:6]
            pct = (lambda x: f"{100 * x / n:.0f}%") if n else (lambda x: "")  # noqa: E731
            statement_table.append(plain_row(sid, g, n, pct(agree), pct(disagree), pct(passed), r[8], r[10], r[11],
                                             r[12], r[13], r[14], " ".join(texts.get(sid, "").split())[:80]))
        strata_table = []
        if strata is not None:
            comparison, weighted = strata_rows(a, strata)
            weight = {(w[0], w[1]): w[2] for w in weighted}
            share = (lambda x: f"{100 * x:.0f}%" if x != "" else "")  # noqa: E731
            for r in comparison:
                strata_table.append(plain_row(
                    r[0], r[1], r[2], r[3], r[4], share(r[5]), f"{share(r[6])}-{share(r[7])}" if r[5] != "" else "",
                    share(r[8]), share(r[11]), share(weight[(r[0], r[3])]) if (r[0], r[3]) in weight else "",
                    " ".join(texts.get(r[3], "").split())[:60]))
        return a, strata, text_summary(a), statement_table, strata_table

    def _failed(self, error: BaseException) -> None:
        text = error_message(error)
        status = self.query_one("#op-status", Static)
        status.update(text)
        status.add_class("error")
        show_error(self.app, error)

    def _show(self, a, strata, lines, statement_table, strata_table) -> None:
        self.analysis, self.strata = a, strata
        status = self.query_one("#op-status", Static)
        status.remove_class("error")
        status.update("\n".join(lines[:3]))
        self.query_one("#op-groups", Static).update("\n".join(lines[3:]))
        for table_id, rows in (("#op-statements", statement_table), ("#op-strata", strata_table)):
            table = self.query_one(table_id, DataTable)
            table.clear()
            table.add_rows(rows)
        self._sorted.clear()
        self.notify(_("{k} opinion groups among {count} participants.").format(k=a.k, count=len(a.clustered)))

    def _sort_by(self, table: DataTable, column) -> None:
        """Sort ``table`` by ``column``; the same column again reverses the order."""
        last, reverse = self._sorted.get(table.id or "", (None, False))
        reverse = not reverse if last == column.value else False
        table.sort(column, key=_number, reverse=reverse)
        self._sorted[table.id or ""] = (column.value, reverse)

    @on(DataTable.HeaderSelected)
    @guarded
    def _sort(self, event: DataTable.HeaderSelected) -> None:
        """Click a column header to sort by it; click again to reverse."""
        self._sort_by(event.data_table, event.column_key)

    @guarded
    def action_focus_tabs(self) -> None:
        """Escape: stop an analysis or report under way; else to the tabs (left and right
        switch them, Tab goes into the table)."""
        if stop_work(self, "opinions", "opinions-report"):
            self.query_one("#op-status", Static).update(_("Stopping ..."))
            return
        self.query_one("#op-tabs Tabs", Tabs).focus()

    @guarded
    def action_sort(self) -> None:
        """s: sort the table in view by the column under the cursor (again: reverse)."""
        tab = self.query_one("#op-tabs", TabbedContent).active
        table = self.query_one({"op-strata-tab": "#op-strata", "op-compare-tab": "#op-compare"}.get(tab, "#op-statements"),
                               DataTable)
        if table.row_count == 0:
            raise OtosError(_("Analyse the votes first."))
        column = list(table.columns)[table.cursor_coordinate.column]
        self._sort_by(table, column)
        self.notify(_("Sorted by {value}").format(value=column.value) + (_(", reversed.") if self._sorted[table.id or ""][1] else "."))

    @on(Button.Pressed, "#op-report")
    @guarded
    def action_report(self) -> None:
        if self.analysis is None:
            raise OtosError(_("Analyse the votes first."))
        out = Path(self._value("#op-out") or "mielipiteet.pdf").expanduser()
        self.query_one("#op-status", Static).update(_("Writing {out} ...").format(out=out))
        self.run_report(out)

    @work(thread=True, exclusive=True, exit_on_error=False, group="opinions-report")
    def run_report(self, out: Path) -> None:
        from opinions.report import write_report

        try:
            written = write_report(self.analysis, out, self.strata)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._failed, exc)
            return
        text = _("Written: {join}.").format(join=', '.join(str(p) for p in written))
        self.app.call_from_thread(self._written, text)

    def _written(self, text: str) -> None:
        status = self.query_one("#op-status", Static)
        status.remove_class("error")
        status.update(text)
        self.notify(text)

