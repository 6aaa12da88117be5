"""Quota sets kept in the workspace under a name: save, list, load, replace, delete, and on the command line."""
import pytest
from sqlmodel import Session

from pool import audit
from pool.errors import NotFound, OtosError
from sampling import quota_sets
from sampling.interop import read_features, write_features
from sampling.problem import Quota
from tui.cli import main

QUOTAS = [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4), Quota("language", "sv", 0, 2)]


def test_a_set_is_kept_listed_newest_first_and_replaced_only_when_asked(engine):
    quota_sets.save(engine, "Lappi 2027", QUOTAS, 6)
    quota_sets.save(engine, "  Kainuu 2027 ", QUOTAS[:2], 8)  # the name is trimmed
    assert quota_sets.load(engine, "Lappi 2027") == (QUOTAS, 6)
    assert [(q["name"], q["size"], q["quotas"]) for q in quota_sets.listing(engine)][0][0] in ("Kainuu 2027",
                                                                                                 "Lappi 2027")
    with pytest.raises(OtosError, match="already a quota set called 'Lappi 2027'"):
        quota_sets.save(engine, "Lappi 2027", QUOTAS[:1], 5)
    assert quota_sets.load(engine, "Lappi 2027") == (QUOTAS, 6)
    quota_sets.save(engine, "Lappi 2027", QUOTAS[:1], 5, replace=True)
    assert quota_sets.load(engine, "Lappi 2027") == (QUOTAS[:1], 5)
    assert quota_sets.listing(engine)[0]["name"] == "Lappi 2027"  # saved last: first
    quota_sets.delete(engine, "Kainuu 2027")
    assert [q["name"] for q in quota_sets.listing(engine)] == ["Lappi 2027"]
    with pytest.raises(NotFound, match="no quota set called 'Kainuu 2027'"):
        quota_sets.load(engine, "Kainuu 2027")
    with Session(engine) as s:
        actions = [e.action for e in audit.entries(s)]
    assert actions.count("quotas.save") == 3 and actions.count("quotas.delete") == 1


@pytest.mark.parametrize("name, quotas, size, message", [
    ("", QUOTAS, 6, "Give the quota set a name"),
    ("x" * 65, QUOTAS, 6, "65 characters long; at most 64"),
    ("a\nb", QUOTAS, 6, "control character"),
    ("ok", [], 6, "no quotas to save"),
    ("ok", QUOTAS, 0, "at least 1"),
    ("ok", [Quota("sex", "mies", 3, 2)], 6, "do not make a range"),
])
def test_a_bad_set_is_refused_and_nothing_is_kept(sqlite_engine, name, quotas, size, message):
    with pytest.raises(OtosError, match=message):
        quota_sets.save(sqlite_engine, name, quotas, size)
    assert quota_sets.listing(sqlite_engine) == []


def test_the_command_line_keeps_exports_and_draws_with_a_set(sqlite_engine, tmp_path, capsys, monkeypatch):
    from pool.members import add_member
    from sampling.panels import list_panels, panel_quotas

    for i in range(20):
        add_member(sqlite_engine, {"first_names": f"E{i}", "surname": "S", "sex": "1" if i % 2 else "2",
                                   "birth_year": "1980"}, consent_version="v1")
    db = str(sqlite_engine.url.database)
    write_features(tmp_path / "q.csv", QUOTAS[:2])
    assert main(["--db", db, "quotas", "save", "Paneeli A", "--from", str(tmp_path / "q.csv"), "--size", "6"]) == 0
    assert main(["--db", db, "quotas", "save", "Paneeli A", "--from", str(tmp_path / "q.csv"), "--size", "6"]) == 2
    assert "already a quota set" in capsys.readouterr().err
    assert main(["--db", db, "quotas", "list"]) == 0
    assert "Paneeli A" in capsys.readouterr().out
    assert main(["--db", db, "quotas", "export", "Paneeli A", "--out", str(tmp_path / "back.csv")]) == 0
    assert read_features(tmp_path / "back.csv") == QUOTAS[:2]
    assert main(["--db", db, "panel", "draw", "--quota-set", "Paneeli A", "--seed", "s", "--reserves", "0"]) == 0
    [panel] = list_panels(sqlite_engine)
    assert panel["size"] == 6 and panel_quotas(sqlite_engine, panel["id"]) == (QUOTAS[:2], 6)
    assert main(["--db", db, "panel", "draw", "--quotas", str(tmp_path / "q.csv"), "--seed", "t"]) == 2
    assert "Give the panel size" in capsys.readouterr().err
    assert main(["--db", db, "quotas", "delete", "Paneeli A"]) == 0
    assert main(["--db", db, "quotas", "delete", "Paneeli A"]) == 2
