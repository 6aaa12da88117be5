"""The Extracts and Pool screens. They compose widgets and call the domain packages."""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from pool.errors import OtosError
from tui.dialogs import (ConfirmDialog, ImportDialog, ImportProgress, InviteDialog, InviteRequest, MemberForm,
                         ReportDialog, SurveyDialog, SurveyImport)
from tui.guard import Guarded, guarded
from tui.nav import NavBar
from tui.plain import plain_row
from pool.i18n import _, moment, ngettext, number

PAGE_SIZE = 100


class ExtractsScreen(Guarded, Screen):
    """Imported DVV extracts: import with progress, validation report, purge."""

    AUTO_FOCUS = "#extracts"

    BINDINGS = [
        Binding("i", "import_extract", _("Import"), id="extract-import"),
        Binding("d", "invite", _("Draw invitations"), id="extract-invite"),
        Binding("f", "show_faults", _("Faults"), id="extract-faults"),
        Binding("p", "purge", _("Purge"), id="extract-purge"),
        Binding("r", "refresh", _("Refresh"), id="extract-refresh"),
    ]

    def palette_commands(self):
        yield _("Import extract"), _("Import a DVV extract file (i)"), self.action_import_extract
        yield _("Draw invitations"), _("Draw a recruitment round from the selected extract (d)"), self.action_invite
        yield _("Purge extract"), _("Delete non-members' register data (p)"), self.action_purge
        yield _("Show faults"), _("Rows left out of the selected extract (f)"), self.action_show_faults

    def compose(self) -> ComposeResult:
        yield NavBar("extracts")
        yield Static("", id="extracts-note", markup=False)
        table = DataTable(id="extracts", cursor_type="row", zebra_stripes=True)
        table.add_columns(_("ID"), _("File"), _("People"), _("Rejected"), _("Mailable"), _("Delete by"), _("State"), _("Permit"), _("Purpose"))
        yield table
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        self.title = _("Otos — Extracts")
        self.action_refresh()

    @guarded
    def action_refresh(self) -> None:
        from pool.extract import list_extracts

        table = self.query_one("#extracts", DataTable)
        table.clear()
        rows = list_extracts(self.app.engine)
        for e in rows:
            state = _("purged") if e["purged"] else (_("OVERDUE — purge") if e["overdue"] else _("in use"))
            table.add_row(*plain_row(e["id"], e["file"], number(e['rows']), number(e['rejected']), number(e['mailable']),
                                     moment(e["delete_by"], with_time=False), state, e["permit"], e["purpose"]), key=str(e["id"]))
        note = _("No extracts yet: press i to import one.") if not rows else ngettext("{count} extract.", "{count} extracts.", len(rows)).format(count=len(rows))
        self.query_one("#extracts-note", Static).update(note)

    def _selected(self) -> int | None:
        table = self.query_one("#extracts", DataTable)
        if table.row_count == 0:
            self.notify(_("There is no extract to act on."), severity="warning")
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @guarded
    def action_import_extract(self) -> None:
        def start(request) -> None:
            if request is not None:
                self.app.push_screen(ImportProgress(request), self.guard(self._imported))
        self.app.push_screen(ImportDialog(), self.guard(start))

    def _imported(self, report) -> None:
        self.action_refresh()
        if report is None:
            return
        self.app.push_screen(ReportDialog(report.summary(), report.faults))

    @guarded
    def action_invite(self) -> None:
        """d: draw a recruitment round (invitations with response codes) from the selected extract."""
        ext = self._selected()
        if ext is None:
            return

        def start(request: InviteRequest | None) -> None:
            if request is not None:
                self.query_one("#extracts-note", Static).update(
                    _("Drawing {size} invitations from extract {ext} ...").format(size=number(request.size), ext=ext))
                self.run_invite(request)
        self.app.push_screen(InviteDialog(ext), self.guard(start))

    @work(thread=True, exclusive=True, exit_on_error=False, group="invite")
    def run_invite(self, request: InviteRequest) -> None:
        from sampling.invitations import invite_round

        try:
            result = invite_round(self.app.engine, request.extract_id, request.size, request.seed,
                                  round_name=request.round_name, oversample=request.oversample)
        except OtosError as exc:
            self.app.call_from_thread(self._invite_failed, str(exc))
            return
        self.app.call_from_thread(self._invited, request.extract_id, result)

    def _invite_failed(self, message: str) -> None:
        self.query_one("#extracts-note", Static).update(message)
        self.notify(message, severity="error", timeout=12)

    def _invited(self, extract_id: int, result) -> None:
        text = (_("Round {round!r}: {drawn} invitations with response codes from extract {extract_id} ({candidates} could be invited). Print the letters on F6.").format(round=result.round, drawn=number(result.drawn), extract_id=extract_id, candidates=number(result.candidates)))
        self.query_one("#extracts-note", Static).update(text)
        self.notify(text, timeout=12)

    @guarded
    def action_show_faults(self) -> None:
        from pool.extract import faults_of

        ext = self._selected()
        if ext is None:
            return
        faults = faults_of(self.app.engine, ext)
        summary = _("Extract {ext}: {count} row fault(s) listed.").format(ext=ext, count=len(faults)) if faults else _("Extract {ext}: no faulty rows.").format(ext=ext)
        self.app.push_screen(ReportDialog(summary, faults))

    @guarded
    def action_purge(self) -> None:
        from pool.extract import purge

        ext = self._selected()
        if ext is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                try:
                    n = purge(self.app.engine, ext)
                except OtosError as exc:
                    self.notify(str(exc), severity="error")
                    return
                self.notify(_("Extract {ext} purged: {n} register rows deleted.").format(ext=ext, n=number(n)))
                self.action_refresh()
        self.app.push_screen(ConfirmDialog(
            _("Purge extract {ext}? The register data of everyone who did not join the pool is deleted for good.").format(ext=ext), _("Purge")), self.guard(confirmed))


class PoolScreen(Guarded, Screen):
    """The resident pool: a paged table over SQL with search and filters."""

    AUTO_FOCUS = "#members"  # keys act on the table; / moves to the search box

    BINDINGS = [
        Binding("a", "add_member", _("Add"), id="pool-add"),
        Binding("i", "import_survey", _("Import survey"), id="pool-import"),
        Binding("e", "edit_member", _("Edit"), id="pool-edit"),
        Binding("w", "withdraw_member", _("Withdraw"), id="pool-withdraw"),
        Binding("pagedown,n", "next_page", _("Next page"), id="pool-next-page"),
        Binding("pageup,b", "previous_page", _("Previous page"), id="pool-previous-page"),
        Binding("home", "first_page", _("First page"), id="pool-first-page", show=False),
        Binding("end", "last_page", _("Last page"), id="pool-last-page", show=False),
        Binding("slash", "focus_search", _("Search"), id="pool-search"),
        Binding("escape", "focus_members", _("Members"), id="pool-members", show=False),
    ]

    SEARCH_DELAY = 0.25  # seconds after the last keystroke before the pool is searched

    def __init__(self) -> None:
        super().__init__()
        self.page_start = 0
        self.total = 0
        self._count_needed = True
        self._search_timer = None

    def palette_commands(self):
        yield _("Add member"), _("Register a volunteer by hand (a)"), self.action_add_member
        yield _("Import survey"), _("Register the volunteers of a survey export (i)"), self.action_import_survey
        yield _("Edit member"), _("Change the selected member (e)"), self.action_edit_member
        yield _("Withdraw member"), _("Erase the selected member's data (w)"), self.action_withdraw_member
        yield _("Search pool"), _("Search by name, e-mail or phone (/)"), self.action_focus_search

    def compose(self) -> ComposeResult:
        yield NavBar("pool")
        with Horizontal(id="pool-filters"):
            yield Input(placeholder=_("search name, e-mail or phone"), id="search")
            yield Select([("active", "active"), ("paused", "paused")], prompt=_("any status"), id="status")
            yield Select([(x, x) for x in ("fi", "sv", "en", "se")], prompt=_("any language"), id="language")
        yield Static("", id="page-info", markup=False)
        table = DataTable(id="members", cursor_type="row", zebra_stripes=True)
        table.add_columns(_("ID"), _("Surname"), _("First names"), _("Born"), _("Sex"), _("Municipality"), _("Lang"), _("Education"),
                          _("Status"), _("Round"))
        yield table
        yield Footer()

    @guarded
    def on_mount(self) -> None:
        self.title = _("Otos — Pool")
        self.load_page()

    def query_filter(self):
        from pool.members import MemberQuery

        value = lambda wid: self.query_one(f"#{wid}", Select).value  # noqa: E731
        status, language = value("status"), value("language")
        return MemberQuery(search=self.query_one("#search", Input).value,
                           status=None if status is Select.NULL else str(status),
                           language=None if language is Select.NULL else str(language))

    @on(Input.Changed, "#search")
    @guarded
    def _search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(self.SEARCH_DELAY, self._filter_changed)

    @on(Select.Changed)
    @guarded
    def _filter_changed(self) -> None:
        self.page_start = 0
        self._count_needed = True
        self.load_page()

    def refresh_pool(self) -> None:
        """Reload the current page and the count (after an add, edit or withdrawal)."""
        self._count_needed = True
        self.load_page()

    @work(thread=True, exclusive=True, exit_on_error=False, group="pool-page")
    def load_page(self) -> None:
        """Fetch one page in SQL off the UI thread (and count only when the filter
        changed); never the whole pool."""
        from pool.members import count_members, list_members

        q = self.app.call_from_thread(self.query_filter)
        total = count_members(self.app.engine, q) if self._count_needed else self.total
        page = list_members(self.app.engine, q, offset=self.page_start, limit=PAGE_SIZE)
        self.app.call_from_thread(self._show_page, page, total)

    def _show_page(self, page, total: int) -> None:
        from pool.reference import municipalities

        self.total = total
        self._count_needed = False
        from sampling.categories import sex_name

        munis = municipalities()
        table = self.query_one("#members", DataTable)
        table.clear()
        for m in page:
            muni = munis[m.municipality].name_fi if m.municipality in munis else (m.municipality or "")
            table.add_row(*plain_row(m.id, m.surname, m.first_names, m.birth_year or "",
                                     sex_name(m.sex), muni, m.preferred_language, m.education or "",
                                     m.status, m.recruitment_round or ""), key=str(m.id))
        if total:
            info = _("Members {value}–{value2} of {total}  (n / b: next / previous page)").format(value=number(self.page_start + 1), value2=number(self.page_start + len(page)), total=number(total))
        else:
            info = _("No members match.") if self.page_start == 0 else ""
        self.query_one("#page-info", Static).update(info)

    @guarded
    def action_next_page(self) -> None:
        if self.page_start + PAGE_SIZE < self.total:
            self.page_start += PAGE_SIZE
            self.load_page()

    @guarded
    def action_previous_page(self) -> None:
        if self.page_start > 0:
            self.page_start = max(0, self.page_start - PAGE_SIZE)
            self.load_page()

    @guarded
    def action_first_page(self) -> None:
        self.page_start = 0
        self.load_page()

    @guarded
    def action_last_page(self) -> None:
        self.page_start = max(0, (self.total - 1) // PAGE_SIZE * PAGE_SIZE)
        self.load_page()

    @guarded
    def action_import_survey(self) -> None:
        """i: register every volunteer of a survey export, all or nothing (by response code when mapped)."""
        def start(request: SurveyImport | None) -> None:
            if request is not None:
                self.query_one("#page-info", Static).update(_("Importing {path} ...").format(path=request.path))
                self.run_survey(request)
        self.app.push_screen(SurveyDialog(), self.guard(start))

    @work(thread=True, exclusive=True, exit_on_error=False, group="survey")
    def run_survey(self, request: SurveyImport) -> None:
        from pool.members import import_members

        try:
            n = import_members(self.app.engine, request.path, request.mapping,
                               consent_version=request.consent_version, recruitment_round=request.round_name)
        except OtosError as exc:
            self.app.call_from_thread(self._survey_done, str(exc), True)
            return
        self.app.call_from_thread(self._survey_done, _("Imported {n} pool member(s) from {path}.").format(n=number(n), path=request.path), False)

    def _survey_done(self, text: str, failed: bool) -> None:
        self.load_page()
        self.notify(text, severity="error" if failed else "information", timeout=20 if failed else 8)

    @guarded
    def action_focus_members(self) -> None:
        """Escape: from the search box back to the members, where a, e and w act."""
        self.query_one("#members", DataTable).focus()

    @guarded
    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def _selected(self) -> int | None:
        table = self.query_one("#members", DataTable)
        if table.row_count == 0:
            self.notify(_("No member is selected."), severity="warning")
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _saved(self, member_id: int | None) -> None:
        if member_id is not None:
            self.notify(_("Saved member {member_id}.").format(member_id=member_id))
            self.refresh_pool()

    @guarded
    def action_add_member(self) -> None:
        self.app.push_screen(MemberForm(), self.guard(self._saved))

    @guarded
    def action_edit_member(self) -> None:
        from pool.members import get_member

        member_id = self._selected()
        if member_id is not None:
            self.app.push_screen(MemberForm(get_member(self.app.engine, member_id)), self.guard(self._saved))

    @guarded
    def action_withdraw_member(self) -> None:
        from pool.members import withdraw

        member_id = self._selected()
        if member_id is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                withdraw(self.app.engine, member_id)
                self.notify(_("Member {member_id} withdrawn; their personal data is erased.").format(member_id=member_id))
                self.refresh_pool()
        self.app.push_screen(ConfirmDialog(
            _("Withdraw member {member_id}? Their personal data is erased for good.").format(member_id=member_id), _("Withdraw")), self.guard(confirmed))
