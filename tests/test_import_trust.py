"""Crafted and clumsy extract files: a fault never becomes a quiet, wrong import.

Every data line is a stored person or a listed fault, and nobody with a turvakielto
ever ends up with an address or mailable, whatever the file does.
"""
import datetime as dt

import pytest
from sqlalchemy import select
from sqlmodel import Session

from pool.errors import OtosError, RejectedFile
from pool.extract import import_extract
from pool.models import Person
from tests.conftest import HEADER, people, write_rows

DELETE_BY = dt.date.today() + dt.timedelta(days=120)
TURVA = HEADER.index("turvakielto")


def run(engine, path, **kw):
    kw.setdefault("permit", "VRK/123/2026")
    kw.setdefault("purpose", "Asukaspaneeli")
    kw.setdefault("delete_by", DELETE_BY)
    return import_extract(engine, path, **kw)


def stored(engine) -> dict[str, Person]:
    with Session(engine) as s:
        return {p.hetu: p for p in s.execute(select(Person)).scalars()}


def assert_protected(p: Person) -> None:
    assert p.turvakielto and not p.mailable
    assert (p.street_fi, p.street_sv, p.postal_code, p.post_office_fi, p.post_office_sv, p.dwelling_id) == (None,) * 6


def test_header_naming_a_field_twice_is_refused_naming_both_columns(engine, tmp_path):
    rows = people(30)
    for r in rows[:20]:
        r[TURVA] = "1"
    header = HEADER + ["TURVAKIELTO"]
    path = write_rows(tmp_path / "dup.csv", [r + ["0"] for r in rows], header)
    with pytest.raises(RejectedFile) as err:
        run(engine, path)
    assert "twice" in err.value.message and f"columns {TURVA + 1} and {len(HEADER) + 1}" in err.value.message
    assert stored(engine) == {}


def test_later_row_with_turvakielto_protects_the_person(engine, tmp_path):
    rows = people(10)
    rows[2][TURVA], rows[2][3] = "0", "Salainen polku 7"
    later = list(rows[2])
    later[TURVA] = "1"
    rows.append(later)
    report = run(engine, write_rows(tmp_path / "t.csv", rows))
    person = stored(engine)[rows[2][0]]
    assert_protected(person)
    assert report.rows_read == 11 and report.rows_stored == 10 and report.rows_rejected == 1
    [fault] = report.faults
    assert fault.line == 12 and "line 4" in fault.message and "protected" in fault.message
    assert report.turvakielto == sum(r[TURVA] in ("1", "9") for r in rows[:10]) + 1
    raw = (tmp_path / "otos.db").read_bytes() if engine.dialect.name == "sqlite" else b""
    assert rows[2][3].encode() not in raw


def test_turvakielto_in_a_faulty_earlier_row_protects_the_stored_row(engine, tmp_path):
    rows = people(6)
    first = list(rows[1])
    first[TURVA], first[9] = "1", "1999XX01"  # turvakielto, but the row is faulty
    rows[1][TURVA] = "0"
    report = run(engine, write_rows(tmp_path / "t.csv", [first] + rows))
    assert_protected(stored(engine)[rows[1][0]])
    assert report.rows_read == 7 and report.rows_stored + report.rows_rejected == 7


def test_identical_repeated_row_is_a_note_that_strict_lets_pass(engine, tmp_path):
    rows = people(8)
    rows.append(list(rows[3]))
    report = run(engine, write_rows(tmp_path / "t.csv", rows), strict=True)
    assert report.rows_stored == 8 and report.faults[0].note and "identical" in report.faults[0].message


def test_conflicting_repeated_row_is_refused_by_strict(engine, tmp_path):
    rows = people(8)
    other = list(rows[3])
    other[1] = "Toinen"
    rows.append(other)
    with pytest.raises(RejectedFile, match="line 10"):
        run(engine, write_rows(tmp_path / "t.csv", rows), strict=True)
    assert stored(engine) == {}


@pytest.mark.parametrize("cut", [530, 547, 549])
def test_fixed_width_record_of_wrong_length_is_never_stored(engine, tmp_path, cut):
    from sample_data.generator import write_extract

    path = write_extract(tmp_path / "f.txt", rows=6, seed=3, profile="dvv-fixed")
    lines = path.read_text().splitlines()
    code = lines[2][:11]
    lines[2] = (lines[2] + "X")[:cut]
    path.write_text("\n".join(lines) + "\n")
    report = run(engine, path, profile="dvv-fixed")
    assert code not in stored(engine)
    assert report.rows_stored == 5 and report.faults[0].line == 3 and f"{cut} characters" in report.faults[0].message


def test_unbalanced_quote_costs_one_line_and_every_line_is_accounted_for(engine, tmp_path):
    rows = people(50)
    rows[10][1] = '"' + rows[10][1]  # opens a quote that never closes
    rows[30][2] = rows[30][2] + '"'  # a quote inside a field: harmless
    report = run(engine, write_rows(tmp_path / "q.csv", rows))
    assert report.rows_read == 50
    assert report.rows_stored + report.rows_rejected == 50
    assert report.rows_stored == 49
    [fault] = report.faults
    assert fault.line == 12 and "quote" in fault.message
    assert "50 data line(s) read = 49 people stored + 1 line(s) left out" in report.summary()


def test_quote_closed_lines_later_still_costs_only_the_lines_it_spans(engine, tmp_path):
    rows = people(20)
    rows[4][1] = '"' + rows[4][1]
    rows[7][2] = rows[7][2] + '"'  # closes the quote opened three lines up
    report = run(engine, write_rows(tmp_path / "q.csv", rows))
    assert report.rows_read == 20 and report.rows_stored + report.rows_rejected == 20
    assert report.rows_stored >= 18
    assert {f.line for f in report.faults} <= {6, 9}


@pytest.mark.parametrize("other", [7, 2])  # the Windows-1252 line after UTF-8 ones, or before them
def test_mixed_encodings_are_refused_naming_a_line_of_each(engine, tmp_path, other):
    rows = people(10)
    rows[1][2], rows[6][2] = "Kivelä", "Mäkelä"
    body = [";".join(HEADER)] + [";".join(r) for r in rows]
    data = b"".join((line.encode("cp1252" if i == other else "utf-8") + b"\n") for i, line in enumerate(body))
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    first_utf8 = next(i + 1 for i, line in enumerate(body) if i != other and not line.isascii())
    with pytest.raises(RejectedFile) as err:
        run(engine, path)
    assert f"line {first_utf8} is UTF-8, line {other + 1} is not" in err.value.message
    assert stored(engine) == {}


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x0b", "\x85", "\t", "\u2028"])
def test_control_character_in_a_field_is_a_row_fault(engine, tmp_path, bad):
    rows = people(10)
    rows[3][2] = rows[3][2][:2] + bad + rows[3][2][2:]
    rows[5][TURVA] = "1"
    rows[5][TURVA] = "1" + bad  # an unreadable turvakielto must not make anybody mailable
    path = tmp_path / "c.csv"
    path.write_bytes(("\n".join([";".join(HEADER)] + [";".join(r) for r in rows]) + "\n").encode("utf-8"))
    report = run(engine, path)
    assert report.rows_read == 10 and report.rows_stored == 8
    lines = {f.line: f for f in report.faults}
    assert lines[5].field == "sukunimi" and "control character" in lines[5].message
    assert lines[5].column == HEADER.index("sukunimi") + 1
    assert rows[5][0] not in stored(engine)


@pytest.mark.parametrize("name", ["rot13", "utf-16", "no-such-codec", "hex"])
def test_unknown_or_unsuitable_encoding_gets_a_clear_message(engine, extract_file, name):
    with pytest.raises(OtosError, match="Unknown or unsupported encoding"):
        run(engine, extract_file, encoding=name)
