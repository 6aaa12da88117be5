"""The project's own error types: what a user can cause, with where and what to do."""
from __future__ import annotations

from dataclasses import dataclass
from pool.i18n import _


class OtosError(Exception):
    """An error a user can cause and fix. Its message says what, where and what to do.

    The CLI and TUI show ``str(error)`` and never a traceback. Messages never carry
    personal data (names, identity codes, addresses).
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        ended = message.rstrip()
        if hint and ended and ended[-1] not in ".!?:)":
            ended += "."  # two sentences, never run together
        super().__init__(ended if not hint else f"{ended} {hint}")


class RejectedFile(OtosError):
    """A whole input file was rejected; nothing was written."""


class NotFound(OtosError):
    """A record the user named does not exist."""


class Cancelled(OtosError):
    """The user stopped a running task; nothing of it was saved."""


class ImportCancelled(Cancelled):
    """The user cancelled a running import; the database is unchanged."""


@dataclass(frozen=True)
class RowFault:
    """One fault in one row of an input file: where it is and what is wrong.

    ``column`` is the 1-based field position (delimited) or character position
    (fixed width). ``message`` never contains the faulty value itself, because the
    value may be personal data.
    """

    line: int
    field: str
    column: int | None
    message: str
    note: bool = False  # left out but harmless (an identical repeated row): --strict lets it pass

    def __str__(self) -> str:
        where = _("line {line}").format(line=self.line)
        if self.column is not None:
            where += _(", column {column}").format(column=self.column)
        return f"{where} ({self.field}): {self.message}"
