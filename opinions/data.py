"""Votes on statements, read from a Polis export or from Otos's own CSV files.

A conversation is a participants x statements matrix: +1 agree, -1 disagree, 0 pass,
NaN where a participant did not vote (the Polis export convention; inside Polis the
sign is flipped). Participants are kept in ascending id order and statements likewise,
so nothing depends on the order rows happen to arrive in.

Bad input is rejected with the file, line and column and what to do; nothing is
guessed. Imports stay lean (csv and numpy): the CLI reads and clusters a conversation
as one short process.
"""
from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pool.errors import OtosError, RejectedFile
from pool.i18n import _

VOTE_VALUES = {"1": 1.0, "-1": -1.0, "0": 0.0, "": math.nan}
VOTE_DTYPE = np.float32  # 1, -1, 0 and NaN exactly, in half the memory of float64
PARSE_CELLS = 4_000_000  # vote cells parsed at a time (the parser's arrays are 8 bytes a cell)


@dataclass
class Conversation:
    participants: list[str]  # ids as in the source, in ascending order
    statements: list[str]  # ids as in the source, in ascending order
    votes: np.ndarray  # participants x statements, +1 / -1 / 0, NaN = no vote (float32 when read)
    texts: dict[str, str] = field(default_factory=dict)  # statement id -> text, where known
    moderated_out: set[str] = field(default_factory=set)  # statement ids left out of the maths
    polis_groups: dict[str, int] = field(default_factory=dict)  # participant -> group Polis exported
    source: str = ""

    @property
    def active(self) -> np.ndarray:
        """Boolean mask of the statements the maths uses (not moderated out)."""
        return np.array([s not in self.moderated_out for s in self.statements], dtype=bool)


def text_file(read):
    """A reader of a CSV file (its first argument): a file that is not UTF-8 text, or
    that csv cannot split, is refused with a message instead of an error from deep down."""
    @functools.wraps(read)
    def guarded(path, *args, **kwargs):
        try:
            return read(path, *args, **kwargs)
        except UnicodeDecodeError:
            raise RejectedFile(_("{path}: the file is not UTF-8 text.").format(path=path),
                               hint=_("Save it as CSV UTF-8 (in Excel: Save as > CSV UTF-8).")) from None
        except csv.Error as exc:
            raise RejectedFile(_("{path}: not a readable CSV file ({exc}).").format(path=path, exc=exc)) from None
    return guarded


def spreadsheet_csv(path: Path, what: str):
    """A csv reader over a small file a person saved from a spreadsheet: UTF-8 (with or
    without BOM) or Windows-1252, delimiter , ; or tab from the header line."""
    from pool.csvfile import read_text, sniff_delimiter

    text, _x = read_text(Path(path), what)
    return csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text.split("\n", 1)[0]))


def _key(text: str) -> tuple:
    """Sort ids numerically where they are numbers, else as text."""
    return (0, int(text), "") if text.lstrip("-").isdigit() else (1, 0, text)


def _open(path: Path):
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise RejectedFile(_("{path}: no such file.").format(path=path)) from None
    except OSError as exc:
        raise RejectedFile(_("{path}: cannot be read ({strerror}).").format(path=path, strerror=exc.strerror)) from None


def _vote(value: str, path: Path, line: int, column: int, statement: str) -> float:
    v = VOTE_VALUES.get(value.strip())
    if v is None:
        raise RejectedFile(_("{path}, line {line}, column {column} (statement {statement}): the vote is not 1, -1, 0 or empty.").format(path=path, line=line, column=column, statement=statement), hint=_("Votes are 1 = agree, -1 = disagree, 0 = pass."))
    return v


def read_polis_export(folder: str | Path) -> Conversation:
    """A Polis export folder: participants-votes.csv (or votes.csv), comments.csv if present."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RejectedFile(_("{folder}: no such folder.").format(folder=folder), hint=_("Give the folder the Polis export was unpacked into."))
    texts, moderated = _read_comments(folder / "comments.csv")
    if (folder / "participants-votes.csv").is_file():
        conv = _read_participant_votes(folder / "participants-votes.csv")
    elif (folder / "votes.csv").is_file():
        conv = read_votes_csv(folder / "votes.csv")
    else:
        raise RejectedFile(_("{folder}: neither participants-votes.csv nor votes.csv is there.").format(folder=folder),
                           hint=_("Export the conversation from Polis (Report > Export) and unpack it here."))
    conv.texts = texts
    conv.moderated_out = {s for s in moderated if s in set(conv.statements)}
    conv.source = str(folder)
    return _checked(conv)


@text_file
def _read_comments(path: Path) -> tuple[dict[str, str], set[str]]:
    if not path.is_file():
        return {}, set()
    texts, moderated = {}, set()
    with _open(path) as fh:
        reader = csv.reader(fh)
        header = next(reader, None) or []
        cols = {name: i for i, name in enumerate(header)}
        if "comment-id" not in cols:
            raise RejectedFile(_("{path}, line 1: there is no comment-id column.").format(path=path),
                               hint=_("This does not look like a Polis comments.csv."))
        for row in reader:
            if len(row) != len(header):
                raise RejectedFile(_("{path}, line {line_num}: {count} fields where the header has {count2}.").format(path=path, line_num=reader.line_num, count=len(row), count2=len(header)), hint=_("The file is cut or was edited by hand; export it again."))
            sid = row[cols["comment-id"]].strip()
            texts[sid] = row[cols["comment-body"]] if "comment-body" in cols else ""
            if "moderated" in cols and row[cols["moderated"]].strip() == "-1":
                moderated.add(sid)
    return texts, moderated


@text_file
def _read_participant_votes(path: Path) -> Conversation:
    with _open(path) as fh:
        text = fh.read()
    head, _nl, body = text.partition("\n")
    header = next(csv.reader([head]), None)
    if not header:
        raise RejectedFile(_("{path} is empty.").format(path=path))
    if "participant" not in header:
        raise RejectedFile(_("{path}, line 1: there is no participant column.").format(path=path),
                           hint=_("This does not look like a Polis participants-votes.csv."))
    meta = {"participant", "xid", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"}
    first = next((i for i, name in enumerate(header) if name not in meta), None)  # statements follow the meta
    if first is None:
        raise RejectedFile(_("{path}, line 1: there is no statement column after the participant columns.").format(
            path=path), hint=_("This does not look like a Polis participants-votes.csv."))
    statements = header[first:]
    seen_at: dict[str, int] = {}
    for column, sid in enumerate(statements, first + 1):
        if sid in seen_at:
            raise RejectedFile(_("{path}, line 1, column {column}: statement {statement} appears twice (also in "
                                 "column {first}).").format(path=path, column=column, statement=sid,
                                                            first=seen_at[sid]))
        seen_at[sid] = column
    pid_col, group_col = header.index("participant"), header.index("group-id") if "group-id" in header else None
    ids, rows, lines, groups, seen = [], [], [], {}, set()
    if '"' in body:  # quoted fields: the csv module's reading, one field at a time
        reader = csv.reader(io.StringIO(body, newline=""))
        records = ((row, reader.line_num + 1, len(row)) for row in reader)
    else:  # the usual export: only the meta fields are split off, the votes stay one text
        del text
        records = ((row, number, len(row) if len(row) <= first else first + row[first].count(",") + 1)
                   for number, row in ((n, line.rstrip("\r").split(",", first))
                                       for n, line in enumerate(body.split("\n"), 2)) if row != [""])
    for row, line, fields in records:
        if fields != len(header):
            raise RejectedFile(_("{path}, line {line}: {count} fields where the header has {count2}.").format(path=path, line=line, count=fields, count2=len(header)),
                               hint=_("The file is cut or was edited by hand; export it again."))
        pid = row[pid_col].strip()
        if not pid:
            raise RejectedFile(_("{path}, line {line}, column {value}: the participant id is empty.").format(path=path, line=line, value=pid_col + 1))
        if pid in seen:
            raise RejectedFile(_("{path}, line {line}, column {value}: participant {pid} appears twice.").format(path=path, line=line, value=pid_col + 1, pid=pid))
        seen.add(pid)
        ids.append(pid)
        rows.append(row[first] if len(row) == first + 1 else ",".join(row[first:]))
        lines.append(line)
        if group_col is not None and row[group_col].strip():
            try:
                groups[pid] = int(row[group_col])
            except ValueError:
                raise RejectedFile(_("{path}, line {line}, column {value}: group-id is not a number.").format(path=path, line=line, value=group_col + 1)) \
                    from None
    votes = np.empty((len(rows), len(statements)), dtype=VOTE_DTYPE)
    step = max(1, PARSE_CELLS // max(1, len(statements)))
    for start in range(0, len(rows), step):
        chunk = rows[start:start + step]
        parsed = _parse_votes(chunk, len(statements))
        if parsed is None:  # something that is not a plain vote: find it the slow way, which names the column
            parsed = np.array([[_vote(v, path, line, first + j + 1, statements[j]) for j, v in enumerate(r.split(","))]
                               for r, line in zip(chunk, lines[start:start + step])], dtype=float)
        votes[start:start + len(chunk)] = parsed.reshape(len(chunk), len(statements))
    del rows
    return _sorted(Conversation(ids, list(statements), votes, polis_groups=groups))


def _parse_votes(rows: list[str], m: int) -> np.ndarray | None:
    """The votes of comma-joined rows of m fields each, parsed all at once with numpy:
    a field is empty (no vote), 1, 0 or -1. None if any field is something else."""
    n = len(rows)
    if not n or not m:
        return np.zeros((n, m))
    text = ",".join(rows).encode("ascii", "replace") + b",,"  # two bytes of padding to read past the end
    b = np.frombuffer(text, dtype=np.uint8)
    commas = np.flatnonzero(b[:-2] == 44)  # ","
    if len(commas) != n * m - 1:  # a field held a comma: cannot happen in a row csv has split
        return None
    starts = np.empty(n * m, dtype=np.int64)
    starts[0] = 0
    starts[1:] = commas + 1
    length = np.empty(n * m, dtype=np.int64)
    length[:-1] = commas - starts[:-1]
    length[-1] = len(b) - 2 - starts[-1]
    first, second = b[starts], b[starts + 1]
    # a field's key: its length and first two bytes; the only votes are "", "1", "0" and "-1"
    key = (length << 16) | (first.astype(np.int64) << 8) | second
    table = {(0 << 16) | (44 << 8) | 44: np.nan, (1 << 16) | (49 << 8) | 44: 1.0, (1 << 16) | (48 << 8) | 44: 0.0,
             (2 << 16) | (45 << 8) | 49: -1.0}
    votes = np.full(n * m, np.nan)
    known = np.zeros(n * m, dtype=bool)
    for k, v in table.items():
        hit = key == k
        votes[hit] = v
        known |= hit
    known |= length == 0  # an empty field at the very end is followed by padding, not a comma
    return votes.reshape(n, m) if known.all() else None


@text_file
def read_votes_csv(path: str | Path, statements_path: str | Path | None = None) -> Conversation:
    """Votes one per line: Otos's votes CSV (participant, statement, vote[, time]) or a
    Polis votes.csv (voter-id, comment-id, vote, timestamp). Where a participant voted on
    a statement more than once, the latest vote counts (by time, else by line). Without
    ``statements_path``, a ``statements.csv`` beside the votes gives the texts."""
    path = Path(path)
    if statements_path is None and (path.parent / "statements.csv").is_file():
        statements_path = path.parent / "statements.csv"
    reader = spreadsheet_csv(path, _("votes"))
    header = [h.strip().lower() for h in next(reader, None) or []]
    if not header:
        raise RejectedFile(_("{path} is empty.").format(path=path))
    names = {"participant": ("participant", "voter-id"), "statement": ("statement", "comment-id"),
             "vote": ("vote",), "time": ("time", "timestamp")}
    cols = {}
    for key, options in names.items():
        found = [header.index(o) for o in options if o in header]
        if found:
            cols[key] = found[0]
        elif key != "time":
            raise RejectedFile(_("{path}, line 1: there is no {key} column.").format(path=path, key=key),
                               hint=_("The columns are participant, statement, vote and (optional) time."))
    latest: dict[tuple[str, str], tuple[tuple, float]] = {}
    for row in reader:
        line = reader.line_num
        if not row or not any(v.strip() for v in row):
            continue
        if len(row) != len(header):
            raise RejectedFile(_("{path}, line {line}: {count} fields where the header has {count2}.").format(path=path, line=line, count=len(row), count2=len(header)),
                               hint=_("Check the delimiter and quoting of this line."))
        pid, sid = row[cols["participant"]].strip(), row[cols["statement"]].strip()
        for what, value in (("participant", pid), ("statement", sid)):
            if not value:
                raise RejectedFile(_("{path}, line {line}, column {value}: the {what} id is empty.").format(path=path, line=line, value=cols[what] + 1, what=what))
        vote = _vote(row[cols["vote"]], path, line, cols["vote"] + 1, sid)
        if math.isnan(vote):
            raise RejectedFile(_("{path}, line {line}, column {value}: the vote is empty.").format(path=path, line=line, value=cols['vote'] + 1),
                               hint=_("Votes are 1 = agree, -1 = disagree, 0 = pass."))
        order = (_time(row[cols["time"]], path, line, cols["time"] + 1) if "time" in cols else 0.0, line)
        if (pid, sid) not in latest or latest[(pid, sid)][0] < order:
            latest[(pid, sid)] = (order, vote)
    participants = sorted({p for p, _x in latest}, key=_key)
    statements = sorted({s for _x, s in latest}, key=_key)
    if statements_path:
        texts, moderated = _read_statements(Path(statements_path))
        statements = sorted(set(statements) | set(texts), key=_key)
    else:
        texts, moderated = {}, set()
    pi = {p: i for i, p in enumerate(participants)}
    si = {s: j for j, s in enumerate(statements)}
    votes = np.full((len(participants), len(statements)), np.nan, dtype=VOTE_DTYPE)
    for (p, s), (_x, v) in latest.items():
        votes[pi[p], si[s]] = v
    conv = Conversation(participants, statements, votes, texts, moderated & set(statements), source=str(path))
    return _checked(conv)


def _time(text: str, path: Path, line: int, column: int) -> float:
    import datetime as dt

    text = text.strip()
    if not text:
        return 0.0
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise RejectedFile(_("{path}, line {line}, column {column}: the time is neither a number nor an ISO date.").format(path=path, line=line, column=column),
                           hint=_("Write it as 2026-03-01T18:30:00 or as milliseconds since 1970.")) from None


@text_file
def _read_statements(path: Path) -> tuple[dict[str, str], set[str]]:
    """Otos's statements CSV: statement, text[, moderated (1 / yes = left out)]."""
    reader = spreadsheet_csv(path, _("statements"))
    header = [h.strip().lower() for h in next(reader, None) or []]
    if "statement" not in header or "text" not in header:
        raise RejectedFile(_("{path}, line 1: the columns must include statement and text.").format(path=path))
    texts, moderated = {}, set()
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise RejectedFile(_("{path}, line {line_num}: {count} fields where the header has {count2}.").format(path=path, line_num=reader.line_num, count=len(row), count2=len(header)))
        sid = row[header.index("statement")].strip()
        texts[sid] = row[header.index("text")]
        if "moderated" in header and row[header.index("moderated")].strip().lower() in ("1", "-1", "yes", "kyllä"):
            moderated.add(sid)
    return texts, moderated


def _sorted(conv: Conversation) -> Conversation:
    p_order = sorted(range(len(conv.participants)), key=lambda i: _key(conv.participants[i]))
    s_order = sorted(range(len(conv.statements)), key=lambda j: _key(conv.statements[j]))
    conv.participants = [conv.participants[i] for i in p_order]
    conv.statements = [conv.statements[j] for j in s_order]
    if conv.votes.size and p_order != sorted(p_order):  # in order already (as Polis exports): no copy
        conv.votes = conv.votes[p_order]
    if conv.votes.size and s_order != sorted(s_order):
        conv.votes = conv.votes[:, s_order]
    return conv


def _checked(conv: Conversation) -> Conversation:
    if not conv.participants:
        raise OtosError(_("{source}: there are no participants.").format(source=conv.source), hint=_("Check that this is the right export."))
    if int(conv.active.sum()) < 2:
        raise OtosError(_("{source}: only {int} statement(s) can be used; opinion groups need at least two.").format(source=conv.source, int=int(conv.active.sum())), hint=_("Moderated-out statements are left out of the maths."))
    return conv
