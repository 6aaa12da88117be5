"""DVV extract import: good files, every kind of bad input, one transaction."""
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from pool.errors import ImportCancelled, OtosError, RejectedFile
from pool.extract import faults_of, import_extract, list_extracts, overdue, purge
from pool.models import AuditEntry, Extract, ImportFault, Person, PoolMember
from tests.conftest import HEADER, people, write_rows

DELETE_BY = dt.date.today() + dt.timedelta(days=120)


def run(engine, path, **kw):
    kw.setdefault("permit", "VRK/123/2026")
    kw.setdefault("purpose", "Asukaspaneeli")
    kw.setdefault("delete_by", DELETE_BY)
    return import_extract(engine, path, **kw)


def counts(engine):
    with Session(engine) as s:
        return tuple(s.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (Extract, Person, ImportFault, AuditEntry))


def assert_unchanged(engine):
    assert counts(engine) == (0, 0, 0, 0)


def test_import_stores_people_and_records_terms(engine, extract_file):
    report = run(engine, extract_file)
    assert (report.rows_read, report.rows_stored, report.rows_rejected) == (60, 60, 0)
    [e] = list_extracts(engine)
    assert e["rows"] == 60 and e["rejected"] == 0 and e["permit"] == "VRK/123/2026"
    assert e["delete_by"] == DELETE_BY.isoformat() and len(e["sha256"]) == 64
    with Session(engine) as s:
        audit = s.execute(select(AuditEntry)).scalar_one()
        assert audit.action == "extract.import" and '"rows_stored": 60' in audit.details


def test_turvakielto_address_never_stored(engine, tmp_path):
    rows = people(20)
    for i, r in enumerate(rows[:6]):
        r[12] = "1"  # active turvakielto, address columns still filled in
        r[3], r[5] = f"Suojattu polku {i + 1}", "40100"
    rows[5][12] = "9"  # the other coding DVV uses
    report = run(engine, write_rows(tmp_path / "t.csv", rows))
    assert report.turvakielto == 6
    with Session(engine) as s:
        protected = s.execute(select(Person).where(Person.turvakielto.is_(True))).scalars().all()
        assert len(protected) == 6
        for p in protected:
            assert (p.street_fi, p.street_sv, p.postal_code, p.post_office_fi, p.post_office_sv) == (None,) * 5
            assert not p.mailable
    raw = (tmp_path / "otos.db").read_bytes() if engine.dialect.name == "sqlite" else b""
    for r in rows[:6]:
        assert r[3].encode() not in raw


def test_deceased_and_addressless_people_cannot_be_mailed(engine, tmp_path):
    rows = people(10)
    rows[0][13] = "1"
    rows[1][3] = rows[1][5] = rows[1][6] = ""
    report = run(engine, write_rows(tmp_path / "d.csv", rows))
    assert report.deceased >= 1
    with Session(engine) as s:
        by_code = {p.hetu: p for p in s.execute(select(Person)).scalars()}
    assert not by_code[rows[0][0]].mailable and by_code[rows[0][0]].deceased
    assert not by_code[rows[1][0]].mailable
    assert by_code[rows[2][0]].mailable == (rows[2][12] == "0" and rows[2][13] == "0" and bool(rows[2][3]))


def test_windows_1252_file_is_detected_and_letters_survive(engine, tmp_path):
    rows = people(10)
    rows[0][1], rows[0][2] = "Äijä Öllö", "Åkerblöm"
    path = write_rows(tmp_path / "w.csv", rows, encoding="cp1252", newline="\r\n")
    report = run(engine, path)
    assert report.encoding == "cp1252" and report.rows_stored == 10
    with Session(engine) as s:
        p = s.execute(select(Person).where(Person.hetu == rows[0][0])).scalar_one()
    assert (p.first_names, p.surname) == ("Äijä Öllö", "Åkerblöm")


def test_utf8_bom_and_crlf_are_read(engine, tmp_path):
    rows = people(5)
    path = tmp_path / "bom.csv"
    write_rows(path, rows, newline="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = run(engine, path)
    assert report.rows_stored == 5 and report.encoding == "utf-8-sig"
    with Session(engine) as s:
        assert s.execute(select(Person.hetu).order_by(Person.id)).scalars().first() == rows[0][0]


def test_encoding_override_that_does_not_fit_is_rejected_with_line(engine, tmp_path):
    rows = people(5)
    rows[3][1] = "Åsa"
    path = write_rows(tmp_path / "l1.csv", rows, encoding="latin-1")
    first_bad = next(i for i, r in enumerate(rows) if not ";".join(r).isascii()) + 2
    with pytest.raises(RejectedFile, match=rf"line {first_bad}: the file is not valid utf-8"):
        run(engine, path, encoding="utf-8")
    assert_unchanged(engine)


def test_truncated_last_line_is_a_row_fault_and_the_rest_imports(engine, tmp_path):
    rows = people(8)
    rows[-1] = rows[-1][:6]
    report = run(engine, write_rows(tmp_path / "trunc.csv", rows, final_newline=False))
    assert report.rows_stored == 7 and report.rows_rejected == 1
    [f] = report.faults
    assert f.line == 9 and "truncated" in f.message


def test_wrong_column_count_names_the_line(engine, tmp_path):
    rows = people(6)
    rows[2] = rows[2] + ["extra"]
    report = run(engine, write_rows(tmp_path / "cols.csv", rows))
    assert report.rows_rejected == 1
    assert report.faults[0].line == 4 and "has 16 fields" in report.faults[0].message


@pytest.mark.parametrize("index,value,field,text", [
    (0, "131052-308A", "henkilotunnus", "check character"),
    (9, "19991332", "syntymaaika", "not a real date"),
    (9, "1999-01-01", "syntymaaika", "yyyymmdd"),
    (8, "999", "kuntanumero", "unknown municipality"),
    (5, "0010", "postinumero", "5 digits"),
    (10, "3", "sukupuoli", "sex must be"),
    (11, "xx", "aidinkieli", "ISO 639-1"),
    (11, "xyz", "aidinkieli", "ISO 639-1"),
    (11, "smnx", "aidinkieli", "most allowed is 3"),
    (12, "2", "turvakielto", "must be 0"),
    (1, "A" * 101, "etunimet", "most allowed is 100"),
    (14, "X" * 17, "asuinpaikantunnus", "most allowed is 16"),
])
def test_row_faults_name_line_column_and_field_but_not_the_value(engine, tmp_path, index, value, field, text):
    rows = people(6)
    rows[3][12] = "0"  # the faulty row has no turvakielto, so its address is checked
    rows[3][index] = value
    report = run(engine, write_rows(tmp_path / "bad.csv", rows))
    assert report.rows_stored == 5 and report.rows_rejected == 1
    [f] = report.faults
    assert (f.line, f.field, f.column) == (5, field, HEADER.index(field) + 1)
    assert text in f.message and value not in str(f)
    assert [str(x) for x in faults_of(engine, report.extract_id)] == [str(f)]


def test_duplicate_person_points_at_the_first_line(engine, tmp_path):
    rows = people(5)
    rows.append(list(rows[1]))
    report = run(engine, write_rows(tmp_path / "dup.csv", rows))
    assert report.rows_stored == 5
    assert report.faults[0].line == 7 and "same person as line 3" in report.faults[0].message


def test_strict_rejects_the_file_on_any_row_fault(engine, tmp_path):
    rows = people(10)
    rows[6][0] = "010101-0000"
    with pytest.raises(RejectedFile, match=r"line 8, column 1 \(henkilotunnus\)"):
        run(engine, write_rows(tmp_path / "s.csv", rows), strict=True)
    assert_unchanged(engine)


def test_header_without_required_columns_is_rejected(engine, tmp_path):
    rows = [r[:1] + r[2:] for r in people(5)]
    header = [h for h in HEADER if h != "etunimet"]
    with pytest.raises(RejectedFile, match="lacks required column.*etunimet"):
        run(engine, write_rows(tmp_path / "h.csv", rows, header))
    assert_unchanged(engine)


def test_header_in_any_order_and_case_is_accepted(engine, tmp_path):
    rows = people(5)
    order = list(reversed(range(len(HEADER))))
    header = [HEADER[i].upper() for i in order]
    path = write_rows(tmp_path / "o.csv", [[r[i] for i in order] for r in rows], header)
    assert run(engine, path).rows_stored == 5


def test_wrong_delimiter_is_named(engine, tmp_path):
    path = write_rows(tmp_path / "comma.csv", people(5), delimiter=",")
    with pytest.raises(RejectedFile, match="looks delimited by ','"):
        run(engine, path)
    assert_unchanged(engine)


@pytest.mark.parametrize("content,text", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    (";".join(HEADER).encode() + b"\n", "no row could be imported"),
])
def test_empty_binary_and_headless_files_are_rejected(engine, tmp_path, content, text):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(RejectedFile, match=text):
        run(engine, path)
    assert_unchanged(engine)


def test_missing_file_is_named(engine, tmp_path):
    with pytest.raises(RejectedFile, match="does not exist"):
        run(engine, tmp_path / "nope.csv")


def test_same_file_twice_is_detected(engine, extract_file):
    first = run(engine, extract_file)
    with pytest.raises(RejectedFile, match=f"already imported as extract {first.extract_id}"):
        run(engine, extract_file)
    assert counts(engine)[:2] == (1, 60)


def test_bad_terms_are_refused_before_reading(engine, extract_file):
    with pytest.raises(OtosError, match="permit"):
        run(engine, extract_file, permit=" ")
    with pytest.raises(OtosError, match="already past"):
        run(engine, extract_file, delete_by=dt.date(2020, 1, 1))
    with pytest.raises(OtosError, match="Unknown import profile"):
        run(engine, extract_file, profile="nope")
    assert_unchanged(engine)


def test_cancelled_import_leaves_the_database_as_it_was(engine, tmp_path, monkeypatch):
    monkeypatch.setattr("pool.extract.CHUNK_ROWS", 10)
    calls = []

    def cancel_after_first_chunk():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(ImportCancelled):
        run(engine, write_rows(tmp_path / "c.csv", people(60)), cancelled=cancel_after_first_chunk)
    assert len(calls) == 2
    assert_unchanged(engine)


def test_progress_is_reported_in_chunks(engine, tmp_path, monkeypatch):
    monkeypatch.setattr("pool.extract.CHUNK_ROWS", 10)
    seen = []
    run(engine, write_rows(tmp_path / "p.csv", people(45)), progress=lambda f, m: seen.append(f))
    assert len(seen) >= 4 and seen == sorted(seen) and seen[-1] == 1.0


def test_fixed_width_profile_reads_the_same_people(engine, tmp_path):
    from sample_data.generator import write_extract

    fixed = write_extract(tmp_path / "f.txt", rows=40, seed=3, profile="dvv-fixed", encoding="cp1252")
    delimited = write_extract(tmp_path / "d.csv", rows=40, seed=3)
    a = run(engine, fixed, profile="dvv-fixed")
    assert a.encoding == "cp1252" and a.rows_stored == 40
    strip = lambda p: p.model_dump(exclude={"id", "extract_id"})  # noqa: E731
    with Session(engine) as s:
        first = [strip(p) for p in s.execute(select(Person).order_by(Person.id)).scalars()]
        s.execute(Person.__table__.delete())
        s.commit()
    b = run(engine, delimited)
    with Session(engine) as s:
        second = [strip(p) for p in s.execute(select(Person).order_by(Person.id)).scalars()]
    assert first == second and len(first) == 40 and b.rows_stored == 40


def test_fixed_width_line_too_long_is_a_row_fault(engine, tmp_path):
    from sample_data.generator import write_extract

    path = write_extract(tmp_path / "f.txt", rows=5, seed=3, profile="dvv-fixed")
    lines = path.read_text().splitlines()
    lines[2] += "SPILL"
    path.write_text("\n".join(lines) + "\n")
    report = run(engine, path, profile="dvv-fixed")
    assert report.rows_stored == 4 and report.faults[0].line == 3 and "553 characters" in report.faults[0].message


def test_custom_profile_maps_other_column_names(engine, tmp_path):
    profile = tmp_path / "county.toml"
    names = {f: f"COL_{i}" for i, f in enumerate(HEADER)}
    profile.write_text('format = "delimited"\ndelimiter = "|"\n[columns]\n'
                       + "".join(f'{f} = "{c}"\n' for f, c in names.items()))
    path = write_rows(tmp_path / "c.txt", people(7), [names[f] for f in HEADER], delimiter="|")
    assert run(engine, path, profile=str(profile)).rows_stored == 7


def test_profile_with_unknown_field_is_refused(engine, tmp_path, extract_file):
    profile = tmp_path / "bad.toml"
    profile.write_text('format = "delimited"\n[columns]\nshoe_size = "x"\n')
    with pytest.raises(OtosError, match="unknown field.*shoe_size"):
        run(engine, extract_file, profile=str(profile))


def test_purge_keeps_pool_members_and_deletes_the_rest(engine, extract_file):
    report = run(engine, extract_file)
    with Session(engine) as s:
        keep = s.execute(select(Person.id).order_by(Person.id)).scalars().first()
        s.add(PoolMember(person_id=keep, source="invitation", first_names="A", surname="B",
                         consent_version="v1", consent_at=dt.datetime.now(dt.timezone.utc)))
        s.commit()
    assert purge(engine, report.extract_id) == 59
    with Session(engine) as s:
        assert s.execute(select(Person.id)).scalars().all() == [keep]
        assert s.execute(select(AuditEntry.action).order_by(AuditEntry.id.desc())).scalars().first() == "extract.purge"
    [e] = list_extracts(engine)
    assert e["purged"] and e["rows"] == 1


def test_purge_of_unknown_extract_is_named(engine):
    with pytest.raises(OtosError, match="no extract 42"):
        purge(engine, 42)


def test_overdue_extracts_are_listed_until_purged(engine, extract_file):
    report = run(engine, extract_file)
    later = DELETE_BY + dt.timedelta(days=1)
    assert [e["id"] for e in overdue(engine, today=later)] == [report.extract_id]
    assert overdue(engine) == []
    purge(engine, report.extract_id)
    assert overdue(engine, today=later) == []


def test_reader_process_gives_the_same_result_as_in_process(engine, tmp_path, monkeypatch):
    rows = people(300)
    rows[17][0] = "bad"
    rows[250][9] = "20991301"
    path = write_rows(tmp_path / "big.csv", rows)
    monkeypatch.setattr("pool.extract.CHUNK_ROWS", 64)
    serial = run(engine, path)
    with Session(engine) as s:
        expected = [p.model_dump(exclude={"id", "extract_id"}) for p in s.execute(select(Person).order_by(Person.id)).scalars()]
        s.execute(Person.__table__.delete())
        s.execute(ImportFault.__table__.delete())
        s.execute(Extract.__table__.delete())
        s.commit()
    monkeypatch.setattr("pool.extract.PARALLEL_MIN_BYTES", 0)
    parallel = run(engine, path)
    with Session(engine) as s:
        got = [p.model_dump(exclude={"id", "extract_id"}) for p in s.execute(select(Person).order_by(Person.id)).scalars()]
    assert got == expected and len(got) == 298
    assert [str(f) for f in parallel.faults] == [str(f) for f in serial.faults] and len(serial.faults) == 2


def test_reader_process_rejection_reaches_the_user_and_saves_nothing(engine, tmp_path, monkeypatch):
    rows = people(50)
    rows[40][8] = "999"
    monkeypatch.setattr("pool.extract.PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr("pool.extract.CHUNK_ROWS", 8)
    with pytest.raises(RejectedFile, match=r"line 42, column 9 \(kuntanumero\)"):
        run(engine, write_rows(tmp_path / "s.csv", rows), strict=True)
    assert_unchanged(engine)
    with pytest.raises(ImportCancelled):
        run(engine, write_rows(tmp_path / "c.csv", people(50)), cancelled=lambda: True)
    assert_unchanged(engine)
