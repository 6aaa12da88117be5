"""Property-based tests of the extract import (Hypothesis).

Random valid rows come back exactly; random corruptions of a valid file (cut lines,
stray quotes, repeated columns or rows, a line in another encoding, control
characters) are refused whole or reported line by line, so that people stored +
lines reported = data lines, and nobody with a turvakielto is ever mailable.
"""
import csv
import datetime as dt
import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from pool.db import open_database
from pool.errors import RejectedFile
from pool.extract import import_extract
from pool.models import Person
from tests.conftest import HEADER, people

DELETE_BY = dt.date.today() + dt.timedelta(days=60)
TURVA = HEADER.index("turvakielto")
NAME_CHARS = "abcdefghijklmnopqrstuvwxyzåäöABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖéüŠšŽž -'\";,."
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_files = itertools.count()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    engine = open_database(str(tmp_path_factory.mktemp("props") / "otos.db"))
    yield engine
    engine.dispose()


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def run(engine, tmp_path, data: bytes):
    path = tmp_path / f"e{next(_files)}.csv"
    path.write_bytes(data)
    return import_extract(engine, path, permit="P", purpose="x", delete_by=DELETE_BY)


def stored(engine, extract_id) -> dict[str, Person]:
    with Session(engine) as s:
        return {p.hetu: p for p in s.execute(select(Person).where(Person.extract_id == extract_id)).scalars()}


name = st.text(NAME_CHARS, min_size=1, max_size=40).map(str.strip).filter(bool)


@SETTINGS
@given(seed=st.integers(0, 10_000), names=st.lists(st.tuples(name, name), min_size=1, max_size=12))
def test_valid_rows_round_trip_exactly(db, tmp_path, seed, names):
    rows = people(len(names), seed=seed)
    for r, (first, last) in zip(rows, names):
        r[1], r[2] = first, last
    report = run(db, tmp_path, as_csv(rows))
    assert report.rows_read == report.rows_stored == len(rows) and report.rows_rejected == 0
    got = stored(db, report.extract_id)
    for r in rows:
        p = got[r[0]]
        assert (p.first_names, p.surname, p.municipality, p.dwelling_id or "") == (
            r[1], r[2], r[8], "" if r[TURVA] in ("1", "9") else r[14])
        assert p.turvakielto == (r[TURVA] in ("1", "9"))
        if p.turvakielto:
            assert p.street_fi is None and not p.mailable
        else:
            assert (p.street_fi or "") == r[3]


CONTROL = [c for c in map(chr, itertools.chain(range(0, 32), range(127, 160))) if c not in "\r\n"]
corruption = st.one_of(
    st.tuples(st.just("cut"), st.integers(1, 12), st.integers(0, 200)),
    st.tuples(st.just("quote"), st.integers(1, 12), st.integers(0, 200)),
    st.tuples(st.just("control"), st.integers(1, 12), st.integers(0, 200), st.sampled_from(CONTROL)),
    st.tuples(st.just("repeat row"), st.integers(1, 12), st.booleans()),
    st.tuples(st.just("repeat column"), st.integers(0, len(HEADER) - 1)),
    st.tuples(st.just("cp1252 line"), st.integers(1, 12)),
)


def corrupt(lines: list[str], ops) -> bytes:
    """Apply corruptions to the file's lines (0 is the header); returns the bytes."""
    encodings = ["utf-8"] * len(lines)
    for op in ops:
        kind = op[0]
        if kind == "repeat column":
            head = lines[0].split(";")
            lines[0] = ";".join(head + [head[op[1]].upper()])
            continue
        i = 1 + (op[1] - 1) % (len(lines) - 1)
        if kind == "cut":
            lines[i] = lines[i][:op[2] % max(len(lines[i]), 1)]
        elif kind == "quote":
            p = op[2] % max(len(lines[i]), 1)
            lines[i] = lines[i][:p] + '"' + lines[i][p:]
        elif kind == "control":
            p = op[2] % max(len(lines[i]), 1)
            lines[i] = lines[i][:p] + op[3] + lines[i][p:]
        elif kind == "repeat row":
            copy = lines[i].split(";")
            if op[2] and len(copy) > TURVA:  # the repeat says turvakielto
                copy[TURVA] = "1"
            lines.append(";".join(copy))
            encodings.append(encodings[i])
        elif kind == "cp1252 line":
            encodings[i] = "cp1252"
    return b"".join(line.encode(enc, errors="replace") + b"\n" for line, enc in zip(lines, encodings))


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(2, 12), ops=st.lists(corruption, min_size=1, max_size=4))
def test_corrupted_files_are_refused_or_every_line_is_accounted_for(db, tmp_path, seed, n, ops):
    rows = people(n, seed=seed)
    for r in rows[::3]:
        r[TURVA] = "1"
    lines = as_csv(rows).decode("utf-8").splitlines()
    data = corrupt(lines, ops)
    protected = set()  # identity codes that any line of the file gives a turvakielto
    for raw in data.split(b"\n")[1:]:
        fields = raw.decode("utf-8", errors="replace").split(";")
        if len(fields) > TURVA and fields[TURVA].strip() in ("1", "9"):
            protected.add(fields[0].strip().upper())
    protected |= {r[0] for r in rows if r[TURVA] == "1"}
    data_lines = sum(1 for raw in data.split(b"\n")[1:] if raw.strip())
    try:
        report = run(db, tmp_path, data)
    except RejectedFile:
        return  # refused whole: nothing stored (one transaction, tested elsewhere)
    assert report.rows_read == data_lines
    assert report.rows_stored + report.rows_rejected == data_lines
    assert len({f.line for f in report.faults}) == report.rows_rejected
    for code, p in stored(db, report.extract_id).items():
        if code in protected:
            assert p.turvakielto and not p.mailable and p.street_fi is None and p.dwelling_id is None, code
