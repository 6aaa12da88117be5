"""The otos command: exit status, messages without tracebacks, JSON output."""
import datetime as dt
import json
import subprocess
import sys

import pytest

from tests.conftest import people, write_rows
from tui.cli import main

DELETE_BY = (dt.date.today() + dt.timedelta(days=60)).isoformat()


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("OTOS_DATABASE_URL", raising=False)
    return str(tmp_path / "cli.db")


def otos(db, *args):
    return main(["--db", db, *args])


def test_import_then_list_json(db, tmp_path, capsys):
    rows = people(12)
    rows[4][0] = "bad"
    path = write_rows(tmp_path / "e.csv", rows)
    assert otos(db, "extract", "import", str(path), "--permit", "P-1", "--purpose", "paneeli",
                "--delete-by", DELETE_BY) == 0
    out = capsys.readouterr().out
    assert "11 people stored" in out and "line 6, column 1 (henkilotunnus)" in out
    assert otos(db, "extract", "list", "--json") == 0
    [e] = json.loads(capsys.readouterr().out)
    assert (e["id"], e["file"], e["rows"], e["rejected"]) == (1, "e.csv", 11, 1)


def test_rejected_file_exits_nonzero_with_one_paragraph(db, tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    code = otos(db, "extract", "import", str(path), "--permit", "P", "--purpose", "x", "--delete-by", DELETE_BY)
    err = capsys.readouterr().err
    assert code == 2 and "empty" in err and "Traceback" not in err


def test_bad_date_option_is_explained(db, capsys):
    assert otos(db, "extract", "import", "x.csv", "--permit", "P", "--purpose", "x", "--delete-by", "31.13.2027") == 2
    assert "--delete-by '31.13.2027': is not a date in the calendar" in capsys.readouterr().err
    assert otos(db, "extract", "import", "x.csv", "--permit", "P", "--purpose", "x", "--delete-by", "2027/12/31") == 2
    assert "write it as 1.12.2026 or 2026-12-01" in capsys.readouterr().err


def test_purge_and_withdraw_need_confirmation_without_a_terminal(db, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    path = write_rows(tmp_path / "e.csv", people(5))
    otos(db, "extract", "import", str(path), "--permit", "P", "--purpose", "x", "--delete-by", DELETE_BY)
    assert otos(db, "extract", "purge", "1") == 2
    assert "--yes" in capsys.readouterr().err
    assert otos(db, "extract", "purge", "1", "--yes") == 0
    assert "5 register rows deleted" in capsys.readouterr().out
    assert otos(db, "pool", "add", "--first-names", "Aino", "--surname", "Aalto", "--consent-version", "v1",
                "--extra", "rooli=asukas", "--json") == 0
    member = json.loads(capsys.readouterr().out)["id"]
    assert otos(db, "pool", "withdraw", str(member)) == 2
    assert otos(db, "pool", "withdraw", str(member), "--yes") == 0
    assert otos(db, "pool", "show", str(member)) == 2
    assert "no pool member" in capsys.readouterr().err


def test_pool_list_show_edit_and_audit(db, capsys):
    otos(db, "pool", "add", "--first-names", "Bo", "--surname", "Berg", "--language", "sv", "--consent-version", "v1")
    assert otos(db, "pool", "edit", "1", "--set", "education=korkea-aste") == 0
    assert otos(db, "pool", "list", "--json", "--language", "sv") == 0
    out = capsys.readouterr().out
    [m] = json.loads(out[out.index("["):])
    assert (m["surname"], m["education"], m["preferred_language"]) == ("Berg", "korkea-aste", "sv")
    assert otos(db, "pool", "edit", "1", "--set", "birth_year=nope") == 2
    assert otos(db, "audit", "verify") == 0
    assert "2 entries" in capsys.readouterr().out
    assert otos(db, "pool", "list") == 0
    head, row = capsys.readouterr().out.splitlines()[:2]
    assert head.split() == ["id", "name", "born", "mun", "lang", "status"] and "Berg, Bo" in row
    assert row.index("sv") == head.index("lang")  # columns line up under their header
    assert otos(db, "pool", "show", "1") == 0
    fields = [line.split(":")[0].strip() for line in capsys.readouterr().out.splitlines()]
    assert fields[:3] == ["id", "surname", "first_names"]


def test_unreachable_database_is_a_message(capsys):
    assert main(["--db", "postgresql://nobody@127.0.0.1:1/none", "extract", "list"]) == 2
    err = capsys.readouterr().err
    assert "Cannot open the database" in err and "Traceback" not in err


def test_console_script_prints_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--db", str(tmp_path / "x.db"), "extract", "import",
                             str(tmp_path / "missing.csv"), "--permit", "P", "--purpose", "x",
                             "--delete-by", DELETE_BY], capture_output=True, text=True)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_control_characters_from_data_are_escaped_in_output(db, tmp_path, capsys):
    from sqlalchemy import insert
    from sqlmodel import Session

    from pool.db import open_database
    from pool.models import PoolMember, member_search_key, utcnow

    engine = open_database(db)
    now = utcnow()
    with Session(engine) as s:  # as a crafted import or an older Otos could have stored them
        s.execute(insert(PoolMember), [{"first_names": "Aino\x1b]8;;http://x.invalid\x07", "surname": "Ranta\nFAKE LINE",
                                        "source": "demo", "status": "active", "preferred_language": "fi",
                                        "consent_version": "v1", "consent_at": now, "joined_at": now,
                                        "panels_served": 0, "search_key": member_search_key("A", "R", None, None)}])
        s.commit()
    engine.dispose()
    assert otos(db, "pool", "list") == 0
    assert otos(db, "pool", "show", "1") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\u001b]8;;" in out
    assert "\nFAKE LINE" not in out and "Ranta\\u000aFAKE LINE" in out
    assert otos(db, "pool", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["surname"] == "Ranta\nFAKE LINE"


def test_member_input_with_control_characters_or_consent_edits_is_refused(db, capsys):
    assert otos(db, "pool", "add", "--first-names", "Aino\x1b[2J", "--surname", "B", "--consent-version", "v1") == 2
    assert "control character" in capsys.readouterr().err
    assert otos(db, "pool", "add", "--first-names", "Aino", "--surname", "B", "--consent-version", "v1") == 0
    assert otos(db, "pool", "edit", "1", "--set", "consent_at=2020-01-01T00:00") == 2
    assert "cannot be edited" in capsys.readouterr().err
    assert otos(db, "pool", "edit", "1", "--set", "education=" + "x" * 65) == 2
    assert "the most allowed is 64" in capsys.readouterr().err


def test_invitations_and_quotas_take_the_workspace_settings(db, tmp_path, capsys):
    from tests.conftest import people as make

    assert otos(db, "workspace", "init", "--county", "Keski-Suomi") == 0
    assert otos(db, "workspace", "set", "age_bands", "18,40,65") == 0
    assert otos(db, "workspace", "set", "municipalities_alone", "Jyväskylä") == 0
    path = write_rows(tmp_path / "e.csv", make(400, seed=4))
    assert otos(db, "extract", "import", str(path), "--permit", "P", "--purpose", "x", "--delete-by", DELETE_BY) == 0
    capsys.readouterr()
    assert otos(db, "invite", "draw", "--extract", "1", "--size", "20", "--seed", "s", "--json") == 0
    strata = {tuple(a["stratum"]) for a in json.loads(capsys.readouterr().out)["allocations"]}
    assert {s[0] for s in strata} <= {"18-39", "40-64", "65+"} and {s[3] for s in strata} == {"Jyväskylä", "muut"}
    out = tmp_path / "f.csv"
    assert otos(db, "panel", "quotas", "--size", "10", "--extract", "1", "--out", str(out)) == 0
    values = [line.split(",")[1] for line in out.read_text().splitlines()[1:] if line.startswith("municipality")]
    assert sorted(values) == ["Jyväskylä", "muut"]


def test_extract_faults_names_a_missing_extract_and_says_when_there_are_none(db, tmp_path, capsys):
    path = write_rows(tmp_path / "e.csv", people(5))
    assert otos(db, "extract", "import", str(path), "--permit", "P-1", "--purpose", "paneeli",
                "--delete-by", DELETE_BY) == 0
    capsys.readouterr()
    assert otos(db, "extract", "faults", "1") == 0
    assert "Extract 1: no faulty rows" in capsys.readouterr().out
    assert otos(db, "extract", "faults", "9") != 0
    assert "There is no extract 9. See otos extract list." in capsys.readouterr().err
