"""DVV extracts: import (streamed, validated, one transaction), list, purge.

The import reads the file twice: a fast binary pass (SHA-256, encoding, binary and
empty checks, line count for progress) and a parsing pass that validates each row.
Valid rows are inserted in chunks at driver speed (SQLite executemany, PostgreSQL
COPY). For big files the parsing pass runs in a second process, so reading and
writing use both cores. The whole import is one transaction, so a rejected, failed or
cancelled import leaves the database as it was.
"""
from __future__ import annotations

import codecs
import csv
import re
import gc
import multiprocessing as mp
import operator
import os
import queue
import threading
import time
import datetime as dt
import hashlib
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Engine, delete, func, select, update
from sqlmodel import Session

from pool import audit, hetu
from pool.reference import LANGUAGE_CODES
from pool.display import has_control
from pool.errors import ImportCancelled, NotFound, OtosError, RejectedFile, RowFault
from pool.models import Extract, ImportFault, Person, PoolMember, checked_text, utcnow
from pool.profile import FIELD_LENGTHS, REQUIRED, Profile, load_profile
from pool.reference import municipalities
from pool.i18n import _, date as fmt_date, number

CHUNK_ROWS = 20_000
PARALLEL_MIN_BYTES = 16 << 20  # from about 150,000 rows a reader process pays off
FAULTS_KEPT = 10_000  # faults stored and listed; the count covers all
SCAN_BLOCK = 1 << 20

Progress = Callable[[float, str], None]


@dataclass
class ImportReport:
    """What an import did: counts and the faulty rows (line and field, never values)."""

    extract_id: int
    file_name: str
    encoding: str
    rows_read: int
    rows_stored: int
    rows_rejected: int
    rows_mailable: int
    turvakielto: int
    deceased: int
    faults: list[RowFault] = field(default_factory=list)
    faults_total: int = 0

    def summary(self) -> str:
        """One paragraph for the official: what was stored, and that every data line is accounted for."""
        return (_("Extract {extract_id} ({file_name}, {encoding}): {rows_read} data line(s) read = {rows_stored} people stored + {rows_rejected} line(s) left out and listed by line. {rows_mailable} can be mailed, {turvakielto} with turvakielto (address not kept), {deceased} deceased.").format(extract_id=self.extract_id, file_name=self.file_name, encoding=self.encoding, rows_read=number(self.rows_read), rows_stored=number(self.rows_stored), rows_rejected=number(self.rows_rejected), rows_mailable=number(self.rows_mailable), turvakielto=number(self.turvakielto), deceased=number(self.deceased)))


@dataclass
class _Scan:
    sha256: str
    encoding: str
    lines: int
    ends_with_newline: bool


# ---------------------------------------------------------------- file checks

def _scan(path: Path, encoding: str) -> _Scan:
    """Binary pass: hash, emptiness, binary content, encoding, line count.

    A file whose lines are partly UTF-8 and partly another encoding is refused: read
    either way, some names would be stored garbled.
    """
    if not path.exists():
        raise RejectedFile(_("{path}: the file does not exist.").format(path=path), hint=_("Check the path and try again."))
    if not path.is_file():
        raise RejectedFile(_("{path}: this is not a file.").format(path=path), hint=_("Give the path of the extract file."))
    digest = hashlib.sha256()
    want = None if encoding == "auto" else _codec(encoding)
    candidates = {name: codecs.getincrementaldecoder(name)() for name in ([want] if want else ["utf-8", "cp1252"])}
    failed: dict[str, int] = {}
    utf8_line = 0  # first line with a multi-byte UTF-8 character
    tail = b""  # the end of the previous block, so a character split by the block edge is seen
    lines, size, last = 0, 0, b""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise RejectedFile(_("{path}: cannot be read ({strerror}).").format(path=path, strerror=exc.strerror), hint=_("Check the file's permissions.")) from None
    with fh:
        first = True
        while block := fh.read(SCAN_BLOCK):
            if first:
                head = block[:8192]
                # A stray NUL in a field is a row fault; NULs in the header or in bulk mean binary.
                if b"\x00" in head.split(b"\n", 1)[0] or head.count(b"\x00") * 100 > len(head):
                    raise RejectedFile(
                        _("{path}: this is a binary file, not a text extract.").format(path=path),
                        hint=_("Export the extract as a delimited or fixed-width text file."),
                    )
                first = False
            digest.update(block)
            if not utf8_line:
                hit = _UTF8_MULTIBYTE.search(tail + block)
                if hit:
                    utf8_line = lines + (tail + block).count(b"\n", 0, hit.start()) - tail.count(b"\n") + 1
            tail = block[-3:]
            for name, dec in list(candidates.items()):
                try:
                    dec.decode(block)
                except UnicodeDecodeError as exc:
                    failed[name] = lines + block.count(b"\n", 0, exc.start) + 1
                    del candidates[name]
            lines += block.count(b"\n")
            size += len(block)
            last = block[-1:]
    if size == 0:
        raise RejectedFile(_("{path}: the file is empty (0 bytes).").format(path=path), hint=_("Ask for the extract again."))
    if b"\x00" in last:
        raise RejectedFile(_("{path}: this is a binary file, not a text extract.").format(path=path))
    if "utf-8" in failed and utf8_line:
        first_utf8, first_other = utf8_line, failed["utf-8"]
        raise RejectedFile(
            _("{path}: the file mixes encodings: line {first_utf8} is UTF-8, line {first_other} is not (probably Windows-1252 or ISO-8859-1).").format(path=path, first_utf8=first_utf8, first_other=first_other),
            hint=_("Names would be stored garbled. Ask for the extract again in one encoding, or save the whole file again as UTF-8."),
        )
    if want:
        if want not in candidates:
            raise RejectedFile(
                _("{path}, line {value}: the file is not valid {want}.").format(path=path, value=failed[want], want=want),
                hint=_("Leave the encoding to detection, or give the right one with --encoding."),
            )
        chosen = want
    elif "utf-8" in candidates:
        chosen = "utf-8"
    elif "cp1252" in candidates:
        chosen = "cp1252"
    else:
        chosen = "latin-1"  # every byte decodes; ISO-8859-1 is what DVV may send
    if chosen == "utf-8":
        with path.open("rb") as fh:
            if fh.read(3) == codecs.BOM_UTF8:
                chosen = "utf-8-sig"
    return _Scan(digest.hexdigest(), chosen, lines + (last != b"\n"), last == b"\n")


# Encodings a register extract can come in; anything else (utf-16, rot13, ...) is refused.
ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "cp1252": "cp1252", "iso8859-1": "latin-1",
             "latin-1": "latin-1", "iso8859-15": "iso8859-15"}
# A valid multi-byte UTF-8 sequence; in Windows-1252 Finnish text such byte pairs do not occur.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _codec(name: str) -> str:
    """The codec for an encoding name the user gave, if it is one an extract may use."""
    try:
        found = codecs.lookup(name).name
    except (LookupError, TypeError, ValueError):
        found = None
    if found not in ENCODINGS:
        raise OtosError(_("Unknown or unsupported encoding {name!r}.").format(name=name),
                        hint=_("Use utf-8, cp1252, latin-1 or iso-8859-15, or leave the encoding to detection."))
    return "latin-1" if found == "iso8859-1" else found


# ---------------------------------------------------------------- row reading

def _lines_into(fh, seen: list[str]) -> Iterator[str]:
    """The file's lines, each also appended to ``seen`` (what the csv reader took)."""
    for text in fh:
        seen.append(text)
        yield text


def _delimited_rows(path: Path, scan: _Scan, prof: Profile) -> Iterator[tuple[int, list[str] | None, list[int], str]]:
    """Yield (line, values in field order or None, columns, problem) for each data row.

    Every non-empty line after the header is yielded exactly once. A quote that is
    not closed on its own line would make the csv reader swallow the following lines
    into one field; such lines are read again one by one, so a stray quote costs its
    own line only and no person vanishes.
    """
    with path.open("r", encoding=scan.encoding, newline="") as fh:
        taken: list[str] = []
        reader = csv.reader(_lines_into(fh, taken), delimiter=prof.delimiter, quotechar=prof.quotechar,
                            strict=False)
        try:
            header = next(reader)
        except StopIteration:
            raise RejectedFile(_("{path}: the file has no header row.").format(path=path)) from None
        except csv.Error as exc:
            raise RejectedFile(_("{path}, line 1: the header cannot be read ({exc}).").format(path=path, exc=exc)) from None
        if len(taken) > 1:
            raise RejectedFile(_('{path}, line 1: the header has a quote (") that is not closed on its line.').format(path=path),
                               hint=_("Fix the header row."))
        taken.clear()
        names = [h.strip().lstrip("\ufeff").casefold() for h in header]
        index: dict[str, int] = {}
        for i, n in enumerate(names):
            if n and n in index:
                raise RejectedFile(
                    _("{path}, line 1: the header names the column {strip!r} twice (columns {value} and {value2}).").format(path=path, strip=header[i].strip(), value=index[n] + 1, value2=i + 1),
                    hint=_("Otos cannot tell which of the two is right. Ask for a corrected extract, or remove the wrong column."),
                )
            index[n] = i
        wanted = {f: c for f, c in prof.columns.items()}
        missing = [c for f, c in wanted.items() if f in REQUIRED and c not in index]
        if missing:
            hint = _("The header must name these columns (any order, any case), separated by {delimiter!r}.").format(delimiter=prof.delimiter)
            line0 = prof.delimiter.join(header)
            for other in (",", ";", "\t", "|"):
                if other != prof.delimiter and line0.count(other) >= 3:
                    hint = (_("The header looks delimited by {other!r}, not {delimiter!r}: use a profile with that delimiter (see the README on profiles).").format(other=other, delimiter=prof.delimiter))
                    break
            raise RejectedFile(
                _("{path}, line 1: the header lacks required column(s): {join}.").format(path=path, join=', '.join(missing)), hint=hint
            )
        order = list(FIELD_LENGTHS)
        width = len(header)
        # An unmapped optional field reads the empty cell appended after the last one.
        idx = [index.get(wanted[f], width) if f in wanted else width for f in order]
        cols = [i + 1 if i < width else -1 for i in idx]
        pick = operator.itemgetter(*idx)

        def one(line: int, row: list[str]) -> tuple[int, list[str] | None, list[int], str] | None:
            if len(row) != width:
                if not row or (len(row) == 1 and not row[0].strip()):
                    return None
                why = _("has {count} fields, the header has {width}").format(count=len(row), width=width)
                if line >= scan.lines and not scan.ends_with_newline:
                    why += _(" (the last line looks truncated)")
                return line, None, cols, why
            row.append("")
            return line, list(pick(row)), cols, ""

        def alone(line: int, text: str) -> tuple[int, list[str] | None, list[int], str] | None:
            try:
                row = next(csv.reader([text], delimiter=prof.delimiter, quotechar=prof.quotechar, strict=True), [])
            except csv.Error:
                return line, None, cols, _('a quote (") is not closed on this line')
            return one(line, row)

        try:
            for row in reader:
                if len(taken) == 1:
                    taken.clear()
                    got = one(reader.line_num, row)
                    if got is not None:
                        yield got
                    continue
                first = reader.line_num - len(taken) + 1
                for k, text in enumerate(taken):
                    got = alone(first + k, text)
                    if got is not None:
                        yield got
                taken.clear()
        except csv.Error as exc:
            raise RejectedFile(_("{path}, line {line_num}: the file cannot be parsed ({exc}).").format(path=path, line_num=reader.line_num, exc=exc),
                               hint=_("Check quoting in the file.")) from None


def _fixed_rows(path: Path, scan: _Scan, prof: Profile) -> Iterator[tuple[int, list[str] | None, list[int], str]]:
    """Yield (line, values, columns, problem) for each record of a fixed-width file.

    A record of any other length than the profile's is a fault: a cut record would
    otherwise lose its last fields (the turvakielto flag among them).
    """
    order = list(FIELD_LENGTHS)
    spans = [(prof.fields[f][0] - 1, prof.fields[f][0] - 1 + prof.fields[f][1]) if f in prof.fields else None for f in order]
    cols = [s[0] + 1 if s else -1 for s in spans]
    reclen = prof.record_length
    with path.open("r", encoding=scan.encoding, newline="") as fh:
        for line, raw in enumerate(fh, start=1):
            text = raw.rstrip("\r\n").lstrip("\ufeff") if line == 1 else raw.rstrip("\r\n")
            if not text.strip():
                continue
            if len(text) != reclen:
                yield line, None, cols, _("is {count} characters long, the profile's record is {reclen}").format(count=len(text), reclen=reclen)
                continue
            yield line, [text[a:b] if (a, b) != (0, 0) else "" for a, b in (s or (0, 0) for s in spans)], cols, ""


# ---------------------------------------------------------------- validation

_ORDER = list(FIELD_LENGTHS)
_LIMITS = list(FIELD_LENGTHS.values())
# Columns of ``person`` in the order ``_Validator.row`` returns them.
PERSON_COLUMNS = (
    "extract_id", "hetu", "first_names", "surname", "street_fi", "street_sv", "postal_code",
    "post_office_fi", "post_office_sv", "municipality", "birth_date", "sex", "mother_tongue",
    "turvakielto", "deceased", "dwelling_id", "mailable",
)


class _Validator:
    """Checks one row at a time; caches what repeats (dates, codes) for speed."""

    def __init__(self, prof: Profile, today: dt.date, extract_id: int, sqlite: bool) -> None:
        self.prof = prof
        self.today = today
        self.extract_id = extract_id
        self.sqlite = sqlite  # SQLite gets ISO date strings and 0/1, as SQLAlchemy stores them
        self.munis = municipalities()
        # identity code -> (fingerprint of the row's values << 33) | (protected << 32) | line:
        # one int per person, so a million people cost no more than the line numbers did.
        self.seen: dict[str, int] = {}
        # Codes of faulty rows that carried an active (or unreadable) turvakielto.
        self.flagged: set[str] = set()
        # Stored, unprotected people whose later row says turvakielto: to protect.
        self.protect: list[str] = []
        self.dates: dict[str, object] = {}
        self.active = frozenset(prof.turvakielto_active)
        self.turva_ok = frozenset(("", "0", *prof.turvakielto_active))
        self.true, self.false = (1, 0) if sqlite else (True, False)

    def _date(self, born: str) -> object:
        """The stored form of a yyyymmdd date, or a str fault message."""
        got = self.dates.get(born)
        if got is None:
            if len(born) == 8 and born.isascii() and born.isdigit():
                try:
                    d = dt.date(int(born[:4]), int(born[4:6]), int(born[6:]))
                except ValueError:
                    got = RowFault(0, "", None, _("not a real date (yyyymmdd)"))
                else:
                    if d > self.today or d.year < 1880:
                        got = RowFault(0, "", None, _("date of birth is in the future or before 1880"))
                    else:
                        got = d.isoformat() if self.sqlite else d
            else:
                got = RowFault(0, "", None, _("date of birth must be yyyymmdd"))
            self.dates[born] = got
        return got

    def row(self, line: int, v: list[str], cols: list[int]) -> tuple[tuple | None, list[RowFault]]:
        faults: list[RowFault] = []

        def fault(i: int, msg: str) -> None:
            faults.append(RowFault(line, _ORDER[i], cols[i] if cols[i] >= 0 else None, msg))

        if has_control("".join(v)):
            for i, value in enumerate(v):
                if has_control(value):
                    fault(i, _("contains a control character (tab, line break, NUL or similar)"))
            self._note_flag(v[0].strip().upper(), v[12].strip())
            return None, faults
        v = list(map(str.strip, v))
        if any(map(operator.gt, map(len, v), _LIMITS)):
            for i, limit in enumerate(_LIMITS):
                if len(v[i]) > limit:
                    fault(i, _("date of birth must be yyyymmdd") if _ORDER[i] == "syntymaaika"
                          else _("is {count} characters, the most allowed is {limit}").format(count=len(v[i]), limit=limit))
            self._note_flag(v[0].upper(), v[12])
            return None, faults
        (code, first, last, street, street_sv, postal, office, office_sv, muni, born, sex, lang,
         turva, dead, dwelling) = v
        code = code.upper()
        p = hetu.problem(code)
        if p:
            fault(0, p)
        if not first and not last:
            fault(1, _("first names and surname are both empty"))
        if muni not in self.munis:
            if muni.isascii() and muni.isdigit() and muni.zfill(3) in self.munis:
                muni = muni.zfill(3)
            else:
                fault(8, _("unknown municipality code") if muni else _("municipality code is empty"))
        birth = None
        if born:
            birth = self._date(born)
            if isinstance(birth, RowFault):
                fault(9, birth.message)
        if sex not in ("1", "2", ""):
            fault(10, _("sex must be 1, 2 or empty"))
        if lang and lang not in LANGUAGE_CODES:
            lang = lang.lower()
            if lang not in LANGUAGE_CODES:
                fault(11, _("not an ISO 639-1 language code (or a Sámi code such as smn or sms, or 98/99)"))
        if turva not in self.turva_ok:
            fault(12, _("must be 0, {join} or empty").format(join=', '.join(self.prof.turvakielto_active)))
        if dead not in ("", "0", "1"):
            fault(13, _("must be 0, 1 or empty"))
        protected = turva in self.active
        if not protected and postal and not (len(postal) == 5 and postal.isascii() and postal.isdigit()):
            fault(5, _("postal code must be 5 digits") + (_(" (leading zeros lost?)") if postal.isdigit() else ""))
        if not p:
            earlier = self.seen.get(code)
            if earlier is not None:
                return None, [self._duplicate(line, code, v, turva, earlier, cols)]
        if faults:
            self._note_flag(code, turva)
            return None, faults
        if code in self.flagged:  # an earlier faulty row of this person said turvakielto
            protected = True
        self.seen[code] = (hash(tuple(v)) & 0x7FFFFFFF) << 33 | protected << 32 | line
        deceased = dead == "1"
        if protected:  # neither the address of a person with a turvakielto nor their dwelling
            street = street_sv = postal = office = office_sv = dwelling = ""
        mailable = not protected and not deceased and bool(street and postal and office)
        t, f = self.true, self.false
        return (
            self.extract_id, code, first, last, street or None, street_sv or None, postal or None,
            office or None, office_sv or None, muni, birth, int(sex) if sex else None, lang or None,
            t if protected else f, t if deceased else f, dwelling or None, t if mailable else f,
        ), faults

    def _note_flag(self, code: str, turva: str) -> None:
        """Remember a faulty row's turvakielto, so the person is protected whichever row is stored."""
        if turva in ("", "0"):
            return
        earlier = self.seen.get(code)
        if earlier is None:
            self.flagged.add(code)
        else:
            self._protect_stored(code, earlier)

    def _protect_stored(self, code: str, earlier: int) -> bool:
        """Mark a stored person to be protected after the insert; True if they were not yet."""
        if earlier >> 32 & 1:
            return False
        self.seen[code] = earlier | 1 << 32
        self.protect.append(code)
        return True

    def _duplicate(self, line: int, code: str, v: list[str], turva: str, earlier: int,
                   cols: list[int]) -> RowFault:
        """A second row with a stored person's identity code: a fault, never a second person.

        Any active turvakielto among a person's rows protects the person: the stored row
        is protected afterwards (``protect``), whatever order the rows came in.
        """
        first = earlier & 0xFFFFFFFF
        if (hash(tuple(v)) & 0x7FFFFFFF) == earlier >> 33:
            return RowFault(line, "henkilotunnus", cols[0], _("same person as line {first}, identical; left out").format(first=first),
                            note=True)
        extra = ""
        if turva not in ("", "0") and self._protect_stored(code, earlier):
            extra = _("; this row has a turvakielto, so the person is stored as protected (no address)")
        return RowFault(line, "henkilotunnus", cols[0],
                        _("same identity code as line {first} but different data; this row was left out{extra}").format(first=first, extra=extra))


def _protect(session: Session, extract_id: int, codes: list[str]) -> tuple[int, int]:
    """Protect stored people whom a later row of the file gives a turvakielto: no address,
    no dwelling, not mailable. Returns the extract's mailable and protected counts anew."""
    for i in range(0, len(codes), 1000):
        session.execute(update(Person).where(Person.extract_id == extract_id, Person.hetu.in_(codes[i:i + 1000]))
                        .values(turvakielto=True, mailable=False, street_fi=None, street_sv=None, postal_code=None,
                                post_office_fi=None, post_office_sv=None, dwelling_id=None))

    def count(flag) -> int:
        return session.execute(select(func.count()).select_from(Person)
                               .where(Person.extract_id == extract_id, flag.is_(True))).scalar_one()
    return count(Person.mailable), count(Person.turvakielto)


def _inserter(session: Session) -> Callable[[list[tuple]], None]:
    """Bulk insert of person tuples in the session's transaction, at driver speed.

    SQLite: one executemany. PostgreSQL: COPY. Both far faster than ORM adds, and
    still inside the one transaction of the import.
    """
    conn = session.connection()
    cols = ", ".join(PERSON_COLUMNS)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection

        def copy(rows: list[tuple]) -> None:
            with raw.cursor() as cur, cur.copy(f"COPY person ({cols}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
        return copy
    marks = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * len(PERSON_COLUMNS))
    sql = f"INSERT INTO person ({cols}) VALUES ({marks})"
    return lambda rows: conn.exec_driver_sql(sql, rows)


# ---------------------------------------------------------------- import

@dataclass
class _Batch:
    """Validated records of up to CHUNK_ROWS rows, the faults met since the last
    batch, and running totals of rows read and rejected up to ``line``."""

    records: list[tuple]
    faults: list[RowFault]
    read: int
    rejected: int
    line: int
    protect: list[str] = field(default_factory=list)  # stored people a later row protects


def _batches(path: Path, scan: _Scan, prof: Profile, today: dt.date, extract_id: int, sqlite: bool,
             strict: bool) -> Iterator[_Batch]:
    """Read and validate the file, yielding batches of records ready to insert."""
    rows = (_delimited_rows if prof.format == "delimited" else _fixed_rows)(path, scan, prof)
    validator = _Validator(prof, today, extract_id, sqlite)
    check = validator.row

    def protect() -> list[str]:
        codes, validator.protect = validator.protect, []
        return codes

    records: list[tuple] = []
    faults: list[RowFault] = []
    read = rejected = kept = line = 0
    for line, values, cols, problem in rows:
        read += 1
        if values is None:
            rec, row_faults = None, [RowFault(line, _("row"), None, problem)]
        else:
            rec, row_faults = check(line, values, cols)
        if rec is None:
            rejected += 1
            if strict and not all(f.note for f in row_faults):
                raise RejectedFile(
                    f"{path}, {row_faults[0]}.",
                    hint=_("--strict rejects the file on any row fault; fix the row or import without --strict."),
                )
            if kept < FAULTS_KEPT:
                faults.extend(row_faults[: FAULTS_KEPT - kept])
                kept = min(FAULTS_KEPT, kept + len(row_faults))
            continue
        records.append(rec)
        if len(records) >= CHUNK_ROWS:
            yield _Batch(records, faults, read, rejected, line, protect())
            records, faults = [], []
    yield _Batch(records, faults, read, rejected, line, protect())


def _end_with_parent(parent: int) -> None:
    """End this process as soon as ``parent`` is gone (killed with -9, say), so a reader
    never lives on holding the extract open."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)
    threading.Thread(target=watch, name="otos-parent-watch", daemon=True).start()


def _produce(args: tuple, out, parent: int | None = None) -> None:
    """Worker process: validate the file and send batches to the importing process."""
    if parent is not None:
        _end_with_parent(parent)
    gc.disable()  # millions of short-lived tuples and no cycles: collecting only costs time
    try:
        for batch in _batches(*args):
            out.put(("batch", batch))
        out.put(("done", None))
    except OtosError as exc:
        out.put(("error", (type(exc).__name__, exc.message, exc.hint)))
    except BaseException as exc:  # reported by type only: a message could carry row values
        out.put(("crash", type(exc).__name__))


def _batches_in_worker(args: tuple) -> Iterator[_Batch]:
    """Run ``_batches`` in a second process so parsing and inserting use both cores.

    The parent only inserts; the worker holds no database connection. Closing the
    generator (cancel, error) stops the worker.
    """
    ctx = mp.get_context("spawn")  # never fork a process that may run UI threads
    channel = ctx.Queue(maxsize=3)
    proc = ctx.Process(target=_produce, args=(args, channel, os.getpid()), name="otos-import-reader", daemon=True)
    proc.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=1.0)
            except queue.Empty:
                if not proc.is_alive():
                    raise OtosError(_("The import's reader process stopped unexpectedly; nothing was saved.")) from None
                continue
            if kind == "batch":
                yield payload
            elif kind == "done":
                return
            elif kind == "error":
                name, message, hint = payload
                raise {"RejectedFile": RejectedFile}.get(name, OtosError)(message, hint=hint)
            else:
                raise OtosError(_("The import's reader failed ({payload}); nothing was saved.").format(payload=payload))
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=10)


def import_extract(
    engine: Engine,
    path: str | Path,
    *,
    permit: str,
    purpose: str,
    delete_by: dt.date,
    profile: str = "dvv",
    encoding: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Import a DVV extract file as one transaction and return what happened.

    Raises ``RejectedFile`` for structural faults (and any row fault with ``strict``),
    ``ImportCancelled`` when ``cancelled()`` turns true; the database is unchanged then.
    """
    path = Path(path)
    today = today or dt.date.today()
    if not permit.strip():
        raise OtosError(_("The permit number is missing."), hint=_("Give the DVV permit number with --permit."))
    if not purpose.strip():
        raise OtosError(_("The purpose is missing."), hint=_("Say what the extract is used for with --purpose."))
    checked_text(permit.strip(), Extract.permit, _("The permit number"))
    checked_text(purpose.strip(), Extract.purpose, _("The purpose"))
    if delete_by < today:
        raise OtosError(_("The delete-by date {delete_by} is already past.").format(delete_by=delete_by), hint=_("Give the date the permit sets."))
    prof = load_profile(profile)
    scan = _scan(path, encoding or prof.encoding)
    report_progress = progress or (lambda f, m: None)
    is_cancelled = cancelled or (lambda: False)
    faults: list[RowFault] = []

    with Session(engine, expire_on_commit=False) as session:
        try:
            existing = session.execute(select(Extract).where(Extract.sha256 == scan.sha256)).scalar()
            if existing:
                raise RejectedFile(
                    _("{path}: this file was already imported as extract {id} on {imported_at}.").format(path=path, id=existing.id, imported_at=fmt_date(existing.imported_at)),
                    hint=_("Use the existing extract (otos extract list)."),
                )
            ext = Extract(file_name=path.name, sha256=scan.sha256, profile=prof.name, encoding=scan.encoding,
                          permit=permit.strip(), purpose=purpose.strip(), delete_by=delete_by,
                          imported_by=audit.actor())
            session.add(ext)
            session.flush()
            insert = _inserter(session)
            args = (path, scan, prof, today, ext.id, engine.dialect.name == "sqlite", strict)
            parallel = path.stat().st_size >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
            read = stored = rejected = mailable = protected = deceased = 0
            to_protect: list[str] = []
            gc.disable()  # see _produce
            try:
                with closing(_batches_in_worker(args) if parallel else _batches(*args)) as batches:
                    for batch in batches:
                        if batch.records:
                            insert(batch.records)
                        recs = batch.records
                        stored += len(recs)
                        mailable += sum(bool(r[16]) for r in recs)
                        protected += sum(bool(r[13]) for r in recs)
                        deceased += sum(bool(r[14]) for r in recs)
                        read, rejected = batch.read, batch.rejected
                        faults.extend(batch.faults)
                        to_protect.extend(batch.protect)
                        if is_cancelled():
                            raise ImportCancelled(_("The import was cancelled; nothing was saved."))
                        report_progress(min(batch.line / max(scan.lines, 1), 1.0), _("{stored} rows imported").format(stored=number(stored)))
            finally:
                gc.enable()
            if read != stored + rejected:  # every data line is a stored person or a listed fault
                raise OtosError(_("{path}: {read} data lines but {stored} stored and {rejected} faulty; nothing was saved.").format(path=path, read=read, stored=stored, rejected=rejected), hint=_("Please report this as a bug in Otos."))
            if stored == 0:
                raise RejectedFile(
                    _("{path}: no row could be imported ({rejected} faulty, 0 valid).").format(path=path, rejected=rejected)
                    + (_(" First fault: {value}.").format(value=faults[0]) if faults else ""),
                    hint=_("Check that the file and the profile match."),
                )
            if to_protect:
                mailable, protected = _protect(session, ext.id, to_protect)
            if faults:
                session.connection().execute(ImportFault.__table__.insert(), [
                    {"extract_id": ext.id, "line": f.line, "field": f.field, "col": f.column, "message": f.message}
                    for f in faults
                ])
            ext.rows_read, ext.rows_stored, ext.rows_rejected, ext.rows_mailable = read, stored, rejected, mailable
            audit.record(session, "extract.import", extract=ext.id, file_sha256=scan.sha256, profile=prof.name,
                         rows_read=read, rows_stored=stored, rows_rejected=rejected,
                         permit=ext.permit, delete_by=delete_by.isoformat())
            session.commit()
        except BaseException:
            session.rollback()
            raise
    report_progress(1.0, _("{stored} rows imported").format(stored=number(stored)))
    return ImportReport(ext.id, path.name, scan.encoding, read, stored, rejected, mailable, protected,
                        deceased, faults, rejected)


# ---------------------------------------------------------------- list and purge

def list_extracts(engine: Engine, today: dt.date | None = None) -> list[dict]:
    """Every extract with its counts and whether it is past its delete-by date."""
    today = today or dt.date.today()
    with Session(engine) as s:
        people = dict(s.execute(select(Person.extract_id, func.count()).group_by(Person.extract_id)).all())
        out = []
        for e in s.execute(select(Extract).order_by(Extract.id)).scalars():
            out.append({
                "id": e.id, "file": e.file_name, "rows": people.get(e.id, 0), "rows_imported": e.rows_stored,
                "rejected": e.rows_rejected, "mailable": e.rows_mailable, "permit": e.permit,
                "purpose": e.purpose, "delete_by": e.delete_by.isoformat(),
                "imported_at": e.imported_at.isoformat(sep=" "), "imported_by": e.imported_by,
                "purged": e.purged_at is not None,
                "overdue": e.purged_at is None and e.delete_by < today,
                "sha256": e.sha256,
            })
    return out


def overdue(engine: Engine, today: dt.date | None = None) -> list[dict]:
    """Extracts past their delete-by date that still hold register rows."""
    return [e for e in list_extracts(engine, today) if e["overdue"]]


def faults_of(engine: Engine, extract_id: int, limit: int = 1000) -> list[RowFault]:
    """The rows left out of an extract and why (NotFound for an extract that does not exist)."""
    with Session(engine) as s:
        if s.get(Extract, extract_id) is None:
            raise NotFound(_("There is no extract {extract_id}.").format(extract_id=extract_id), hint=_("See otos extract list."))
        q = select(ImportFault).where(ImportFault.extract_id == extract_id).order_by(ImportFault.id).limit(limit)
        return [RowFault(f.line, f.field, f.col, f.message) for f in s.execute(q).scalars()]


def purge(engine: Engine, extract_id: int) -> int:
    """Delete the register rows of everyone in the extract who did not join the pool.

    Returns how many rows were deleted. Pool members keep their data (their consent).
    """
    with Session(engine) as s:
        ext = s.get(Extract, extract_id)
        if ext is None:
            raise NotFound(_("There is no extract {extract_id}.").format(extract_id=extract_id), hint=_("See otos extract list."))
        members = select(PoolMember.person_id).where(PoolMember.person_id.is_not(None))
        result = s.execute(delete(Person).where(Person.extract_id == extract_id, Person.id.not_in(members)))
        deleted = result.rowcount or 0
        s.execute(update(Extract).where(Extract.id == extract_id).values(purged_at=utcnow()))
        audit.record(s, "extract.purge", extract=extract_id, rows_deleted=deleted)
        s.commit()
    return deleted
