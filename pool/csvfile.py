"""Small CSV files a person exports from a spreadsheet or survey tool: checked and decoded."""
from __future__ import annotations

from pathlib import Path

from pool.errors import RejectedFile
from pool.i18n import _


def read_text(path: Path, what: str) -> tuple[str, bytes]:
    """The decoded text (UTF-8 with or without BOM, else Windows-1252) and the raw bytes.

    Rejects a missing, empty or binary file with a message naming it and ``what`` it
    should have been.
    """
    if path.is_dir():
        raise RejectedFile(_("{path} is a folder; give a file name.").format(path=path))
    if not path.is_file():
        raise RejectedFile(_("{path}: the {what} file does not exist.").format(path=path, what=what), hint=_("Check the path."))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RejectedFile(_("{path}: cannot be read ({strerror}).").format(path=path, strerror=exc.strerror)) from None
    if not raw.strip():
        raise RejectedFile(_("{path}: the {what} file is empty.").format(path=path, what=what))
    if b"\x00" in raw[:8192]:
        raise RejectedFile(_("{path}: this is a binary file, not a CSV {what} file.").format(path=path, what=what),
                           hint=_("Save it as CSV (not XLSX) and try again."))
    try:
        return raw.decode("utf-8-sig"), raw
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), raw


def sniff_delimiter(first_line: str) -> str:
    """The most frequent of , ; and tab in the header line."""
    return max((",", ";", "\t"), key=first_line.count)
