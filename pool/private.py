"""Files that hold personal data: owner-only from the moment they exist, written whole
or not at all, never through a symbolic link, and never without their audit entry.

``private_outputs`` is the one way Otos writes such files. Each file is written to a
temporary file created in the target folder with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and
mode 0600 (so neither a planted link nor the umask can widen it); when every file of
the set is complete, the caller's audit entry is committed with their SHA-256, and
only then are they renamed into place. Any failure, the audit's included, removes the
temporaries, so a personal-data file never exists without its audit entry. The
temporaries carry the writing process's id: a later run removes those whose process
is gone (``remove_stale``).

Spreadsheet programs run a cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return before them) as a formula. ``cell`` neutralises such text with
a leading apostrophe, the usual rule (OWASP, "CSV injection"); ``csv_writer`` applies
it to every value, and ``xlsx_table`` writes every text cell as a string, never a formula.
"""
from __future__ import annotations

import csv
import hashlib
import numbers
import os
import re
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator

from pool.errors import OtosError
from pool.i18n import _

PART_MARK = ".otos-part-"  # temporaries: .NAME.otos-part-PID-RANDOM
DIR_MARK = ".otos-work-"  # working folders: .otos-work-PID-RANDOM
_STALE = re.compile(r"^\..*\.otos-part-(\d+)-[0-9a-f]+$|^\.otos-work-(\d+)-")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value safe for a spreadsheet cell: text that would start a formula gets a
    leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _fraction(value: object) -> bool:
    """A real number that is not a whole-number type: Python's float or numpy's."""
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


class _SafeWriter:
    """A csv writer whose every text value is neutralised by ``cell``; with
    ``decimal_comma`` a float is written 0,62 (a number to Excel in a Finnish locale)."""

    def __init__(self, fh: IO[str], decimal_comma: bool = False, **kwargs) -> None:
        self._w = csv.writer(fh, **kwargs)
        self._comma = decimal_comma

    def writerow(self, row) -> None:
        self._w.writerow([self._number(v) if _fraction(v) else cell(v) for v in row])

    def _number(self, v) -> str:
        """A float in its shortest form (str: numpy's repr would be np.float64(...), and
        a float32 made a Python float grows digits), with a decimal comma when asked."""
        text = str(v)
        return text.replace(".", ",") if self._comma else text

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(fh: IO[str], delimiter: str = ";", *, decimal_comma: bool = False, **kwargs) -> _SafeWriter:
    """A csv writer for files people open in a spreadsheet (formula text neutralised)."""
    return _SafeWriter(fh, decimal_comma=decimal_comma, delimiter=delimiter, **kwargs)


def xlsx_table(sheet, title: str, header: list[str], rows: list[list]) -> None:
    """Fill an openpyxl sheet as a spreadsheet user expects: a bold, frozen header with
    an autofilter, columns as wide as their contents, numbers and dates as typed cells.

    Every text value is stored as a string cell: openpyxl makes a cell whose text begins
    with ``=`` a formula; setting the type afterwards writes it as plain text, so Excel
    shows it and never runs it.
    """
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.title = title
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
        for c in sheet[sheet.max_row]:
            if isinstance(c.value, str):
                c.data_type = "s"
    for c in sheet[1]:
        c.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, sheet.max_row)}"
    for i, name in enumerate(header, start=1):
        longest = max([len(str(name))] + [len(str(r[i - 1])) for r in rows if i - 1 < len(r)])
        sheet.column_dimensions[get_column_letter(i)].width = min(50, longest + 3)


def output_path(path: str | Path, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` as a file Otos may write: its folder exists and is writable, it is not
    a folder or a symbolic link, and its name ends in one of ``suffixes`` (if given).
    Otherwise an OtosError that says so."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OtosError(_("{path}: the file name must end in {join}.").format(path=path, join=' or '.join(suffixes)))
    if path.is_symlink():
        raise OtosError(_("{path} is a symbolic link; Otos does not write personal data through links.").format(path=path),
                        hint=_("Give the path of an ordinary file (an existing one is replaced)."))
    folder = path.parent
    if not folder.is_dir():
        raise OtosError(_("{folder}: no such folder.").format(folder=folder), hint=_("Create it first, or write the file somewhere else."))
    if not os.access(folder, os.W_OK):
        raise OtosError(_("{folder}: this user may not write there.").format(folder=folder), hint=_("Write the file somewhere else."))
    if path.is_dir():
        raise OtosError(_("{path} is a folder; give a file name.").format(path=path))
    return path


def _create_exclusive(path: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # whatever the umask
    return fd


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: str | Path) -> int:
    """Remove temporaries and working folders that a killed Otos run left in ``folder``
    (their process is gone). Returns how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        m = _STALE.match(entry.name)
        if not m or _process_alive(int(m.group(1) or m.group(2))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed += 1
        except OSError:
            pass
    return removed


def private_dir(folder: str | Path) -> Path:
    """A working folder only the owner can open, inside ``folder`` (removed by the caller;
    a killed run's folder is removed by the next ``remove_stale``)."""
    return Path(tempfile.mkdtemp(prefix=f"{DIR_MARK}{os.getpid()}-", dir=folder))


class Outputs:
    """A set of personal-data files written together (see the module text)."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path, IO | None]] = []

    def _stage(self, path: str | Path, suffixes: tuple[str, ...]) -> tuple[Path, Path, int]:
        final = output_path(path, suffixes)
        if any(final == f for f, _x, _x in self._staged):
            raise OtosError(_("{final} would be written twice.").format(final=final))
        remove_stale(final.parent)
        while True:
            tmp = final.with_name(f".{final.name}{PART_MARK}{os.getpid()}-{secrets.token_hex(4)}")
            try:
                return final, tmp, _create_exclusive(tmp)
            except FileExistsError:
                continue
            except OSError as exc:
                raise OtosError(_("{final}: cannot be written ({strerror}).").format(final=final, strerror=exc.strerror),
                                hint=_("Write the file somewhere else.")) from None

    def open(self, path: str | Path, mode: str = "w", suffixes: tuple[str, ...] = (), **kwargs) -> IO:
        """An open file that becomes ``path`` when the set is committed."""
        final, tmp, fd = self._stage(path, suffixes)
        fh = os.fdopen(fd, mode, **kwargs)
        self._staged.append((final, tmp, fh))
        return fh

    def commit(self, audit: Callable[[dict[Path, str]], None] | None = None) -> list[Path]:
        """Close the files, record the audit entry with their SHA-256, then put them in place."""
        digests: dict[Path, str] = {}
        for final, tmp, fh in self._staged:
            if fh is not None and not fh.closed:
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
            with open(tmp, "rb") as r:
                digests[final] = hashlib.file_digest(r, "sha256").hexdigest()
        if audit is not None:
            audit(digests)
        for final, tmp, _x in self._staged:
            if final.is_symlink():  # planted while we wrote: never replace through it
                raise OtosError(_("{final} became a symbolic link while Otos wrote it; nothing was written.").format(final=final))
            os.replace(tmp, final)
        written = [final for final, _x, _x in self._staged]
        self._staged = []
        return written

    def discard(self) -> None:
        """Remove every temporary; nothing of the set appears."""
        for _x, tmp, fh in self._staged:
            if fh is not None and not fh.closed:
                fh.close()
            tmp.unlink(missing_ok=True)
        self._staged = []


@contextmanager
def private_outputs(audit: Callable[[dict[Path, str]], None] | None = None) -> Iterator[Outputs]:
    """Write a set of personal-data files: all appear, with their audit entry, or none.

    ``audit`` gets {final path: SHA-256} and must commit its entry; if it raises,
    no file is put in place.
    """
    out = Outputs()
    try:
        yield out
        out.commit(audit)
    finally:
        out.discard()


@contextmanager
def private_file(path: str | Path, mode: str = "w", *, suffixes: tuple[str, ...] = (),
                 audit: Callable[[str], None] | None = None, **kwargs) -> Iterator[IO]:
    """One personal-data file (see ``private_outputs``); ``audit`` gets its SHA-256."""
    with private_outputs((lambda d: audit(next(iter(d.values())))) if audit else None) as out:
        yield out.open(path, mode, suffixes, **kwargs)


def secure_sqlite_file(path: str | Path) -> None:
    """Make an SQLite database file owner-only before SQLite opens it: created 0600 if
    new (SQLite gives its journal and WAL files the database file's mode), narrowed to
    0600 if an older Otos left it readable by others."""
    path = Path(path)
    try:
        fd = _create_exclusive(path)
        os.close(fd)
    except FileExistsError:
        if path.is_symlink():
            return  # the user's own arrangement; its target's mode is the user's to set
        st = path.stat()
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.chmod(path, 0o600)
        for side in ("-journal", "-wal", "-shm"):
            other = Path(f"{path}{side}")
            if other.exists() and not other.is_symlink() and other.stat().st_mode & 0o077:
                try:
                    os.chmod(other, 0o600)
                except OSError:
                    pass
    except OSError:
        pass  # a folder that does not exist: SQLite says so when it opens
