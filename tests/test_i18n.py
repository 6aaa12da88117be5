"""Otos speaks Finnish, Swedish and English: complete catalogs, the choice of language,
Finnish formats, and the app, the CLI and the outputs without English in Finnish."""
from __future__ import annotations

import csv
import datetime as dt
import html
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from pypdf import PdfReader

from pool import i18n
from tui.cli import main

# Words a Finnish or Swedish user must not meet: the English names of the screens,
# their keys and the report's words.
ENGLISH = ("Extracts", "Quotas", "Draw", "Letters", "Exports", "Opinions", "Settings", "Import", "Purge",
           "Refresh", "Faults", "Quit", "Search", "Members", "Cancel", "feature", "value", "population",
           "quota", "panel", "yes", "page", "woman", "man", "Swedish", "Finnish", "volunteers", "invited")


SWEDISH_TOO = {"man", "panel"}  # the same word in Swedish


def english_words(text: str, lang: str = "fi") -> set[str]:
    words = [w for w in ENGLISH if lang != "sv" or w not in SWEDISH_TOO]
    return {w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)}


def test_every_text_has_a_finnish_and_a_swedish_translation_and_no_catalog_entry_is_unused():
    assert i18n.problems() == []


def test_a_translation_keeps_the_placeholders_of_its_english_text():
    from babel.messages.pofile import read_po

    placeholder = re.compile(r"\{(\w*)")
    for lang in ("fi", "sv"):
        with i18n._po_path(lang).open("rb") as f:
            for m in read_po(f, locale=lang):
                if m.id and isinstance(m.id, str):
                    missing = set(placeholder.findall(m.string)) - set(placeholder.findall(m.id))
                    assert not missing, (lang, m.id, m.string)


def test_the_language_comes_from_lang_then_otos_lang_then_the_workspace_then_the_system(monkeypatch):
    monkeypatch.delenv("OTOS_LANG", raising=False)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert i18n.choose() == "fi"  # no locale at all: Finnish
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert i18n.choose() == "fi"  # a locale Otos does not speak: Finnish
    monkeypatch.setenv("LANG", "sv_FI.UTF-8")
    assert i18n.choose() == "sv"
    assert i18n.choose(workspace="en") == "en"
    monkeypatch.setenv("OTOS_LANG", "fi")
    assert i18n.choose(workspace="en") == "fi"
    assert i18n.choose("sv", workspace="en") == "sv"
    with pytest.raises(i18n.LanguageError):
        i18n.choose("de")


def test_finnish_and_swedish_formats():
    assert i18n.percent(0.196, lang="fi") == "19,6\u00a0%"
    assert i18n.percent(0.196, lang="sv") == "19,6\u00a0%"
    assert i18n.percent(0.196, lang="en") == "19.6%"
    assert i18n.number(12345, lang="fi") == "12\u00a0345"
    assert i18n.number(0.04375, 4, lang="fi") == "0,0438"
    assert i18n.number(12345, lang="en") == "12,345"
    assert i18n.date(dt.date(2026, 12, 1)) == "1.12.2026"
    for text in ("1.12.2026", "01.12.2026", "2026-12-01", " 1.12.2026 "):
        assert i18n.parse_date(text) == dt.date(2026, 12, 1)
    for text in ("31.2.2026", "2026-02-30"):
        with pytest.raises(ValueError, match="calendar"):
            i18n.parse_date(text)
    for text in ("1/12/2026", "12.2026", "", "2026-1-1"):
        with pytest.raises(ValueError, match="1.12.2026"):
            i18n.parse_date(text)


def test_the_cli_speaks_the_language_asked_for(tmp_path, capsys):
    db = str(tmp_path / "w.db")
    assert main(["--lang", "sv", "--db", db, "extract", "list"]) == 0
    assert "Inga uttag än" in capsys.readouterr().out
    assert main(["--lang", "fi", "--db", db, "extract", "list"]) == 0
    assert "Ei vielä poimintoja" in capsys.readouterr().out
    assert main(["--lang", "de", "--db", db, "extract", "list"]) == 2
    assert "fi, sv and en" in capsys.readouterr().err
    assert main(["--db", db, "extract", "list"]) == 0  # OTOS_LANG=en in the tests
    assert "No extracts yet" in capsys.readouterr().out


def test_the_workspace_setting_chooses_the_language_when_nothing_else_does(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "w.db")
    assert main(["--db", db, "workspace", "init", "--county", "Pohjanmaa"]) == 0
    assert main(["--db", db, "workspace", "set", "language", "sv"]) == 0
    capsys.readouterr()
    monkeypatch.delenv("OTOS_LANG")
    try:
        assert main(["--db", db, "extract", "list"]) == 0
        assert "Inga uttag än" in capsys.readouterr().out
        assert main(["--db", db, "workspace", "set", "language", "de"]) == 2
        assert "fi, sv eller en" in capsys.readouterr().err
        assert main(["--db", db, "workspace", "set", "language", ""]) == 0  # back to the system's language
        monkeypatch.setenv("LANG", "fi_FI.UTF-8")
        assert main(["--db", db, "extract", "list"]) == 0
        assert "Ei vielä poimintoja" in capsys.readouterr().out
    finally:
        i18n.set_language("en")


def test_finnish_report_roster_and_composition_have_no_english_values(drawn_panel, tmp_path, finnish):
    from letters.exports import export_composition, export_roster
    from letters.report import build_report, write_pdf

    engine, panel_id = drawn_panel
    write_pdf(engine, build_report(engine, panel_id), tmp_path / "r.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(str(tmp_path / "r.pdf")).pages)
    assert "edustavuus" in text and "nainen" in text and "väestö" in text and "sivu 1 / " in text
    assert re.search(r"\d+,\d\s%", text), "percentages are written 19,6 %"
    assert english_words(text) == set()
    export_roster(engine, panel_id, tmp_path / "r.pdf", "pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(str(tmp_path / "r.pdf")).pages)
    assert "jäsenet" in text and english_words(text) == set()
    export_composition(engine, panel_id, tmp_path / "c.csv")
    raw = (tmp_path / "c.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the letters right
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][:3] == ["ominaisuus", "arvo", "väestön osuus"]
    assert {r[0] for r in rows[1:]} <= {"ikä", "sukupuoli", "kieli", "kunta"}
    assert english_words(" ".join(" ".join(r) for r in rows)) == set()


def test_swedish_report_reads_in_swedish(drawn_panel, tmp_path, swedish):
    from letters.report import build_report, format_table

    engine, panel_id = drawn_panel
    table = format_table(build_report(engine, panel_id))
    assert "befolkning" in table and "kvinna" in table and "kön" in table
    assert english_words(table, "sv") == set()


def test_csv_dialect_comma_on_request(drawn_panel, tmp_path, monkeypatch, finnish):
    from letters.exports import export_composition

    engine, panel_id = drawn_panel
    monkeypatch.setenv("OTOS_CSV_DIALECT", "comma")
    export_composition(engine, panel_id, tmp_path / "c.csv")
    raw = (tmp_path / "c.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.decode().splitlines()[0].startswith("ominaisuus,arvo,")


def test_csv_dialect_option_is_checked_and_used(tmp_path, capsys):
    db = str(tmp_path / "w.db")
    assert main(["--csv-dialect", "tabs", "--db", db, "extract", "list"]) == 2
    assert "excel-fi" in capsys.readouterr().err
    try:
        assert main(["--csv-dialect", "comma", "--db", db, "extract", "list"]) == 0
        assert i18n.csv_dialect() == (",", "utf-8")
    finally:
        i18n._csv_choice = None


@pytest.fixture
def drawn_panel(sqlite_engine):
    from pool.members import add_member
    from sampling.panels import draw_panel
    from sampling.problem import Quota

    for i in range(16):
        add_member(sqlite_engine, {"first_names": f"Etu{i}", "surname": f"Suku{i}", "sex": "1" if i % 2 else "2",
                                   "birth_year": str(1950 + i), "email": f"m{i}@example.org",
                                   "preferred_language": "fi" if i % 3 else "sv"}, consent_version="v1")
    quotas = [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)]
    panel_id, _sel = draw_panel(sqlite_engine, quotas, 6, "s")
    return sqlite_engine, panel_id


APP_SCRIPT = textwrap.dedent("""
    import asyncio, html, json, re, sys
    from pool.db import open_database
    from pool import workspace
    from tui.app import OtosApp

    engine = open_database(sys.argv[1])
    workspace.init(engine, "Pohjanmaa")

    def text(app):
        svg = app.export_screenshot()
        return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\\u00a0", " ")

    async def run():
        app = OtosApp(engine)
        seen = {}
        async with app.run_test(size=(80, 24)) as pilot:
            for key in ("f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"):
                await pilot.press(key)
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
                seen[key] = text(app)
        print(json.dumps(seen))

    asyncio.run(run())
""")


@pytest.mark.parametrize("lang, words", [
    ("fi", {"f2": "Poiminnat", "f3": "Sukunimi", "f4": "Kiintiöt", "f5": "Arvonta", "f9": "Asetus"}),
    ("sv", {"f2": "Uttag", "f3": "Efternamn", "f4": "Kvoter", "f5": "Lottning", "f9": "Inställning"}),
])
def test_the_app_at_80x24_speaks_finnish_and_swedish(tmp_path, lang, words):
    """The real app, headless at 80x24 in a process of its own (the language is chosen
    before the screens are built, as ``otos`` does): every main screen in the language
    asked for, no English screen names or keys."""
    env = dict(os.environ, OTOS_LANG=lang)
    out = subprocess.run([sys.executable, "-c", APP_SCRIPT, str(tmp_path / "w.db")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    for key, word in words.items():
        assert word in seen[key], (key, seen[key])
    for key, screen in seen.items():
        assert english_words(html.unescape(screen), lang) == set(), (key, screen)


def test_argparse_speaks_finnish_too(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--lang", "fi", "--db", str(tmp_path / "w.db"), "panel", "drw"])
    err = capsys.readouterr().err
    assert "käyttö: otos panel" in err and "virheellinen valinta: 'drw'" in err


def test_a_bad_otos_lang_is_a_message_not_a_traceback(tmp_path):
    env = dict(os.environ, OTOS_LANG="xx", LANG="sv_FI.UTF-8")
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    out = subprocess.run([sys.executable, "-m", "tui.cli", "--db", str(tmp_path / "w.db"), "extract", "list"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "OTOS_LANG: Otos talar fi, sv och en, inte 'xx'" in out.stderr  # in the system's language


OPINION_WORDS = ("agree", "disagree", "group", "Group", "Statement", "share", "Consensus", "Divisive", "stratum",
                 "weighted", "side", "people")
JARGON = ("siluetti", "Rand", "gic", "z-arvo", "bootstrap", "Wilson")


def test_finnish_opinions_report_speaks_plainly_with_the_terms_in_an_appendix(tmp_path, finnish):
    from opinions.analysis import analyze
    from opinions.data import read_polis_export
    from opinions.report import write_report
    from opinions.strata import read_participants, read_population, Strata
    from tests.test_opinions import planted, write_polis

    labels, votes = planted()
    conv = read_polis_export(write_polis(tmp_path / "c", votes))
    (tmp_path / "p.csv").write_text("participant;sukupuoli\n" + "".join(
        f"{i};{'mies' if i % 3 else 'nainen'}\n" for i in range(len(labels))), "utf-8")
    (tmp_path / "v.csv").write_text("feature;value;count\nsukupuoli;mies;49\nsukupuoli;nainen;51\n", "utf-8")
    strata = Strata(read_participants(tmp_path / "p.csv")[0], read_population(tmp_path / "v.csv"))
    write_report(analyze(conv, "s", restarts=2), tmp_path / "m.pdf", strata)
    text = "\n".join(p.extract_text() for p in PdfReader(str(tmp_path / "m.pdf")).pages)
    assert "Mielipideryhmät" in text and "Mikä erottaa ryhmän A" in text and "samaa mieltä" in text
    assert "Taustatekijä: sukupuoli" in text and "nainen" in text
    assert re.search(r"\d+ %", text) and not re.search(r"\d\.\d", text)  # "62 %", decimal commas
    words = {w for w in OPINION_WORDS if re.search(rf"(?<![\w-]){w}(?![\w-])", text)}
    assert english_words(text) | words == set()
    body, appendix = text.split("Liite: tekniset termit")
    assert [w for w in JARGON if w in body] == [] and all(w in appendix for w in JARGON[:3])
