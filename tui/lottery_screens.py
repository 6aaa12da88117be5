"""The Quotas and Draw screens: quotas against the pool, live feasibility, the lottery."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from textual import on, work
from textual.worker import get_current_worker
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Select, Static

from pool.errors import Cancelled, OtosError
from sampling.problem import Quota
from tui.dialogs import ConfirmDialog, FormDialog, _titled
from tui.guard import Guarded, guarded, stop_work
from tui.nav import NavBar
from tui.plain import plain, plain_row
from pool.i18n import _, moment, number as fmt_number, percent


class QuotaEditor(FormDialog):
    """Edit one quota's min and max; returns the new quota or None."""

    def __init__(self, quota: Quota) -> None:
        super().__init__()
        self.quota = quota

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_("Quota {feature} = {value}").format(feature=self.quota.feature, value=self.quota.value), classes="title")
            yield _titled(Input(str(self.quota.min), id="min"), _("Minimum seats"))
            yield _titled(Input(str(self.quota.max), id="max"), _("Maximum seats"))
            yield from self.form_end(_("Save"), "save")

    @on(Button.Pressed, "#save")
    @guarded
    def _save(self) -> None:
        try:
            lo = int(self.query_one("#min", Input).value)
            hi = int(self.query_one("#max", Input).value)
        except ValueError:
            self.show_error(_("Minimum and maximum must be whole numbers."))
            return
        if lo < 0 or hi < lo:
            self.show_error(_("The minimum must be at least 0 and at most the maximum."))
            return
        self.dismiss(Quota(self.quota.feature, self.quota.value, lo, hi))


class NameDialog(FormDialog):
    """Ask for a name (e.g. of a quota set); returns it, or None."""

    def __init__(self, title: str, label: str, value: str = "") -> None:
        super().__init__()
        self.title_text, self.label, self.value = title, label, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            yield _titled(Input(self.value, id="name"), self.label)
            yield from self.form_end(_("Save"), "save")

    @on(Button.Pressed, "#save")
    @guarded
    def _save(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.show_error(_("Give a name, e.g. the county and the year: Lappi 2027."))
            return
        self.dismiss(name)


class QuotasScreen(Guarded, Screen):
    """Quotas against the pool's composition, with feasibility checked on every change;
    quota sets kept in the workspace under a name."""

    AUTO_FOCUS = "#quotas"
    BINDINGS = [
        Binding("e", "edit_quota", _("Edit"), id="quota-edit"),
        Binding("l", "load_quotas", _("Load file"), id="quota-load"),
        Binding("g", "from_extract", _("From extract"), id="quota-from-extract"),
        Binding("s", "save_quotas", _("Save file"), id="quota-save"),
        Binding("n", "name_quotas", _("Keep as set"), id="quota-keep"),
        Binding("escape", "focus_quotas", _("Quotas"), id="quota-table", show=False),
    ]

    def palette_commands(self):
        yield _("Keep quotas as a set"), _("Keep the quotas in the workspace under a name (n)"), self.action_name_quotas
        yield _("Quotas from extract"), _("Make quotas from the chosen extract's population (g)"), self.action_from_extract
        yield _("Load quotas file"), _("Read quotas from the file named (l)"), self.action_load_quotas
        yield _("Save quotas file"), _("Write the quotas to the file named (s)"), self.action_save_quotas

    def compose(self) -> ComposeResult:
        yield NavBar("quotas")
        with Horizontal(id="quota-inputs"):
            yield _titled(Input(placeholder=_("path, e.g. kiintiot.csv"), id="quota-file"), _("Quotas file"))
            yield _titled(Input("30", id="panel-size"), _("Panel size"))
            yield _titled(Input("1", id="tolerance"), _("Tolerance (seats)"))
            yield _titled(Select([], prompt=_("newest extract"), id="quota-extract"), _("Population from"))
        with Horizontal(id="quota-set-row"):
            yield _titled(Select([], prompt=_("no quota set saved yet"), id="quota-sets"), _("Saved quota set"))
        yield Static(_("Load a quotas file (l) or make quotas from an extract's population (g)."), id="feasibility",
                     markup=False)
        table = DataTable(id="quotas", cursor_type="row", zebra_stripes=True)
        table.add_columns(_("Feature"), _("Value"), _("Min"), _("Max"), _("Pool"), _("Pool share"), _("Seats if proportional to pool"))
        yield table
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        from pool.extract import list_extracts

        self.title = _("Otos — Quotas")
        extracts = [e for e in list_extracts(self.app.engine) if not e["purged"] and e["rows"]]
        self.query_one("#quota-extract", Select).set_options(
            (plain(_("extract {id}: {file}").format(id=e['id'], file=e['file'])), e["id"]) for e in reversed(extracts))
        self.list_sets()
        if self.app.quotas:
            self.show_size()
            self.refresh_quotas()

    def list_sets(self) -> None:
        from sampling import quota_sets

        sets = quota_sets.listing(self.app.engine)
        select = self.query_one("#quota-sets", Select)
        with select.prevent(Select.Changed):  # showing the set in use is not choosing it again
            select.set_options((plain(_("{name} · {size} seats · {quotas} quotas · {value}").format(name=q['name'], size=q['size'], quotas=q['quotas'], value=moment(q['saved_at'], with_time=False))), q["name"]) for q in sets)
            if self.app.quota_set in {q["name"] for q in sets}:
                select.value = self.app.quota_set

    def show_size(self) -> None:
        if self.app.quota_size:
            self.query_one("#panel-size", Input).value = str(self.app.quota_size)

    @guarded
    @on(Select.Changed, "#quota-sets")
    def _set_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        self.app.use_quota_set(str(event.value))
        self.show_size()
        self.refresh_quotas()

    @guarded
    def action_name_quotas(self) -> None:
        """n: keep the quotas in use, for the panel size given, under a name (asks before replacing one)."""
        from sampling import quota_sets

        if not self.app.quotas:
            raise OtosError(_("There are no quotas to keep yet: make them (g) or load a file (l) first."))
        size = self.wanted_size()
        quotas = list(self.app.quotas)

        def save(name: str, replace: bool) -> None:
            quota_sets.save(self.app.engine, name, quotas, size, replace=replace)
            self.app.use_quotas(quotas, size, _("the quota set {name!r}").format(name=name), name)
            self.list_sets()
            self.notify(_("Quotas kept as {name!r} (a panel of {size}); they are here after a restart.").format(name=name, size=size))

        def named(name: str | None) -> None:
            if name is None:
                return
            if any(q["name"] == name for q in quota_sets.listing(self.app.engine)):
                self.app.push_screen(ConfirmDialog(_("Replace the quota set {name!r} with these quotas?").format(name=name), _("Replace")),
                                     self.guard(lambda yes: yes and save(name, True)))
            else:
                save(name, False)
        self.app.push_screen(NameDialog(_("Keep these quotas as a set"), "Name", self.app.quota_set or ""),
                             self.guard(named))

    @guarded
    def on_screen_resume(self) -> None:
        """Back on this screen: show the quotas in use (another screen may have set them)."""
        if self.app.quotas and self.is_mounted:
            self.refresh_quotas()

    def wanted_size(self) -> int:
        try:
            size = int(self.query_one("#panel-size", Input).value)
        except ValueError:
            raise OtosError(_("The panel size must be a whole number.")) from None
        if size < 1:
            raise OtosError(_("The panel size must be at least 1."))
        return size

    @guarded
    def action_focus_quotas(self) -> None:
        """Escape: from a field back to the quotas, where the keys act."""
        self.query_one("#quotas", DataTable).focus()

    @guarded
    def action_load_quotas(self) -> None:
        from sampling.interop import read_features

        path = self.query_one("#quota-file", Input).value.strip()
        if not path:
            self.notify(_("Type the path of a features.csv first."), severity="warning")
            return
        self.app.use_quotas(read_features(Path(path).expanduser()), self.wanted_size(), _("the quotas file {path}").format(path=path))
        self.refresh_quotas()

    @guarded
    def action_from_extract(self) -> None:
        from sampling.targets import make_quotas

        try:
            tolerance = int(self.query_one("#tolerance", Input).value)
        except ValueError:
            raise OtosError(_("The tolerance must be a whole number of seats.")) from None
        chosen = self.query_one("#quota-extract", Select).value
        made = make_quotas(self.app.engine, self.wanted_size(), tolerance=tolerance,
                           extract_id=None if chosen is Select.NULL else int(chosen))
        self.app.use_quotas(made.quotas, self.wanted_size(), _("the quotas made from {source}").format(source=made.source))
        self.notify(_("Quotas made from the population of {source}.").format(source=made.source))
        self.refresh_quotas()

    @guarded
    def action_save_quotas(self) -> None:
        from sampling.interop import write_features

        path = self.query_one("#quota-file", Input).value.strip()
        if not path or not self.app.quotas:
            self.notify(_("Give a file name and make or load quotas first."), severity="warning")
            return
        write_features(Path(path).expanduser(), self.app.quotas)
        self.notify(_("Quotas saved to {path}.").format(path=path))

    @on(DataTable.RowSelected, "#quotas")
    @guarded
    def _row_chosen(self) -> None:  # Enter on a row
        self.action_edit_quota()

    @guarded
    def action_edit_quota(self) -> None:
        table = self.query_one("#quotas", DataTable)
        if not self.app.quotas or table.row_count == 0:
            return
        index = table.cursor_row

        def saved(quota: Quota | None) -> None:
            if quota is not None:
                self.app.quotas[index] = quota
                if not self.app.quota_source.endswith("(edited)"):
                    self.app.quota_source += " (edited)"
                self.refresh_quotas()
        self.app.push_screen(QuotaEditor(self.app.quotas[index]), self.guard(saved))

    @on(Input.Submitted, "#panel-size")
    @guarded
    def _size_changed(self) -> None:
        self.refresh_quotas()

    def refresh_quotas(self) -> None:
        self.query_one("#feasibility", Static).update(_("Checking the quotas against the pool ..."))
        self.app.quota_size = self.wanted_size()
        self.check_quotas(list(self.app.quotas), self.app.quota_size)

    @work(thread=True, exclusive=True, exit_on_error=False, group="quota-check")
    def check_quotas(self, quotas: list[Quota], size: int) -> None:
        from sampling.feasibility import check_feasible
        from sampling.panels import pool_problem
        from sampling.problem import check

        problem = pool_problem(self.app.engine, quotas, size)
        counts = Counter()
        for values in problem.values:
            for f, v in zip(problem.features, values):
                counts[(f, v)] += 1
        try:
            check(problem)
            clash = check_feasible(problem)
            status = _("Feasible: panels meeting every quota exist.") if clash is None else clash.message(size)
        except OtosError as exc:
            status = str(exc)
        self.app.call_from_thread(self._show, quotas, counts, len(problem.ids), size, status)

    def _show(self, quotas, counts, pool, size, status) -> None:
        table = self.query_one("#quotas", DataTable)
        row = table.cursor_row
        table.clear()
        for q in quotas:
            n = counts[(q.feature, q.value)]
            share = n / pool if pool else 0.0
            table.add_row(*plain_row(q.feature, q.value, q.min, q.max, n, percent(share), fmt_number(share * size, 1)))
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        feasibility = self.query_one("#feasibility", Static)
        feasibility.update(_("Pool: {pool} active members. {status}").format(pool=pool, status=status))
        feasibility.set_class(not status.startswith("Feasible"), "error")


class DrawScreen(Guarded, Screen):
    """Any panel drawn so far (newest first) with its seats, replacement and verification;
    a new draw with a seed and the lottery's progress."""

    AUTO_FOCUS = "#seed"
    BINDINGS = [
        Binding("ctrl+d", "draw", _("Draw panel"), id="draw-panel", priority=True),
        Binding("r", "replace", _("Replace member"), id="draw-replace"),
        Binding("v", "verify", _("Verify"), id="draw-verify"),
        Binding("u", "use_quotas", _("Use its quotas"), id="draw-use-quotas"),
        Binding("escape", "focus_seats", _("Stop / seats"), id="draw-seats", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.panel_id: int | None = None
        self.panels: dict[int, dict] = {}  # id -> the panel as sampling.panels.list_panels gives it
        self.size_shown: int | None = None  # the quotas' panel size last put in the Seats field

    def palette_commands(self):
        yield _("Draw panel"), _("Run the lottery with the seed given (Ctrl+D)"), self.action_draw
        yield _("Replace member"), _("Draw a replacement for the selected member (r)"), self.action_replace
        yield _("Verify panel"), _("Recompute the chosen panel's lottery (v)"), self.action_verify
        yield (_("Use the panel's quotas"), _("Make the chosen panel's quotas the ones to draw with (u)"),
               self.action_use_quotas)

    def compose(self) -> ComposeResult:
        yield NavBar("draw")
        with Horizontal(id="draw-choose"):
            yield _titled(Select([], prompt=_("no panel drawn yet"), id="draw-panels"), _("Panel"))
        with Horizontal(id="draw-inputs"):
            yield _titled(Input(placeholder=_("e.g. the lottery numbers of the week"), id="seed"), _("Public seed"))
            yield _titled(Input("30", id="draw-size"), _("Seats"))
            yield _titled(Input("1", id="draw-reserves"), _("Reserves"))
            yield _titled(Select([(_("fair (leximin)"), "leximin"), (_("greedy (less fair)"), "legacy")],
                                 value="leximin", allow_blank=False, id="method"), _("Method"))
            yield Button(_("Draw"), variant="primary", id="draw")
        yield ProgressBar(total=1.0, show_eta=False, id="draw-progress")
        yield Static(_("Set the quotas on the Quotas screen (F4), give a seed, then Draw (Ctrl+D)."), id="draw-status",
                     markup=False)
        yield Static("", id="draw-panel-info", markup=False)
        table = DataTable(id="panel", cursor_type="row", zebra_stripes=True)
        table.add_columns(_("Member"), _("Name"), _("Role"), _("Probability"), _("Quota group"))
        yield table
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        self.title = _("Otos — Draw")
        self.list_panels()
        self.on_screen_resume()

    @guarded
    def on_screen_resume(self) -> None:
        """The seats follow the quotas in use when they change (F4, a quota set, u)."""
        if self.app.quota_size and self.app.quota_size != self.size_shown:
            self.size_shown = self.app.quota_size
            self.query_one("#draw-size", Input).value = str(self.app.quota_size)

    def list_panels(self, chosen: int | None = None) -> None:
        """Fill the panel list, newest first, and show ``chosen`` (else the newest)."""
        from sampling.panels import list_panels

        panels = list(reversed(list_panels(self.app.engine)))
        self.panels = {p["id"]: p for p in panels}
        select = self.query_one("#draw-panels", Select)
        select.set_options((plain(_("panel {id} · {value} · {size} seats").format(id=p['id'], value=moment(p['created_at'], with_time=False), size=p['size'])
                                  + (f" · {p['round']}" if p["round"] else "")), p["id"]) for p in panels)
        if panels:
            select.value = chosen if chosen is not None else panels[0]["id"]
            self.query_one("#panel", DataTable).focus()  # r and v act on its seats

    @guarded
    @on(Select.Changed, "#draw-panels")
    def _panel_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        self.panel_id = int(event.value)
        p = self.panels[self.panel_id]
        self.query_one("#draw-panel-info", Static).update(
            _("Panel {id}, drawn {value} with ").format(id=p['id'], value=moment(p['created_at']))
            + (_("ticket {ticket}").format(ticket=p['ticket']) if p.get("ticket") is not None else _("the seed {seed!r}").format(seed=p['seed']))
            + _(" ({algorithm}); lowest selection probability {min_probability}. r replaces the selected member, v verifies the draw, u takes its quotas for the next draw.").format(algorithm=p['algorithm'], min_probability=fmt_number(p['min_probability'], 4)))
        self.show_seats()

    @guarded
    def action_focus_seats(self) -> None:
        """Escape: stop a draw or verification under way (a replacement is quick and goes
        on); else go to the seats."""
        if stop_work(self, "draw"):
            self._progress(0.0, _("Stopping ..."))
            return
        self.query_one("#panel", DataTable).focus()

    @guarded
    @on(Button.Pressed, "#draw")
    def action_draw(self) -> None:
        seed = self.query_one("#seed", Input).value.strip()
        if not seed:
            raise OtosError(_("Give the public seed first."))
        if not self.app.quotas:
            raise OtosError(_("There are no quotas yet: set them on the Quotas screen (F4)."))
        size = self._whole("#draw-size", _("The number of seats"), 1)
        reserves = self._whole("#draw-reserves", _("The number of reserves per seat"), 0)
        method = str(self.query_one("#method", Select).value)

        def go(yes: bool | None) -> None:
            if yes:
                self._progress(0.0, _("Drawing ... (Escape stops it; nothing is recorded until it ends)"))
                self.run_draw(list(self.app.quotas), size, seed, method, reserves)
        self.app.push_screen(ConfirmDialog(_("Draw a panel of {size} with {quotas}, the seed {seed!r} and {reserves} reserve(s) per seat? The draw is recorded and cannot be undone.").format(size=size, quotas=self.app.quota_source or _('the quotas'), seed=seed, reserves=reserves), _("Draw")), self.guard(go))

    def _whole(self, field: str, label: str, least: int) -> int:
        """The whole number in ``field``, checked before the draw is offered."""
        try:
            value = int(self.query_one(field, Input).value)
        except ValueError:
            raise OtosError(_("{label} must be a whole number.").format(label=label)) from None
        if value < least:
            raise OtosError(_("{label} must be at least {least} (given {value}).").format(label=label, least=least, value=value))
        return value

    @work(thread=True, exclusive=True, exit_on_error=False, group="draw")
    def run_draw(self, quotas: list[Quota], size: int, seed: str, method: str, reserves: int) -> None:
        from sampling.panels import draw_panel

        worker = get_current_worker()
        progress = lambda f, m: self.app.call_from_thread(self._progress, f, m)  # noqa: E731
        try:
            panel_id, sel = draw_panel(self.app.engine, quotas, size, seed, method=method, progress=progress,
                                       reserves_per_seat=reserves, cancelled=lambda: worker.is_cancelled)
        except Cancelled as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        except OtosError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._drawn, panel_id, sel)

    def _progress(self, fraction: float, message: str) -> None:
        self.query_one("#draw-progress", ProgressBar).update(progress=fraction)
        status = self.query_one("#draw-status", Static)
        status.remove_class("error")
        status.update(message)

    def _failed(self, message: str) -> None:
        status = self.query_one("#draw-status", Static)
        status.update(message)
        status.add_class("error")

    def _drawn(self, panel_id: int, sel) -> None:
        self.list_panels(panel_id)
        self.query_one("#draw-progress", ProgressBar).update(progress=1.0)
        probs = sorted(sel.probabilities.values())
        self.query_one("#draw-status", Static).update(
            _("Panel {panel_id} drawn ({algorithm}). Selection probabilities over the pool: lowest {value}, median {value2}, highest {value3}. ").format(panel_id=panel_id, algorithm=sel.algorithm, value=fmt_number(probs[0], 4), value2=fmt_number(probs[len(probs) // 2], 4), value3=fmt_number(probs[-1], 4))
            + (_("Lottery SHA-256 {value}… (publish its record on F7, j). ").format(value=sel.prepared.sha256[:16]) if sel.prepared else "")
            + " ".join(f"Note: {n}." for n in sel.notes))

    def show_seats(self) -> None:
        from sampling.panels import panel_seats, role_label

        table = self.query_one("#panel", DataTable)
        table.clear()
        for seat in panel_seats(self.app.engine, self.panel_id):
            table.add_row(*plain_row(seat["member"], seat["name"], role_label(seat), fmt_number(seat['probability'], 4),
                                     " · ".join(seat["group_shown"])), key=seat["member"])

    def _chosen_panel(self) -> int:
        if self.panel_id is None:
            raise OtosError(_("Draw a panel first, or choose one from the list."))
        return self.panel_id

    @guarded
    def action_replace(self) -> None:
        panel = self._chosen_panel()
        table = self.query_one("#panel", DataTable)
        if table.row_count == 0:
            raise OtosError(_("Panel {panel} has no seats to replace.").format(panel=panel))
        member = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

        def go(yes: bool | None) -> None:
            if yes:
                self._progress(0.0, _("Finding a replacement for member {member} ...").format(member=member))
                self.run_replace(panel, member)
        self.app.push_screen(ConfirmDialog(_("Member {member} has dropped out of panel {panel}? The next reserve who keeps every quota takes the seat, else a replacement is drawn that keeps every quota.").format(member=member, panel=panel), _("Replace")), self.guard(go))

    @work(thread=True, exclusive=True, exit_on_error=False, group="replace")
    def run_replace(self, panel: int, member: int) -> None:
        from sampling.panels import replace_member

        try:
            new = replace_member(self.app.engine, panel, member)
        except OtosError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._replaced, panel, member, new)

    def _replaced(self, panel: int, member: int, new) -> None:
        how = (_("reserve number {reserve_rank} for member {reserve_for}").format(reserve_rank=new.reserve_rank, reserve_for=new.reserve_for) if new.reserve_rank is not None
               else _("drawn by the replacement lottery"))
        text = _("Member {member} ({how}) takes the seat of member {member2} on panel {panel}.").format(member=new.member, how=how, member2=member, panel=panel)
        self._progress(1.0, text)
        self.notify(text)
        if self.panel_id == panel:
            self.show_seats()

    @guarded
    def action_use_quotas(self) -> None:
        """u: the chosen panel's quotas and size become the ones the next draw uses (F4 shows them)."""
        from sampling.panels import panel_quotas

        panel = self._chosen_panel()
        self.app.use_quotas(*panel_quotas(self.app.engine, panel), _("the quotas of panel {panel}").format(panel=panel))
        self.on_screen_resume()
        self.notify(_("The quotas of panel {panel} ({count}) are in use; see or edit them on F4.").format(panel=panel, count=len(self.app.quotas)))

    @guarded
    def action_verify(self) -> None:
        panel = self._chosen_panel()
        self._progress(0.0, _("Checking the lottery of panel {panel} ... (Escape stops it)").format(panel=panel))
        self.run_verify(panel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="draw")
    def run_verify(self, panel: int) -> None:
        from sampling.panels import verify_panel

        try:
            result = verify_panel(self.app.engine, panel)
        except OtosError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        if get_current_worker().is_cancelled:
            self.app.call_from_thread(self._failed, _("Verification stopped."))
            return
        text = (_("Panel {panel} verified: its stored lottery and the draw from it give exactly this panel.").format(panel=panel) if result.ok
                else _("Panel {panel} NOT verified: ").format(panel=panel) + "; ".join(result.differences))
        text += "".join(f" Note: {n}." for n in result.notes)
        self.app.call_from_thread(self._verified, text, result.ok)

    def _verified(self, text: str, ok: bool) -> None:
        self._progress(1.0, text)
        if not ok:
            self.query_one("#draw-status", Static).add_class("error")
        self.notify(text, severity="information" if ok else "error", timeout=12)
