"""The pool: registration, CSV import, paging and filters, real erasure."""
import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from pool import codes
from pool.errors import NotFound, OtosError, RejectedFile
from pool.extract import import_extract
from pool.invitations import create_invitations
from pool.members import (MemberQuery, add_member, count_members, get_member, import_members, list_members,
                          register_by_code, update_member, withdraw)
from pool.models import AuditEntry, Invitation, Person, PoolMember
from tests.conftest import people, write_rows

DELETE_BY = dt.date.today() + dt.timedelta(days=90)


def invited(engine, tmp_path, rows):
    report = import_extract(engine, write_rows(tmp_path / "e.csv", rows), permit="P", purpose="x",
                            delete_by=DELETE_BY)
    with Session(engine) as s:
        ids = {p.hetu: p.id for p in s.execute(select(Person)).scalars()}
    return report.extract_id, ids


def test_register_by_response_code_copies_register_strata(engine, tmp_path):
    rows = people(10)
    rows[0][12] = rows[0][13] = "0"
    rows[0][3], rows[0][5], rows[0][6] = "Kauppakatu 1 A 5", "40100", "JYVÄSKYLÄ"
    ext, ids = invited(engine, tmp_path, rows)
    [code] = create_invitations(engine, ext, [ids[rows[0][0]]], "2026-1")
    member_id = register_by_code(engine, codes.display(code).lower(), {"email": "a@example.org"},
                                 consent_version="v1")
    m = get_member(engine, member_id)
    assert (m.first_names, m.surname, m.municipality) == (rows[0][1], rows[0][2], rows[0][8])
    assert m.birth_year == int(rows[0][9][:4]) and m.sex == (int(rows[0][10]) if rows[0][10] else None)
    assert (m.street, m.postal_code, m.email, m.recruitment_round) == ("Kauppakatu 1 A 5", "40100", "a@example.org", "2026-1")
    with pytest.raises(OtosError, match="already been used"):
        register_by_code(engine, code, {}, consent_version="v1")


def test_register_by_code_never_copies_a_protected_address(engine, tmp_path):
    rows = people(10)
    rows[0][12], rows[0][13] = "1", "0"
    ext, ids = invited(engine, tmp_path, rows)
    code = "ABCDEFG" + codes.check_character("ABCDEFG")
    with Session(engine) as s:  # invitations go to mailable people only; place one here to check the rule
        s.add(Invitation(extract_id=ext, person_id=ids[rows[0][0]], round="r", response_code=code))
        s.commit()
    m = get_member(engine, register_by_code(engine, code, {}, consent_version="v1"))
    assert (m.street, m.postal_code, m.post_office) == (None, None, None)


def test_invitations_refuse_people_who_cannot_be_mailed(engine, tmp_path):
    rows = people(10)
    rows[0][13] = "1"
    ext, ids = invited(engine, tmp_path, rows)
    with pytest.raises(OtosError, match="cannot be mailed"):
        create_invitations(engine, ext, [ids[rows[0][0]]], "r")


@pytest.mark.parametrize("typed,error", [("ABCD-EFG", "not valid"), ("ABCD-EFGZ", "not valid")])
def test_mistyped_or_unknown_codes_are_named(engine, typed, error):
    with pytest.raises(OtosError, match=error):
        register_by_code(engine, typed, {}, consent_version="v1")
    good = "ZZZZZZZ" + codes.check_character("ZZZZZZZ")
    with pytest.raises(NotFound, match="No invitation"):
        register_by_code(engine, good, {}, consent_version="v1")


def test_add_member_by_hand_validates_every_field(engine):
    with pytest.raises(OtosError) as err:
        add_member(engine, {"first_names": "Aino", "email": "not-mail", "birth_year": "19x0", "sex": "7",
                            "municipality": "999", "postal_code": "123"}, consent_version="")
    msg = str(err.value)
    for part in ("surname is required", "email is not an e-mail", "birth_year must be a year", "sex must be",
                 "municipality is not a municipality", "postal_code must be 5 digits", "consent_version is required"):
        assert part in msg
    assert count_members(engine) == 0
    member_id = add_member(engine, {"first_names": "Aino", "surname": "Virtanen", "birth_year": "1950",
                                    "sex": "nainen", "municipality": "179", "extra": '{"rooli": "henkilöstö"}'},
                           consent_version="v2")
    m = get_member(engine, member_id)
    assert (m.sex, m.birth_year, m.status, m.source) == (2, 1950, "active", "manual")
    assert json.loads(m.extra) == {"rooli": "henkilöstö"}


def test_edit_member_saves_nothing_on_a_bad_field(engine):
    member_id = add_member(engine, {"first_names": "Eero", "surname": "Ek"}, consent_version="v1")
    with pytest.raises(OtosError, match="status must be"):
        update_member(engine, member_id, {"education": "korkea-aste", "status": "gone"})
    assert get_member(engine, member_id).education is None
    update_member(engine, member_id, {"education": "korkea-aste", "status": "paused"})
    assert get_member(engine, member_id).status == "paused"


def test_csv_import_with_column_mapping(engine, tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("Etunimi;Sukunimi;Sposti;Syntymävuosi;Koulutus\n"
                    "Aino;Aalto;aino@example.org;1961;toinen aste\nBo;Berg;bo@example.org;1990;korkea-aste\n",
                    encoding="utf-8")
    mapping = {"first_names": "Etunimi", "surname": "Sukunimi", "email": "Sposti", "birth_year": "Syntymävuosi",
               "education": "Koulutus"}
    assert import_members(engine, path, mapping, consent_version="v1", recruitment_round="kysely") == 2
    [a, b] = list_members(engine)
    assert (a.surname, a.birth_year, a.education, a.recruitment_round, a.source) == ("Aalto", 1961, "toinen aste", "kysely", "import")


def test_csv_import_is_all_or_nothing_with_line_and_column(engine, tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("first,last,mail\nAino,Aalto,aino@example.org\nBo,,bo@example\nCecilia,Carp\n")
    with pytest.raises(RejectedFile) as err:
        import_members(engine, path, {"first_names": "first", "surname": "last", "email": "mail"},
                       consent_version="v1")
    msg = str(err.value)
    assert "line 3, column 2 (last): is required" in msg
    assert "line 3, column 3 (mail): is not an e-mail address" in msg
    assert "line 4 (row): has 2 fields" in msg
    assert count_members(engine) == 0


@pytest.mark.parametrize("content,mapping,error", [
    (b"", {"surname": "x"}, "empty"),
    (b"PK\x03\x04\x00\x00binary", {"surname": "x"}, "binary"),
    (b"a,b\n1,2\n", {"surname": "x"}, "not in the header"),
    (b"a,b\n1,2\n", {"shoe": "a"}, "Unknown member field"),
])
def test_csv_import_bad_files(engine, tmp_path, content, mapping, error):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(OtosError, match=error):
        import_members(engine, path, mapping, consent_version="v1")


def test_list_pages_and_filters_in_sql(engine):
    for i in range(25):
        add_member(engine, {"first_names": f"Etu{i}", "surname": "Sukunimi" if i % 2 else "Toinen",
                            "preferred_language": "sv" if i % 5 == 0 else "fi"}, consent_version="v1")
    assert count_members(engine) == 25
    page = list_members(engine, offset=20, limit=10)
    assert [m.first_names for m in page] == [f"Etu{i}" for i in range(20, 25)]
    assert count_members(engine, MemberQuery(search="toinen")) == 13
    assert count_members(engine, MemberQuery(search="TOINEN etu1")) == 5
    assert count_members(engine, MemberQuery(language="sv")) == 5


def test_withdrawal_erases_member_and_register_row(engine, tmp_path):
    rows = people(6)
    rows[0][12] = rows[0][13] = "0"
    ext, ids = invited(engine, tmp_path, rows)
    [code] = create_invitations(engine, ext, [ids[rows[0][0]]], "r")
    member_id = register_by_code(engine, code, {}, consent_version="v1")
    withdraw(engine, member_id)
    with pytest.raises(NotFound):
        get_member(engine, member_id)
    with Session(engine) as s:
        assert s.get(Person, ids[rows[0][0]]) is None
        assert s.execute(select(Invitation.person_id)).scalar_one() is None
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert entry.action == "pool.withdraw" and rows[0][2] not in entry.details


def test_withdrawn_data_is_not_recoverable_from_the_sqlite_file(sqlite_engine, tmp_path):
    marker = "Zyxwvutsrq"
    member_id = add_member(sqlite_engine, {"first_names": "Kaarina", "surname": marker,
                                           "email": f"{marker.lower()}@example.org"}, consent_version="v1")
    for i in range(30):  # neighbours on the same pages
        add_member(sqlite_engine, {"first_names": f"N{i}", "surname": "Naapuri"}, consent_version="v1")
    sqlite_engine.dispose()
    assert marker.encode() in (tmp_path / "otos.db").read_bytes()
    withdraw(sqlite_engine, member_id)
    sqlite_engine.dispose()
    for name in ("otos.db", "otos.db-journal", "otos.db-wal"):
        f = tmp_path / name
        if f.exists():
            data = f.read_bytes()
            assert marker.encode() not in data and marker.lower().encode() not in data


def test_withdraw_unknown_member_is_named(engine):
    with pytest.raises(NotFound, match="no pool member 7"):
        withdraw(engine, 7)
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(PoolMember)).scalar_one() == 0


SURVEY = ("Etunimi;Sukunimi;Syntymävuosi;Sähköposti;Puhelin\n"
          "Aino;Aalto;1980;aino@example.org;\n"
          "Eino;Leino;1975;;040 123 4567\n"
          "Aino;Virtanen;1990;;\n")
SURVEY_MAP = {"first_names": "Etunimi", "surname": "Sukunimi", "birth_year": "Syntymävuosi", "email": "Sähköposti",
              "phone": "Puhelin"}


def test_the_same_survey_imported_twice_is_refused_naming_the_lines(engine, tmp_path):
    path = tmp_path / "kysely.csv"
    path.write_text(SURVEY, encoding="utf-8")
    assert import_members(engine, path, SURVEY_MAP, consent_version="v1") == 3
    with pytest.raises(RejectedFile) as err:
        import_members(engine, path, SURVEY_MAP, consent_version="v1")
    assert "line 2" in str(err.value) and "line 3" in str(err.value) and "imported already" in str(err.value)
    assert "line 4" not in str(err.value)  # no contact details: a namesake is not taken for the same person
    assert count_members(engine) == 3


def test_same_person_twice_in_one_file_or_by_hand_is_refused(engine, tmp_path):
    path = tmp_path / "kysely.csv"
    path.write_text(SURVEY + "AINO;aalto;1980;Aino@Example.org;\n", encoding="utf-8")
    with pytest.raises(RejectedFile, match="line 5.*the same person as line 2"):
        import_members(engine, path, SURVEY_MAP, consent_version="v1")
    add_member(engine, {"first_names": "Eino", "surname": "Leino", "birth_year": "1975", "phone": "+358 40 123 4567"},
               consent_version="v1")
    with pytest.raises(OtosError, match="pool member 1 has the same name"):
        add_member(engine, {"first_names": "Eino", "surname": "Leino", "birth_year": "1975", "phone": "0401234567"},
                   consent_version="v1")


def test_a_panel_never_seats_one_person_twice(engine):
    from sqlalchemy import insert

    from pool.models import utcnow
    from sampling.panels import draw_panel
    from sampling.problem import Quota

    now = utcnow()
    with Session(engine) as s:  # duplicates from before the checks existed
        s.execute(insert(PoolMember), [
            {"first_names": f"Etu{i % 10}", "surname": "Suku", "birth_year": 1950 + i % 10, "email": f"e{i % 10}@x.fi",
             "sex": 1 + i % 2, "source": "import", "status": "active", "preferred_language": "fi",
             "consent_version": "v1", "consent_at": now, "joined_at": now, "panels_served": 0, "search_key": ""}
            for i in range(20)])
        s.commit()
    with pytest.raises(OtosError, match="the same person twice: members 1 and 11"):
        draw_panel(engine, [Quota("sex", "mies", 1, 4), Quota("sex", "nainen", 1, 4)], 4, "s")


def test_survey_registers_every_volunteer_by_response_code_in_one_go(engine, tmp_path):
    rows = people(30)
    for r in rows:
        r[12], r[13] = "0", "0"
    ext, ids = invited(engine, tmp_path, rows)
    made = create_invitations(engine, ext, [ids[r[0]] for r in rows[:10]], "2026-1")
    survey = tmp_path / "kysely.csv"
    lines = ["Vastauskoodi;Sähköposti;Puhelin;Koulutus"] + [
        f"{codes.display(c).lower() if i % 2 else codes.display(c)};m{i}@example.org;040 000 00{i:02d};korkea-aste"
        for i, c in enumerate(made[:8])]
    survey.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = {"code": "Vastauskoodi", "email": "Sähköposti", "phone": "Puhelin", "education": "Koulutus"}
    assert import_members(engine, survey, mapping, consent_version="v1") == 8
    members = {m.email: m for m in list_members(engine)}
    first = next(r for r in rows if ids[r[0]] == get_member(engine, members["m0@example.org"].id).person_id)
    m = members["m0@example.org"]
    assert (m.first_names, m.surname, m.municipality, m.education) == (first[1], first[2], first[8], "korkea-aste")
    assert m.recruitment_round == "2026-1" and m.source == "invitation"
    # the same file again: every code is used already, nobody registered twice
    with pytest.raises(RejectedFile, match="(?s)8 fault.*already been used"):
        import_members(engine, survey, mapping, consent_version="v1")
    assert count_members(engine) == 8


def test_survey_with_a_mistyped_code_is_refused_naming_line_and_column(engine, tmp_path):
    rows = people(10)
    ext, ids = invited(engine, tmp_path, rows)
    made = create_invitations(engine, ext, [ids[r[0]] for r in rows if r[12] == "0" and r[13] == "0"][:3], "r")
    good, typo = codes.display(made[0]), codes.display(made[1])
    typo = typo[:-1] + ("A" if typo[-1] != "A" else "B")
    survey = tmp_path / "kysely.csv"
    survey.write_text(f"email;code\na@example.org;{good}\nb@example.org;{typo}\nc@example.org;{good}\n",
                      encoding="utf-8")
    with pytest.raises(RejectedFile) as err:
        import_members(engine, survey, {"code": "code", "email": "email"}, consent_version="v1")
    text = str(err.value)
    assert "line 3, column 2 (code): not a valid response code" in text and "line 4" in text and "line 2" in text
    assert "line 4, column 2 (code): the same code as line 2" in text
    assert count_members(engine) == 0
    with pytest.raises(OtosError, match="the register gives first_names"):
        import_members(engine, survey, {"code": "code", "first_names": "email"}, consent_version="v1")
