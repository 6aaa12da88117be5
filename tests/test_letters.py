"""Invitation letters: what the PDF holds, where the address sits, who never appears."""
import datetime as dt
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from reportlab.lib.units import mm

from letters.address import AddressError, address_lines
from letters.batch import print_round
from letters.template import TemplateError, load_template
from pool.extract import import_extract
from pool.errors import OtosError
from sampling.invitations import draw_invitations
from pool import workspace
from tests.conftest import fonts_in, make_workspace, people, write_rows


@pytest.fixture
def round_with_letters(engine, tmp_path):
    """A round of 40 letters, on SQLite and on PostgreSQL (streaming reads differ)."""
    rows = people(120, seed=4)
    for r in rows[:3]:  # three protected people, address columns filled in
        r[12] = "1"
    rows[3][1], rows[3][2], rows[3][12], rows[3][13] = "Áilu Ŋuvvá", "Đuolbbaš-Šŧážž", "0", "0"
    rows[3][14] = "SAMIDWELLING0001"
    make_workspace(engine)
    report = import_extract(engine, write_rows(tmp_path / "e.csv", rows), permit="DVV/9/2026",
                            purpose="x", delete_by=dt.date.today() + dt.timedelta(days=60))
    draw = draw_invitations(engine, report.extract_id, 40, "s", strata=("sex",), round_name="r1")
    return engine, rows, draw


def print_small_round(engine, tmp_path, rows, name, size=None, county="Keski-Suomi"):
    """Import ``rows``, invite ``size`` of them (all by default) as round ``name``, print it
    (in a workspace for ``county``, made if there is none)."""
    if not workspace.exists(engine):
        make_workspace(engine, county)
    report = import_extract(engine, write_rows(tmp_path / "e.csv", rows), permit="P", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=60))
    draw_invitations(engine, report.extract_id, size or len(rows), "s", strata=("sex",), round_name=name, min_age=0,
                     age_bands=(0,))
    out = tmp_path / f"{name}.pdf"
    print_round(engine, name, out)
    return out


def page_texts(path):
    return [p.extract_text() for p in PdfReader(str(path), strict=True).pages]


@pytest.mark.parametrize("part_letters, chunk", [(1000, 500), (10, 7)])
def test_each_letter_has_the_name_address_and_code(round_with_letters, tmp_path, monkeypatch, part_letters, chunk):
    import letters.batch

    monkeypatch.setattr(letters.batch, "PART_LETTERS", part_letters)  # (10, 7): drawn as 4 parts, joined
    monkeypatch.setattr(letters.batch, "CHUNK", chunk)
    engine, rows, draw = round_with_letters
    out = tmp_path / "batch.pdf"
    report = print_round(engine, "r1", out)
    texts = page_texts(out)
    listing = (tmp_path / "batch.csv").read_text().splitlines()[1:]
    assert report.letters == len(listing) == 40
    postal = [line.split(";")[5] for line in listing]
    assert postal == sorted(postal)  # postal-code order for the print house
    for line in listing:
        _, page, langs, name, street, pc, office, code = line.split(";")
        text = texts[int(page) - 1]
        assert name in text and street in text and f"{pc} {office}" in text and code in text
        assert "Kutsu asukaspaneeliin" in text and "DVV/9/2026" in text
        if "en" in langs:  # another mother tongue: an English page follows
            assert "Invitation to the residents' panel" in texts[int(page)] and code in texts[int(page)]
    assert (out.stat().st_mode & 0o777) == 0o600 and ((tmp_path / "batch.csv").stat().st_mode & 0o777) == 0o600
    fonts = fonts_in(out)  # a print shop's preflight rejects a font that is not embedded
    assert fonts and all(fonts.values()), fonts
    assert not [p for p in tmp_path.iterdir() if "part" in p.name or p.name.startswith(".otos")]  # no parts left
    fonts = {}  # every embedded font subset has a name of its own
    for page in PdfReader(str(out)).pages:
        for ref in page["/Resources"]["/Font"].values():
            if "+" in ref.get_object()["/BaseFont"]:  # an embedded subset, not a standard font
                fonts[ref.idnum] = ref.get_object()["/BaseFont"]
    assert len(set(fonts.values())) == len(fonts) >= 2


def test_turvakielto_people_appear_nowhere(round_with_letters, tmp_path):
    engine, rows, _ = round_with_letters
    out = tmp_path / "batch.pdf"
    print_round(engine, "r1", out)
    everything = "\n".join(page_texts(out)) + (tmp_path / "batch.csv").read_text()
    for r in rows[:3]:
        assert f"{r[1]} {r[2]}" not in everything
        assert r[0] not in everything


def test_sami_letters_survive_the_round_trip(sqlite_engine, tmp_path):
    rows = people(5, seed=8)
    for i, r in enumerate(rows):
        r[12] = r[13] = "0"
        r[3], r[5], r[6], r[14] = "Čuđđevárri 1", "99980", "UTSJOKI", f"DWELLING{i}"
    rows[0][1], rows[0][2] = "Áilu Ŋuvvá", "Đuolbbaš-Šŧážž"
    out = print_small_round(sqlite_engine, tmp_path, rows, "sami")
    text = "\n".join(page_texts(out))
    assert "Áilu Ŋuvvá Đuolbbaš-Šŧážž" in text and "Čuđđevárri 1" in text


def test_address_lines_lie_inside_the_envelope_window(round_with_letters, tmp_path):
    engine, _, _ = round_with_letters
    out = tmp_path / "batch.pdf"
    print_round(engine, "r1", out)
    listing = (tmp_path / "batch.csv").read_text().splitlines()[1]
    _, _, _, name, street, pc, office, _ = listing.split(";")
    page = PdfReader(str(out)).pages[0]
    height = float(page.mediabox.height)
    spots = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            spots.setdefault(text.strip(), (tm[4], height - tm[5]))
    page.extract_text(visitor_text=visit)
    for line in (name, street, f"{pc} {office}"):
        x, from_top = spots[line]
        assert 20 * mm - 1 <= x <= 22 * mm  # left edge 20 mm
        assert 40 * mm <= from_top <= 75 * mm  # inside the C5 / E65 windows (40-70/75 mm)


def test_long_address_is_wrapped_never_cut_and_too_long_is_refused():
    lines = address_lines("Maria-Liisa Johanna Kristiina Wilhelmiina Räsänen-Ylikoski", "Kauppakatu 1 A 5",
                          "40100", "Jyväskylä")
    assert len(lines) == 4  # the name wraps onto two lines
    assert " ".join(lines[:-2]) == "Maria-Liisa Johanna Kristiina Wilhelmiina Räsänen-Ylikoski"
    assert lines[-1] == "40100 JYVÄSKYLÄ"
    with pytest.raises(AddressError, match="lacks: post office"):
        address_lines("A B", "Katu 1", "40100", "")
    with pytest.raises(AddressError, match="needs 7 lines"):
        address_lines("Nimi " * 40, "Katu 1", "40100", "X")


def test_template_with_an_unknown_placeholder_is_named(tmp_path):
    (tmp_path / "fi.txt").write_text("Otsikko\n\nHei {first_names},\nTule {paikka} klo 18.\n")
    with pytest.raises(TemplateError, match=r"line 4: unknown placeholder \{paikka\}"):
        load_template("fi", tmp_path)
    with pytest.raises(TemplateError, match="no letter template"):
        load_template("de", tmp_path)


def test_missing_value_and_empty_round_are_named(round_with_letters, tmp_path):
    from letters.batch import LetterSettings

    engine, _, _ = round_with_letters
    with pytest.raises(TemplateError, match=r"\{topic\} but no value"):
        print_round(engine, "r1", tmp_path / "x.pdf", LetterSettings(
            county={"fi": "Keski-Suomen hyvinvointialue"}, sender=(), contact_phone="010 000 0000",
            register_url="https://osallistu.example.fi/paneeli", topic={}, compensation={"fi": "palkkio"},
            hours={"fi": "arkisin"}))
    with pytest.raises(OtosError, match="has no invitations"):
        print_round(engine, "no-such-round", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_language_rules():
    from letters.language import letter_languages

    assert letter_languages("fi", "179") == ["fi"]  # Jyväskylä: unilingual Finnish county
    assert letter_languages("sv", "179") == ["fi"]
    assert letter_languages("ru", "179") == ["fi", "en"]
    assert letter_languages("ru", "179", english_for_others=False) == ["fi"]
    assert letter_languages("sv", "272") == ["sv"]  # Kokkola, bilingual county: own language
    assert letter_languages("fi", "272") == ["fi"]
    assert letter_languages(None, "272") == ["fi", "sv"]  # unknown: both
    assert letter_languages("ar", "272") == ["fi", "en"]
    for sami in ("se", "smn", "sms"):  # Inari, in the Sámi homeland: Finnish and their own Sámi, never English
        assert letter_languages(sami, "148") == ["fi", sami]
        assert letter_languages(sami, "698") == ["fi"]  # Rovaniemi is outside the homeland
    assert letter_languages("sme", "890") == ["fi", "se"]  # North Sámi by its three-letter code
    assert letter_languages("SE", "047") == ["fi", "se"]
    assert letter_languages("sma", "890") == ["fi"]  # South Sámi is no language of Finland's Sámi Language Act
    assert letter_languages("se", "758") == ["fi"]  # Sodankylä only when the workspace says so
    assert letter_languages("se", "758", sodankyla_in_homeland=True) == ["fi", "se"]
    assert letter_languages("fi", "890") == ["fi"]


def test_swedish_letter_uses_swedish_names(sqlite_engine, tmp_path):
    rows = people(6, seed=3, county="Keski-Pohjanmaa")
    for i, r in enumerate(rows):
        r[8], r[11], r[12], r[13], r[14] = "272", "sv", "0", "0", f"D{i}"
        r[3], r[4], r[5], r[6], r[7] = "Rantakatu 1", "Strandgatan 1", "67100", "KOKKOLA", "KARLEBY"
    out = print_small_round(sqlite_engine, tmp_path, rows, "sv", size=3, county="Keski-Pohjanmaa")
    text = page_texts(out)[0]
    assert "Strandgatan 1" in text and "67100 KARLEBY" in text and "Inbjudan till invånarpanelen" in text
    assert "Rantakatu" not in text


def test_each_letter_carries_its_own_qr_code_that_scans_to_its_response_code(round_with_letters, tmp_path):
    engine, _, _ = round_with_letters
    print_round(engine, "r1", tmp_path / "a.pdf")
    pages = PdfReader(str(tmp_path / "a.pdf")).pages
    images = [p.images[0].data for p in pages]
    assert len(set(images)) == 40  # one QR per letter (repeated on each of its language pages)
    if not shutil.which("zbarimg"):
        pytest.skip("zbarimg (zbar-tools) is not installed")
    for page in (pages[0], pages[-1]):
        png = tmp_path / "qr.png"
        page.images[0].image.convert("L").resize((400, 400), 0).save(png)
        decoded = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True).stdout.strip()
        code = re.search(r"\b([A-Z2-9]{4})-([A-Z2-9]{4})\b", page.extract_text())
        assert decoded == f"https://osallistu.example.fi/paneeli?code={code[1]}{code[2]}"


def test_the_batch_file_must_be_a_pdf_in_a_folder_that_exists(round_with_letters, tmp_path):
    engine, _, _ = round_with_letters
    with pytest.raises(OtosError, match="no such folder"):
        print_round(engine, "r1", tmp_path / "missing" / "k.pdf")
    with pytest.raises(OtosError, match=r"must end in \.pdf"):
        print_round(engine, "r1", tmp_path / "k.txt")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_printing_reports_progress_and_a_cancel_leaves_nothing(round_with_letters, tmp_path, monkeypatch):
    import letters.batch
    from pool.errors import ImportCancelled

    monkeypatch.setattr(letters.batch, "CHUNK", 10)
    engine, _, _ = round_with_letters
    seen = []
    print_round(engine, "r1", tmp_path / "a.pdf", progress=lambda f, m: seen.append(f))
    assert seen == sorted(seen) and len(seen) >= 4 and seen[-1] == 1.0
    calls = []
    with pytest.raises(ImportCancelled):
        print_round(engine, "r1", tmp_path / "b.pdf", cancelled=lambda: calls.append(1) or len(calls) > 1)
    assert not (tmp_path / "b.pdf").exists() and not (tmp_path / "b.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_topic_too_long_for_the_page_is_refused_and_nothing_is_written(round_with_letters, tmp_path):
    from letters.batch import LetterSettings

    engine, _, _ = round_with_letters
    long_topic = "hyvinvointialueen palvelut ja niiden kehittäminen " * 40
    with pytest.raises(OtosError, match="does not fit on one page"):
        print_round(engine, "r1", tmp_path / "k.pdf", LetterSettings.from_workspace(engine, topic={"fi": long_topic}))
    assert not list(tmp_path.glob("k.*")) and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    print_round(engine, "r1", tmp_path / "k.pdf",
                LetterSettings.from_workspace(engine, topic={"fi": "sote-palvelut"}))  # a normal one prints
