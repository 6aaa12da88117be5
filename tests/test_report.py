"""The representativeness report: shares by stage, quotas met, no personal data."""
import datetime as dt

import pytest
from pypdf import PdfReader

from letters.report import build_report, format_table, write_pdf
from pool.errors import OtosError
from pool.extract import import_extract
from pool.members import register_by_code
from sampling.invitations import draw_invitations
from sampling.panels import draw_panel
from sampling.problem import Quota
from tests.conftest import fonts_in, people, write_rows
from tui.cli import main


@pytest.fixture
def drawn(sqlite_engine, tmp_path):
    rows = people(600, seed=12)
    report = import_extract(sqlite_engine, write_rows(tmp_path / "e.csv", rows), permit="P", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=60))
    draw = draw_invitations(sqlite_engine, report.extract_id, 200, "s", strata=("sex",), round_name="r")
    from sqlmodel import Session, select

    from pool.models import Invitation
    with Session(sqlite_engine) as s:
        codes = s.execute(select(Invitation.response_code).order_by(Invitation.id)).scalars().all()
    for code in codes[:40]:
        register_by_code(sqlite_engine, code, {"email": "x@example.org"}, consent_version="v1")
    quotas = [Quota("sex", "mies", 3, 5), Quota("sex", "nainen", 3, 5)]
    panel_id, _ = draw_panel(sqlite_engine, quotas, 8, "seed")
    return sqlite_engine, panel_id, draw


def test_shares_by_stage_and_quotas_met(drawn):
    engine, panel_id, draw = drawn
    report = build_report(engine, panel_id)
    assert report.totals["invited"] == 200 and report.totals["volunteers"] == 40 and report.totals["panel"] == 8
    assert sum(r.counts["panel"] for r in report.rows) == 8
    assert all(r.met for r in report.rows)
    assert sum(report.share(r, "population") for r in report.rows) == pytest.approx(1.0, abs=0.01)
    table = format_table(report)
    assert "Every quota is met." in table and "lowest 0.2000" in table


def test_pdf_report_has_no_personal_data(drawn, tmp_path, finnish):
    engine, panel_id, _ = drawn
    out = tmp_path / "r.pdf"
    write_pdf(engine, build_report(engine, panel_id), out)
    text = "\n".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "edustavuus" in text and "nainen" in text and "@" not in text


def test_pdf_report_carries_the_workspace_logo(drawn, tmp_path):
    from pool import workspace
    from tests.conftest import make_workspace
    from tests.test_workspace import SVG

    engine, panel_id, _ = drawn
    make_workspace(engine)
    plain, with_logo = tmp_path / "plain.pdf", tmp_path / "logo.pdf"
    write_pdf(engine, build_report(engine, panel_id), plain)
    (tmp_path / "logo.svg").write_text(SVG.replace("#1565c0", "#123456"))
    workspace.set_value(engine, "logo", str(tmp_path / "logo.svg"))
    write_pdf(engine, build_report(engine, panel_id), with_logo)
    fill = b".070588 .203922 .337255 rg"  # the logo's own colour, drawn as vectors
    assert fill not in _content(plain) and fill in _content(with_logo)


def _content(path) -> bytes:
    return b"".join(page.get_contents().get_data() for page in PdfReader(str(path)).pages)


def test_report_cli_and_unknown_panel(drawn, capsys):
    engine, panel_id, _ = drawn
    assert main(["--db", str(engine.url.database), "report", "--panel", str(panel_id)]) == 0
    assert "shares by stage" in capsys.readouterr().out
    with pytest.raises(OtosError, match="no panel 42"):
        build_report(engine, 42)


def test_a_panels_report_is_unchanged_by_another_countys_extract(drawn, tmp_path):
    """Reports once followed "the newest extract": a Pirkanmaa import turned a panel's
    population into 0.0 % everywhere. The counts are now recorded with the draw."""
    from letters.exports import composition_rows

    engine, panel_id, _ = drawn
    before = format_table(build_report(engine, panel_id))
    composition = composition_rows(engine, panel_id)
    import_extract(engine, write_rows(tmp_path / "p.csv", people(300, seed=13, county="Pirkanmaa")), permit="P2",
                   purpose="x", delete_by=dt.date.today() + dt.timedelta(days=60))
    assert format_table(build_report(engine, panel_id)) == before
    assert composition_rows(engine, panel_id) == composition
    assert "extract 1, counted when the panel was drawn" in before
    # ...and on a later day, nobody is re-aged into another band
    later = build_report(engine, panel_id, day=dt.date.today() + dt.timedelta(days=400))
    assert format_table(later) == before


@pytest.mark.parametrize("categories", [3, 25, 70])
def test_pdf_report_of_any_number_of_categories_splits_over_numbered_pages(drawn, tmp_path, categories, finnish):
    """A feature with many values (21 Lapland municipalities and more) continues over
    several charts and pages; every page is numbered; every font is embedded."""
    from letters.report import Report, Row

    engine, panel_id, _ = drawn
    rows = [Row("municipality", f"Kunta {i:02d}", (0, 2), {"population": 100 + i, "invited": 10, "volunteers": 3,
                                                           "panel": i % 3}) for i in range(categories)]
    totals = {"population": sum(r.counts["population"] for r in rows), "invited": 10 * categories,
              "volunteers": 3 * categories, "panel": sum(r.counts["panel"] for r in rows)}
    out = tmp_path / "many.pdf"
    write_pdf(engine, Report(panel_id, rows, totals, [0.1, 0.2], extract_id=1, counted_on="2026-12-01"), out)
    pages = [p.extract_text() for p in PdfReader(str(out)).pages]
    assert all(f"sivu {n} / {len(pages)}" in text for n, text in enumerate(pages, start=1))
    assert all(f"Kunta {i:02d}" in "\n".join(pages) for i in range(categories))
    charts = -(-categories // 12)
    if charts > 1:
        assert f"osa {charts}/{charts}" in "\n".join(pages)
    fonts = fonts_in(out)
    assert fonts and all(fonts.values()), fonts
    assert not any("Helvetica" in name for name in fonts)
