"""Modal screens: each returns a typed result through ``dismiss``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from pool.errors import OtosError
from tui.guard import Guarded, guarded
from tui.plain import plain_row
from pool.i18n import N_, _, parse_date


def _titled(widget, title: str):
    """A field keeps its name in its border once a value hides the placeholder. A Select
    draws its border on an inner part, which has no title: a titled Select draws the
    border itself (class ``titled``, see otos.tcss)."""
    widget.border_title = title
    if isinstance(widget, Select):
        widget.add_class("titled")
    return widget


class FormDialog(Guarded, ModalScreen):
    """A modal form: it opens with its first field focused, so typing goes into it;
    Enter in a field presses the form's main button; Escape or Cancel dismisses with
    None. ``form_end`` yields the error line and the buttons every form ends with."""

    AUTO_FOCUS = "Input"
    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="dialog-cancel")]

    @on(Input.Submitted)
    @guarded
    def _enter_submits(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(".buttons Button", Button).press()

    def form_end(self, ok_label: str, ok_id: str) -> ComposeResult:
        yield Static("", id="error", classes="error", markup=False)
        with Horizontal(classes="buttons"):
            yield Button(ok_label, variant="primary", id=ok_id)
            yield Button(_("Cancel"), id="cancel")

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)

    def missing(self, *fields: tuple[str, str]) -> bool:
        """Whether one of the (input id, what it asks for) fields is empty: then it says
        which and focuses it."""
        for wid, what in fields:
            if not self.query_one(f"#{wid}", Input).value.strip():
                self.show_error(_("Give {what}.").format(what=what))
                self.query_one(f"#{wid}", Input).focus()
                return True
        return False

    @on(Button.Pressed, "#cancel")
    @guarded
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(Guarded, ModalScreen[bool]):
    """Ask a yes/no question; ``True`` only when the user presses the confirm button.
    Cancel has the focus, so a tired Enter (or the key that opened the dialog, pressed
    twice) never erases, purges or draws."""

    AUTO_FOCUS = "#cancel"
    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="dialog-cancel")]

    def __init__(self, question: str, confirm_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, id="question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.confirm_label, variant="error", id="confirm")
                yield Button(_("Cancel"), id="cancel")

    @on(Button.Pressed, "#confirm")
    @guarded
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    @guarded
    def action_cancel(self) -> None:
        self.dismiss(False)


@dataclass
class ImportRequest:
    path: str
    permit: str
    purpose: str
    delete_by: dt.date
    profile: str
    strict: bool


class ImportDialog(FormDialog):
    """Ask for the file and the terms the extract was delivered under (-> ImportRequest)."""

    def compose(self) -> ComposeResult:
        from pool.profile import shipped_profiles

        with Vertical(classes="dialog"):
            yield Label(_("Import a DVV extract"), classes="title")
            with VerticalScroll(classes="fields"):
                yield _titled(Input(placeholder=_("path of the extract file"), id="path"), _("File"))
                yield _titled(Input(placeholder=_("DVV permit number"), id="permit"), _("Permit"))
                yield _titled(Input(placeholder=_("purpose, e.g. Asukaspaneeli 2026 kutsut"), id="purpose"), _("Purpose"))
                yield _titled(Input(placeholder=_("delete by (e.g. 31.12.2027)"), id="delete-by"), _("Delete by"))
                yield _titled(Select([(p, p) for p in shipped_profiles()], value="dvv", allow_blank=False,
                                     id="profile"), _("File layout"))
                yield Checkbox(_("Reject the whole file on any faulty row (strict)"), id="strict")
            yield from self.form_end(_("Import"), "ok")

    @on(Button.Pressed, "#ok")
    @guarded
    def _ok(self) -> None:
        value = lambda wid: self.query_one(f"#{wid}", Input).value.strip()  # noqa: E731
        if self.missing(("path", _("the file")), ("permit", _("the permit number")), ("purpose", _("the purpose")),
                        ("delete-by", _("the delete-by date"))):
            return
        try:
            delete_by = parse_date(value("delete-by"))
        except ValueError as exc:
            self.show_error(_("The delete-by date {problem}.").format(problem=exc))
            return
        self.dismiss(ImportRequest(str(Path(value("path")).expanduser()), value("permit"), value("purpose"), delete_by,
                                   str(self.query_one("#profile", Select).value),
                                   self.query_one("#strict", Checkbox).value))


@dataclass(frozen=True)
class SurveyImport:
    path: str
    mapping: dict
    consent_version: str
    round_name: str | None


class SurveyDialog(FormDialog):
    """Ask for a registration survey's CSV export, which of its columns hold what, and the
    consent version (-> SurveyImport)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_("Import volunteers from a survey export"), classes="title")
            with VerticalScroll(classes="fields"):
                yield _titled(Input(placeholder=_("path of the CSV file"), id="path"), _("File"))
                yield _titled(Input(placeholder=_("e.g. code=Vastauskoodi, email=Sähköposti, phone=Puhelin"),
                                    id="columns"), _("Columns (field=column in the file)"))
                yield _titled(Input(placeholder=_("the consent text's version, e.g. 2026-1"), id="consent"),
                              _("Consent version"))
                yield _titled(Input(placeholder=_("optional"), id="round-name"), _("Recruitment round"))
            yield from self.form_end(_("Import"), "ok")

    @on(Button.Pressed, "#ok")
    @guarded
    def _ok(self) -> None:
        from tui.cli_common import pairs

        value = lambda wid: self.query_one(f"#{wid}", Input).value.strip()  # noqa: E731
        if self.missing(("path", _("the file")), ("columns", _("which columns hold what")),
                        ("consent", _("the consent version"))):
            return
        try:
            mapping = pairs([c for c in value("columns").split(",") if c.strip()], _("Column"))
        except OtosError as exc:
            self.show_error(_("{exc} For example: code=Vastauskoodi, email=Sähköposti.").format(exc=exc))
            self.query_one("#columns", Input).focus()
            return
        self.dismiss(SurveyImport(str(Path(value("path")).expanduser()), {k: v.strip() for k, v in mapping.items()},
                                  value("consent"), value("round-name") or None))


@dataclass(frozen=True)
class InviteRequest:
    extract_id: int
    size: int
    seed: str
    round_name: str | None
    oversample: dict


class InviteDialog(FormDialog):
    """Ask how many to invite from an extract, the seed, the round's name and any
    oversampling (-> InviteRequest). The strata follow the workspace's settings (F9)."""

    def __init__(self, extract_id: int) -> None:
        super().__init__()
        self.extract_id = extract_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_("Invite residents from extract {extract_id}").format(extract_id=self.extract_id), classes="title")
            with VerticalScroll(classes="fields"):
                yield _titled(Input(placeholder=_("how many letters, e.g. 3000"), id="size"), _("Invitations"))
                yield _titled(Input(placeholder=_("a public seed, e.g. the lottery numbers of the week"), id="seed"),
                              "Seed")
                yield _titled(Input(placeholder=_("leave empty for month and county, e.g. 2027-01 Lappi"),
                                    id="round-name"), _("Round name"))
                yield _titled(Input(placeholder=_("optional, e.g. age=15-29:1.5, language=sv:2"), id="oversample"),
                              "Oversampling")
            yield from self.form_end(_("Draw invitations"), "ok")

    @on(Button.Pressed, "#ok")
    @guarded
    def _ok(self) -> None:
        from sampling.invitations import parse_oversample

        value = lambda wid: self.query_one(f"#{wid}", Input).value.strip()  # noqa: E731
        try:
            size = int(value("size"))
        except ValueError:
            self.show_error(_("The number of invitations must be a whole number."))
            self.query_one("#size", Input).focus()
            return
        if not value("seed"):
            self.show_error(_("Give the seed: with it anyone can repeat the draw."))
            self.query_one("#seed", Input).focus()
            return
        try:
            oversample = parse_oversample(value("oversample"))
        except OtosError as exc:
            self.show_error(str(exc))
            self.query_one("#oversample", Input).focus()
            return
        self.dismiss(InviteRequest(self.extract_id, size, value("seed"), value("round-name") or None, oversample))


class ImportProgress(Guarded, ModalScreen[Any]):
    """Run an import in a thread with a progress bar and Cancel; dismiss with the report.

    Dismisses with the ``ImportReport``, or ``None`` when cancelled or rejected (the
    message then stays on screen until closed).
    """

    BINDINGS = [Binding("escape", "cancel", _("Cancel import"), id="import-cancel")]

    def __init__(self, request: ImportRequest) -> None:
        super().__init__()
        self.request = request
        self._finished = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_("Importing {path}").format(path=self.request.path), classes="title")
            yield ProgressBar(total=1.0, id="bar", show_eta=False)
            yield Static(_("Checking the file ..."), id="status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Cancel"), variant="error", id="cancel")

    @guarded
    def on_mount(self) -> None:
        self.run_import()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_import(self) -> None:
        from pool.extract import import_extract

        worker = get_current_worker()
        r = self.request

        def progress(fraction: float, message: str) -> None:
            self.app.call_from_thread(self._progress, fraction, message)

        try:
            report = import_extract(self.app.engine, r.path, permit=r.permit, purpose=r.purpose,
                                    delete_by=r.delete_by, profile=r.profile, strict=r.strict,
                                    progress=progress, cancelled=lambda: worker.is_cancelled)
        except OtosError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        except Exception as exc:  # shown as a message, never a traceback
            self.app.call_from_thread(self._failed, _("Unexpected error ({name}); nothing was saved.").format(name=type(exc).__name__))
            return
        self.app.call_from_thread(self._done, report)

    def _progress(self, fraction: float, message: str) -> None:
        self.query_one("#bar", ProgressBar).update(progress=fraction)
        self.query_one("#status", Static).update(message)

    def _failed(self, message: str) -> None:
        self._finished = True
        self.query_one("#status", Static).update(message)
        self.query_one("#status", Static).add_class("error")
        button = self.query_one("#cancel", Button)
        button.label, button.variant = "Close", "default"

    def _done(self, report) -> None:
        self._finished = True
        self.dismiss(report)

    @on(Button.Pressed, "#cancel")
    @guarded
    def action_cancel(self) -> None:
        if self._finished:
            self.dismiss(None)
            return
        self.query_one("#status", Static).update(_("Cancelling ... nothing will be saved."))
        self.workers.cancel_all()


class ReportDialog(Guarded, ModalScreen[None]):
    """The validation report of an import: counts and the faulty rows (line, field)."""

    BINDINGS = [Binding("escape", "close", _("Close"), id="dialog-close")]

    def __init__(self, summary: str, faults: list) -> None:
        super().__init__()
        self.summary = summary
        self.faults = faults

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(_("Validation report"), classes="title")
            yield Static(self.summary, id="summary", markup=False)
            table = DataTable(id="faults", cursor_type="row")
            table.add_columns(_("Line"), _("Column"), _("Field"), _("Problem"))
            for f in self.faults[:2000]:
                table.add_row(*plain_row(f.line, f.column or "", f.field, f.message))
            yield table
            with Horizontal(classes="buttons"):
                yield Button(_("Close"), variant="primary", id="close")

    @on(Button.Pressed, "#close")
    @guarded
    def action_close(self) -> None:
        self.dismiss(None)


MEMBER_FIELDS = [
    ("first_names", N_("First names")), ("surname", N_("Surname")), ("email", N_("E-mail")), ("phone", N_("Phone")),
    ("street", N_("Street address")), ("postal_code", N_("Postal code")), ("post_office", N_("Post office")),
    ("birth_year", N_("Birth year")), ("sex", N_("Sex (1 male, 2 female)")), ("municipality", N_("Municipality code")),
    ("preferred_language", N_("Language (fi, sv, en, se)")), ("education", N_("Education")),
    ("needs", N_("Needs (accessibility, diet ...)")), ("status", N_("Status (active, paused)")),
]


class MemberForm(FormDialog):
    """Add or edit a pool member. Saves itself and dismisses with the id on success;
    a bad field keeps the form open with the message."""

    def __init__(self, member=None) -> None:
        super().__init__()
        self.member = member

    def compose(self) -> ComposeResult:
        title = _("Edit member {id}").format(id=self.member.id) if self.member else _("Add a pool member")
        with Vertical(classes="dialog wide"):
            yield Label(title, classes="title")
            with VerticalScroll(classes="fields"):
                if not self.member:
                    yield _titled(Input(placeholder=_("Response code from the letter (ABCD-EFGH), if invited"),
                                        id="code"), _("Response code: name, address and strata come from the register"))
                with Grid(classes="form-grid"):
                    for key, label in MEMBER_FIELDS:
                        value = getattr(self.member, key, None) if self.member else None
                        yield _titled(Input(value="" if value is None else str(value), placeholder=_(label),
                                            id=f"f-{key}"), _(label))
                    if not self.member:
                        yield _titled(Input(placeholder=_("Consent text version agreed to"), id="consent"),
                                      _("Consent version"))
            yield from self.form_end(_("Save"), "save")

    @on(Button.Pressed, "#save")
    @guarded
    def _save(self) -> None:
        from pool import members

        data = {key: self.query_one(f"#f-{key}", Input).value for key, _x in MEMBER_FIELDS}
        try:
            if self.member:
                members.update_member(self.app.engine, self.member.id, data)
                self.dismiss(self.member.id)
            else:
                data = {k: v for k, v in data.items() if v.strip()}
                consent = self.query_one("#consent", Input).value
                code = self.query_one("#code", Input).value.strip()
                if code:  # the register gives the rest; only the person's own answers are taken
                    answers = {k: v for k, v in data.items() if k in members.BY_CODE}
                    self.dismiss(members.register_by_code(self.app.engine, code, answers, consent_version=consent))
                else:
                    self.dismiss(members.add_member(self.app.engine, data, consent_version=consent))
        except OtosError as exc:
            self.show_error(str(exc))
