"""Sámi letters in the Sámi homeland (issue 13, item 4): a North, Inari or Skolt Sámi
speaker in Enontekiö, Inari or Utsjoki (and Sodankylä when the workspace says so) gets a
Finnish letter plus a page in their Sámi language, when the county has had the template
translated; without one the Finnish letter, and the summary counts what is missing."""
import datetime as dt
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from letters.batch import print_round
from letters.fonts import register
from pool import workspace
from pool.errors import OtosError
from pool.extract import import_extract
from sampling.invitations import draw_invitations
from tests.conftest import make_workspace, people, write_rows

SHIPPED = Path(__import__("letters").__file__).with_name("templates")
# Every letter of the North, Inari and Skolt Sámi alphabets beyond a-z, and the Skolt
# soft sign and apostrophe.
SAMI_LETTERS = "ÁáČčĐđŊŋŠšŦŧŽžÂâÄäÅåÕõƷʒǮǯǦǧǤǥǨǩʹʼ"

# A made-up "translation" for the tests: the placeholders a translator keeps, marked so
# the page can be found. Otos ships no Sámi text, and the tests do not pretend to.
TEMPLATE = """TESTI-{lang} {topic} {letters}

{first_names}: {register_url} {contact_phone} ({contact_hours}) {reply_by}

{permit} {delete_by}
"""


def template_file(tmp_path, lang):
    path = tmp_path / f"{lang}.txt"
    path.write_text(TEMPLATE.replace("{lang}", lang).replace("{letters}", SAMI_LETTERS), "utf-8")
    return path


def lapland_round(engine, tmp_path, homes):
    """A Lapland round inviting one person per (municipality code, mother tongue)."""
    rows = people(len(homes), seed=21, county="Lappi")
    for i, (municipality, tongue) in enumerate(homes):
        r = rows[i]
        r[3], r[8], r[11], r[12], r[13], r[14] = f"Čuđđevárri {i + 1}", municipality, tongue, "0", "0", f"SAMIHOME{i:04d}"
    make_workspace(engine, "Lappi")
    report = import_extract(engine, write_rows(tmp_path / "lappi.csv", rows), permit="DVV/1/2026", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=60))
    draw_invitations(engine, report.extract_id, len(rows), "s", strata=("sex",), round_name="r", min_age=0,
                     age_bands=(0,))
    return rows


def listing(out):
    lines = out.with_suffix(".csv").read_text("utf-8-sig").splitlines()[1:]
    return [line.split(";") for line in lines]


HOMES = [("890", "se"), ("890", "se"), ("148", "smn"), ("148", "sms"), ("047", "fi"), ("698", "se"),
         ("758", "se")]


def test_without_a_template_the_finnish_letter_and_a_count_of_what_is_missing(sqlite_engine, tmp_path):
    lapland_round(sqlite_engine, tmp_path, HOMES)
    out = tmp_path / "r.pdf"
    report = print_round(sqlite_engine, "r", out)
    assert report.letters == len(HOMES)
    assert {row[2] for row in listing(out)} == {"fi"}  # one Finnish page each
    assert len(PdfReader(str(out)).pages) == len(HOMES)
    assert report.sami_missing == {"se": 2, "smn": 1, "sms": 1}  # Rovaniemi and Sodankylä are not owed one
    text = "\n".join(report.summary())
    assert "2 North Sámi letters are missing" in text and "template.se" in text
    assert "1 Skolt Sámi letter is missing" in text


def test_with_a_north_sami_template_utsjoki_gets_finnish_and_sami(sqlite_engine, tmp_path):
    rows = lapland_round(sqlite_engine, tmp_path, HOMES)
    workspace.set_value(sqlite_engine, "template.se", str(template_file(tmp_path, "se")))
    (tmp_path / "se.txt").unlink()  # the workspace keeps the text, not a path to the file
    out = tmp_path / "r.pdf"
    report = print_round(sqlite_engine, "r", out)
    pages = [p.extract_text() for p in PdfReader(str(out)).pages]
    by_name = {row[3]: row for row in listing(out)}
    for (municipality, tongue), r in zip(HOMES, rows):
        letter = by_name[f"{r[1]} {r[2]}"]
        first = int(letter[1]) - 1
        if municipality == "890":
            assert letter[2] == "fi+se"
            assert "Kutsu asukaspaneeliin" in pages[first] and f"{r[1]} {r[2]}" in pages[first]  # the address page
            sami = pages[first + 1]
            assert "TESTI-se" in sami and letter[7] in sami and r[1].split()[0] in sami
            assert SAMI_LETTERS in sami  # the font covers every Sámi letter, and they survive into the PDF
            assert f"{r[1]} {r[2]}" not in sami  # the address only once, in the window
            assert "Ystävällisin terveisin" not in sami  # no Finnish words on a Sámi page
        else:
            assert letter[2] == "fi"
    assert report.sami_missing == {"smn": 1, "sms": 1}  # Inari and Skolt are still missing
    assert len(pages) == len(HOMES) + 2


def test_sodankyla_by_the_workspace_setting_and_a_batch_folder_first(sqlite_engine, tmp_path):
    lapland_round(sqlite_engine, tmp_path, [("758", "se"), ("148", "smn")])
    workspace.set_value(sqlite_engine, "sami_homeland_sodankyla", "kyllä")
    folder = tmp_path / "templates"
    folder.mkdir()
    for lang in ("fi", "sv", "en"):  # the team's own folder of templates, with Inari Sámi in it
        shutil.copy(SHIPPED / f"{lang}.txt", folder)
    template_file(folder, "smn")
    from letters.batch import LetterSettings

    settings = LetterSettings.from_workspace(sqlite_engine, templates=str(folder))
    out = tmp_path / "r.pdf"
    report = print_round(sqlite_engine, "r", out, settings)
    langs = sorted(row[2] for row in listing(out))
    assert langs == ["fi", "fi+smn"] and report.sami_missing == {"se": 1}


@pytest.mark.parametrize("content, message", [
    ("Bures {first_nam}\n", r"line 1: unknown placeholder \{first_nam\}"),
    ("Bures\n\nbeaivi {topic\n", r"line 3: .*lone brace"),
    ("Bures\u202e\n", r"line 1, column 6: a control character"),
    ("", r"is empty"),
])
def test_a_faulty_template_is_refused_with_its_line(sqlite_engine, tmp_path, content, message):
    make_workspace(sqlite_engine, "Lappi")
    path = tmp_path / "se.txt"
    path.write_text(content, "utf-8")
    with pytest.raises(OtosError, match=message):
        workspace.set_value(sqlite_engine, "template.se", str(path))
    path.write_bytes(b"Bures \xff\n")
    with pytest.raises(OtosError, match="byte 7 is not UTF-8"):
        workspace.set_value(sqlite_engine, "template.se", str(path))
    with pytest.raises(OtosError, match="There is no letter template"):
        workspace.set_value(sqlite_engine, "template.se", str(tmp_path / "missing.txt"))
    assert workspace.load(sqlite_engine)["template.se"] is None


def test_a_template_is_kept_shown_and_removed(sqlite_engine, tmp_path):
    make_workspace(sqlite_engine, "Lappi")
    path = template_file(tmp_path, "se")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # saved on Windows
    workspace.set_value(sqlite_engine, "template.se", str(path))
    ws = workspace.load(sqlite_engine)
    row = next(r for r in workspace.describe(ws) if r.key == "template.se")
    assert row.text == "se.txt, 3 paragraphs" and row.label == "Letter template (North Sámi)"
    assert ws.public()["template.se"] == {"file": "se.txt", "paragraphs": 3}  # no letter text in --json
    workspace.set_value(sqlite_engine, "template.se", "")
    assert workspace.load(sqlite_engine)["template.se"] is None


def test_the_font_has_every_sami_letter():
    from reportlab.pdfbase import pdfmetrics

    for name in register():
        glyphs = pdfmetrics.getFont(name).face.charToGlyph
        assert [c for c in SAMI_LETTERS if ord(c) not in glyphs] == []
