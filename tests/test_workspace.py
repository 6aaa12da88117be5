"""The workspace's settings: one county per database, letters in its names and words."""
import json

import pytest
from pypdf import PdfReader

from letters.batch import LetterSettings
from pool import workspace
from pool.errors import OtosError
from tests.conftest import people
from tests.test_letters import print_small_round
from tui.cli import main


def test_init_by_any_of_the_county_names_fills_defaults_and_lists_what_is_missing(engine):
    ws = workspace.init(engine, "Lapplands välfärdsområde")
    assert ws.county == "Lapin hyvinvointialue"
    assert (ws.county_name("sv"), ws.county_name("en")) == ("Lapplands välfärdsområde",
                                                           "Lapland wellbeing services county")
    assert ws.missing() == ["phone", "register_url"]
    assert ws["age_bands"] == [15, 30, 45, 65, 75] and "698" in ws["municipalities_alone"]  # Rovaniemi alone
    with pytest.raises(OtosError, match="no phone, register_url"):
        LetterSettings.from_workspace(engine)
    workspace.set_value(engine, "phone", "016 123 4567")
    workspace.set_value(engine, "register_url", "https://osallistu.lapha.example/paneeli")
    assert workspace.load(engine).missing() == []
    with pytest.raises(OtosError, match="already serves Lapin hyvinvointialue"):
        workspace.init(engine, "Pirkanmaa")
    assert workspace.init(engine, "Lappi").county == "Lapin hyvinvointialue"  # the same county again: harmless


@pytest.mark.parametrize("key,value,text", [
    ("register_url", "osallistu.fi", "must be a web address"),
    ("phone", "soita meille", "is not a phone number"),
    ("age_bands", "30,15", "larger than the one before"),
    ("municipalities_alone", "Atlantis", "names no municipality"),
    ("sender", "a|b|c|d|e|f", "at most 5 lines"),
    ("nonsense", "x", "There is no setting"),
    ("county", "Pirkanmaa", "chosen once"),
    ("topic.fi", "a\x1b[2Jb", "control character"),
])
def test_bad_settings_are_refused_naming_the_key(engine, key, value, text):
    workspace.init(engine, "Lappi")
    with pytest.raises(OtosError, match=text):
        workspace.set_value(engine, key, value)


def test_a_workspace_without_a_county_says_how_to_start(engine):
    with pytest.raises(OtosError, match="otos workspace init --county"):
        workspace.load(engine)


def test_swedish_letter_carries_the_countys_swedish_name_topic_and_compensation(sqlite_engine, tmp_path):
    workspace.init(sqlite_engine, "Keski-Pohjanmaa")
    for key, value in (("phone", "06 123 4567"), ("register_url", "https://delta.example/panel"),
                       ("topic.sv", "äldreomsorgen"), ("compensation.sv", "ett arvode på 40 euro"),
                       ("topic.fi", "vanhuspalvelut"), ("sender", "Osallisuuspalvelut | PL 1 | 67101 KOKKOLA")):
        workspace.set_value(sqlite_engine, key, value)
    rows = people(4, seed=3, county="Keski-Pohjanmaa")
    for i, r in enumerate(rows):
        r[8], r[11], r[12], r[13], r[14] = "272", "sv" if i % 2 else "fi", "0", "0", f"D{i}"
        r[3], r[4], r[5], r[6], r[7] = "Rantakatu 1", "Strandgatan 1", "67100", "KOKKOLA", "KARLEBY"
    out = print_small_round(sqlite_engine, tmp_path, rows, "r")
    pages = [p.extract_text() for p in PdfReader(str(out)).pages]
    swedish = [t for t in pages if "Inbjudan" in t]
    finnish = [t for t in pages if "Kutsu" in t]
    assert swedish and finnish
    for text in swedish:
        assert "Mellersta Österbottens välfärdsområde" in text and "äldreomsorgen" in text
        assert "ett arvode på 40 euro" in text and "vardagar kl. 9–15" in text and "06 123 4567" in text
        assert "Keski-Pohjanmaan" not in text and "palkkio" not in text and "vanhuspalvelut" not in text
    for text in finnish:
        assert "Keski-Pohjanmaan hyvinvointialue" in text and "vanhuspalvelut" in text and "67101 KOKKOLA" in text


def test_cli_workspace_init_set_show(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OTOS_DATABASE_URL", raising=False)
    db = str(tmp_path / "w.db")
    assert main(["--db", db, "workspace", "init", "--county", "Lappi"]) == 0
    out = capsys.readouterr().out
    assert "Lapin hyvinvointialue (Lapplands välfärdsområde)" in out and "set: phone, register_url" in out
    assert main(["--db", db, "workspace", "set", "register_url", "ftp://x"]) == 2
    assert "must be a web address" in capsys.readouterr().err
    assert main(["--db", db, "workspace", "set", "phone", "016 123 4567"]) == 0
    assert "Saved phone" in capsys.readouterr().out
    assert main(["--db", db, "workspace", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["phone"] == "016 123 4567" and shown["missing"] == ["register_url"]


def _png(path, size=(300, 90)):
    from PIL import Image

    Image.new("RGB", size, (0, 90, 160)).save(path)
    return path


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><rect width="60" height="60" fill="#1565c0"/></svg>'


@pytest.mark.parametrize("content, text", [
    ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>', "refers outside itself"),
    ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
     '<image xlink:href="file:///etc/hostname" width="9" height="9"/></svg>', "refers outside itself"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><a href="https://example.org"><rect width="9" height="9"/></a></svg>',
     "refers outside itself"),
    ("name;address\nAino;Kauppakatu 1\n", "neither a PNG nor an SVG"),
    ("\x89PNG\r\n\x1a\nnot really", "not a readable PNG"),
])
def test_a_logo_that_is_not_a_plain_image_is_refused(engine, tmp_path, content, text):
    workspace.init(engine, "Lappi")
    path = tmp_path / "logo.svg"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(OtosError, match=text):
        workspace.set_value(engine, "logo", str(path))
    assert workspace.load(engine)["logo"] is None


def test_logo_and_signature_appear_on_every_letter(sqlite_engine, tmp_path):
    engine = sqlite_engine
    rows = people(4, seed=3)
    for n, row in enumerate(rows):
        row[14] = f"DWELLING{n:08d}"  # four households: four letters
    out = print_small_round(engine, tmp_path, rows, "plain", county="Lappi")
    assert b"/Subtype /Image" not in out.read_bytes()  # the QR codes are inline images
    workspace.set_value(engine, "signature", "Maija Meikäläinen | osallisuuspäällikkö")
    workspace.set_value(engine, "logo", str(_png(tmp_path / "logo.png")))
    signed = tmp_path / "signed.pdf"
    from letters.batch import print_round

    print_round(engine, "plain", signed, LetterSettings.from_workspace(engine))
    assert signed.read_bytes().count(b"/Subtype /Image") == 1  # one logo, drawn once and placed by reference
    for text in [p.extract_text() for p in PdfReader(str(signed)).pages]:
        closing = text.index("Maija Meikäläinen")
        assert text.index("osallisuuspäällikkö") > closing > text.index("terveisin") or \
            text.index("osallisuuspäällikkö") > closing > text.index("hälsningar")
        assert closing < text.index("Tietosuoja" if "Tietosuoja" in text else "Dataskydd")
    (tmp_path / "logo.svg").write_text(SVG)
    workspace.set_value(engine, "logo", str(tmp_path / "logo.svg"))
    shown = workspace.load(engine).public()["logo"]
    assert shown["type"] == "svg" and shown["bytes"] == len(SVG)
    workspace.set_value(engine, "logo", "")
    assert workspace.load(engine)["logo"] is None
