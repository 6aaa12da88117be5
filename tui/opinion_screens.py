"""The Opinions screen: opinion groups, consensus, divisive statements, every statement's
statistics per group (sortable by any column) and the strata comparison."""
from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Select, Static, TabbedContent, TabPane

from pool.errors import OtosError
from tui.dialogs import _titled
from tui.guard import Guarded, guarded
from tui.plain import plain_row

STATEMENT_TABLE = ["statement", "group", "n", "agree %", "disagree %", "pass %", "z agree", "z disagree",
                   "agree ratio", "z vs rest", "gic", "divisive D", "text"]
STRATA_TABLE = ["feature", "stratum", "people", "statement", "n", "agree %", "95 % interval", "disagree %",
                "pass %", "weighted agree %", "text"]


def _number(value):
    """Sort key that puts blanks last and compares numbers as numbers."""
    if value is None or str(value) == "":
        return (1, 0.0, "")
    try:
        return (0, float(str(value).rstrip("%")), "")
    except ValueError:
        return (0, 0.0, str(value))


class OpinionsScreen(Guarded, Screen):
    """Analyse a Polis export (folder) or an Otos votes CSV, optionally with strata."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="inputs"):
            yield _titled(Input("", placeholder="Polis export folder, or votes.csv (statements.csv beside it)",
                                id="op-source"), "Votes")
            yield _titled(Input("", placeholder="(optional) participants.csv", id="op-participants"),
                          "Participants' strata")
            yield _titled(Input("", placeholder="(optional) population.csv", id="op-population"),
                          "Population margins")
            yield _titled(Input("otos", id="op-seed"), "Seed")
        with Horizontal(classes="inputs"):
            yield Select([], prompt="panel (for linked pool members)", id="op-panel")
            yield Button("Analyze", variant="primary", id="op-analyze")
            yield _titled(Input("mielipiteet.pdf", id="op-out"), "Report file")
            yield Button("Report PDF + CSV", id="op-report")
        yield Static("Give the votes and press Analyze.", id="op-status", markup=False)
        with TabbedContent(id="op-tabs"):
            with TabPane("Groups", id="op-groups-tab"):
                with VerticalScroll():
                    yield Static("", id="op-groups", markup=False)
            with TabPane("Statements", id="op-statements-tab"):
                yield DataTable(id="op-statements", zebra_stripes=True, cursor_type="row")
            with TabPane("Strata", id="op-strata-tab"):
                yield DataTable(id="op-strata", zebra_stripes=True, cursor_type="row")
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        from sampling.panels import list_panels

        self.title = "Otos — Opinions"
        example = getattr(self.app, "opinions_example", None)
        if example is not None:  # the demo: its generated conversation, ready to analyse
            for widget_id, name in (("#op-source", "votes.csv"), ("#op-participants", "participants.csv"),
                                    ("#op-population", "population.csv")):
                self.query_one(widget_id, Input).value = str(example / name)
        self.query_one("#op-panel", Select).set_options(
            [(f"panel {p['id']} ({p['created_at'][:10]}, {p['size']})", p["id"])
             for p in reversed(list_panels(self.app.engine))])
        self.analysis = None
        self.strata = None
        self._sorted: dict[str, tuple[str, bool]] = {}
        for table_id, columns in (("#op-statements", STATEMENT_TABLE), ("#op-strata", STRATA_TABLE)):
            table = self.query_one(table_id, DataTable)
            for label in columns:
                table.add_column(label, key=label)

    def _value(self, widget_id: str) -> str:
        return self.query_one(widget_id, Input).value.strip()

    @on(Button.Pressed, "#op-analyze")
    @on(Input.Submitted, "#op-source")
    @guarded
    def action_analyze(self) -> None:
        source = self._value("#op-source")
        if not source:
            raise OtosError("Give a Polis export folder or a votes CSV file first.")
        self.query_one("#op-status", Static).update("Analysing…")
        panel = self.query_one("#op-panel", Select).value
        self.run_analysis(Path(source).expanduser(), self._value("#op-participants"), self._value("#op-population"),
                          self._value("#op-seed") or "otos", None if panel is Select.NULL else int(panel))

    @work(thread=True, exclusive=True, exit_on_error=False, group="opinions")
    def run_analysis(self, source: Path, participants: str, population: str, seed: str, panel: int | None) -> None:
        from opinions.analysis import analyze
        from opinions.data import read_polis_export, read_votes_csv
        from opinions.strata import Strata, from_panel, from_pool, read_participants, read_population

        statements = source.with_name("statements.csv")
        conv = read_polis_export(source) if source.is_dir() else read_votes_csv(
            source, statements if statements.is_file() else None)
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
        result = analyze(conv, seed)
        self.app.call_from_thread(self._show, result, strata)

    def _show(self, a, strata) -> None:
        from opinions.report import strata_rows
        from opinions.summary import statement_rows, text_summary

        self.analysis, self.strata = a, strata
        lines = text_summary(a)
        self.query_one("#op-status", Static).update("\n".join(lines[:3]))
        self.query_one("#op-groups", Static).update("\n".join(lines[3:]))
        table = self.query_one("#op-statements", DataTable)
        table.clear()
        texts = a.conversation.texts
        for r in statement_rows(a):
            sid, g, n, agree, disagree, passed = r[:6]
            pct = (lambda x: f"{100 * x / n:.0f}%") if n else (lambda x: "")  # noqa: E731
            table.add_row(*plain_row(sid, g, n, pct(agree), pct(disagree), pct(passed), r[8], r[10], r[11], r[12],
                                     r[13], r[14], " ".join(texts.get(sid, "").split())[:80]))
        strata_table = self.query_one("#op-strata", DataTable)
        strata_table.clear()
        if strata is not None:
            comparison, weighted = strata_rows(a, strata)
            weight = {(w[0], w[1]): w[2] for w in weighted}
            for r in comparison:
                share = (lambda x: f"{100 * x:.0f}%" if x != "" else "")  # noqa: E731
                strata_table.add_row(*plain_row(
                    r[0], r[1], r[2], r[3], r[4], share(r[5]), f"{share(r[6])}-{share(r[7])}" if r[5] != "" else "",
                    share(r[8]), share(r[11]), share(weight[(r[0], r[3])]) if (r[0], r[3]) in weight else "",
                    " ".join(texts.get(r[3], "").split())[:60]))
        self.notify(f"{a.k} opinion groups among {len(a.clustered)} participants.")

    @on(DataTable.HeaderSelected)
    @guarded
    def _sort(self, event: DataTable.HeaderSelected) -> None:
        """Click a column header to sort by it; click again to reverse."""
        table_id = event.data_table.id or ""
        column = event.column_key
        last, reverse = self._sorted.get(table_id, (None, False))
        reverse = not reverse if last == column.value else False
        event.data_table.sort(column, key=_number, reverse=reverse)
        self._sorted[table_id] = (column.value, reverse)

    @on(Button.Pressed, "#op-report")
    @guarded
    def action_report(self) -> None:
        from opinions.report import write_report

        if self.analysis is None:
            raise OtosError("Analyse the votes first.")
        out = Path(self._value("#op-out") or "mielipiteet.pdf").expanduser()
        written = write_report(self.analysis, out, self.strata)
        text = f"Written: {', '.join(str(p) for p in written)}."
        self.query_one("#op-status", Static).update(text)
        self.notify(text)
