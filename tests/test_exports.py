"""Rosters, composition and call list: contents, permissions, audit, no personal data where promised."""
import csv

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session

from pool.i18n import _ as translate
from letters.exports import RESERVES_TITLE, export_call_list, export_composition, export_reserve_calls, export_roster
from pool import audit
from pool.errors import OtosError
from pool.members import add_member, update_member
from sampling.panels import draw_panel, replace_member
from sampling.problem import Quota
from tests.conftest import fonts_in

QUOTAS = [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)]


@pytest.fixture
def panel(sqlite_engine):
    for i in range(20):
        add_member(sqlite_engine, {"first_names": f"Etu{i}", "surname": f"Suku{i}", "sex": "1" if i % 2 else "2",
                                   "email": None if i % 4 == 0 else f"m{i}@example.org",
                                   "phone": f"040 000 {i:04d}", "birth_year": str(1930 + i),
                                   "needs": "pyörätuoli" if i == 3 else None}, consent_version="v1")
    panel_id, sel = draw_panel(sqlite_engine, QUOTAS, 6, "s")
    replace_member(sqlite_engine, panel_id, int(sel.panel[0]))
    return sqlite_engine, panel_id, sel


def test_roster_formats_list_seats_and_leavers_separately(panel, tmp_path, finnish):
    engine, panel_id, sel = panel
    assert export_roster(engine, panel_id, tmp_path / "r.csv", "csv") == 6
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    seated_part, _, rest = text.partition("Paneelista poistuneet")
    left_part, _, reserve_part = rest.partition("Varalla")
    assert f"poistunut;Suku{int(sel.panel[0]) - 1};Etu{int(sel.panel[0]) - 1};" in left_part
    assert len([r for r in csv.reader(seated_part.splitlines(), delimiter=";") if r][1:]) == 6
    export_roster(engine, panel_id, tmp_path / "r.xlsx", "xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb["Paneeli"].max_row == 7 and wb["Poistuneet"].max_row == 2 and wb["Varalla"].max_row == 6
    sheet = wb["Paneeli"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["jäsen", "rooli", "sukunimi", "etunimet"] and all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:M{sheet.max_row}"
    ids = [c.value for c in sheet["A"][1:]]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(ids)  # numbers, in numeric order
    assert {c.value for c in sheet["B"][1:]} <= {"valittu", "korvaava jäsen"}
    assert sheet.column_dimensions["E"].width > len("sähköposti")
    export_roster(engine, panel_id, tmp_path / "r.pdf", "pdf")
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(str(tmp_path / "r.pdf")).pages)
    assert "Paneeli" in pdf_text and "@example.org" in pdf_text and "Varalla" in pdf_text
    assert "sivu 1 / 1" in pdf_text
    fonts = fonts_in(tmp_path / "r.pdf")
    assert fonts and all(fonts.values()), fonts
    for name in ("r.csv", "r.xlsx", "r.pdf"):
        assert ((tmp_path / name).stat().st_mode & 0o777) == 0o600
    with Session(engine) as s:
        actions = [e.action for e in audit.entries(s)]
    assert actions.count("export.roster") == 3


def test_reserves_wait_seat_by_seat_on_the_roster_and_the_reserve_list(panel, tmp_path, finnish):
    engine, panel_id, sel = panel  # the fixture's dropout was filled by their own first reserve
    export_roster(engine, panel_id, tmp_path / "r.csv", "csv")
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    seated_part, _, rest = text.partition("Paneelista poistuneet")
    seated = [r for r in csv.reader(seated_part.splitlines(), delimiter=";") if r][1:]
    reserves = [r for r in csv.reader(rest.split(translate(RESERVES_TITLE))[1].splitlines(), delimiter=";") if r and r[0]]
    gone = sel.panel[0]
    assert len(reserves) == 5 and len({r[0] for r in reserves}) == 5  # one per seat, one of them now seated
    assert not {r[0] for r in reserves} & ({r[0] for r in seated} | {gone})
    holders = []
    for r in reserves:
        rank, holder = r[1].removeprefix("varalla ").split(" / ")
        assert rank == "1" and holder in sel.panel and holder != gone
        assert (int(holder) % 2) == (int(r[0]) % 2) and r[-1] in ("mies", "nainen")  # same sex: like for like
        holders.append(int(holder))
    assert holders == sorted(holders)  # seat by seat
    assert export_reserve_calls(engine, panel_id, tmp_path / "v.csv") == 5
    calls = list(csv.reader((tmp_path / "v.csv").read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert calls[0][:3] == ["paikka (jäsen)", "järjestys", "jäsen"]
    assert [(int(c[0]), c[2]) for c in calls[1:]] == list(zip(holders, [r[0] for r in reserves]))
    assert ((tmp_path / "v.csv").stat().st_mode & 0o777) == 0o600


def test_composition_has_counts_and_no_personal_data(panel, tmp_path):
    engine, panel_id, _ = panel
    assert export_composition(engine, panel_id, tmp_path / "c.csv") == 2
    text = (tmp_path / "c.csv").read_text(encoding="utf-8-sig")
    assert "Suku" not in text and "@" not in text and "040" not in text
    rows = list(csv.reader(text.splitlines(), delimiter=";"))[1:]
    assert sum(int(r[6]) for r in rows) == 6 and sum(int(r[3]) for r in rows) == 20
    assert all(r[2] == "" for r in rows)  # no extract in this workspace: no population share


def test_call_list_holds_members_without_email_oldest_first(panel, tmp_path):
    engine, _, _ = panel
    update_member(engine, 5, {"status": "paused"})
    n = export_call_list(engine, tmp_path / "calls.csv")
    rows = list(csv.reader((tmp_path / "calls.csv").read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))[1:]
    assert n == len(rows) == 4  # members 1, 5, 9, 13, 17 have no e-mail; 5 is paused
    assert [r[0] for r in rows] == ["1", "9", "13", "17"]
    years = [int(r[3]) for r in rows]
    assert years == sorted(years)


def test_unknown_panel_and_format_are_named(panel, tmp_path):
    engine, _, _ = panel
    with pytest.raises(OtosError, match="no panel 99"):
        export_roster(engine, 99, tmp_path / "x.csv", "csv")
    with pytest.raises(OtosError, match="Unknown roster format"):
        export_roster(engine, 1, tmp_path / "x.doc", "doc")


def test_an_export_into_a_missing_folder_is_a_message(panel, tmp_path):
    engine, panel_id, _ = panel
    for export in (lambda out: export_roster(engine, panel_id, out, "csv"),
                   lambda out: export_composition(engine, panel_id, out), lambda out: export_call_list(engine, out)):
        with pytest.raises(OtosError, match="no such folder"):
            export(tmp_path / "missing" / "x.csv")
