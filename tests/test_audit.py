import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from pool import audit
from pool.members import add_member, withdraw


def make_entries(engine, n=4):
    for i in range(n):
        add_member(engine, {"first_names": f"A{i}", "surname": "B"}, consent_version="v1")


def test_chain_verifies_and_holds_no_personal_data(engine):
    make_entries(engine)
    withdraw(engine, 2)
    with Session(engine) as s:
        report = audit.verify(s)
        assert report.ok and report.entries == 5
        assert all('"surname"' not in e.details and "A1" not in e.details for e in audit.entries(s))


def test_database_refuses_to_change_or_delete_entries(engine):
    make_entries(engine, 2)
    for stmt in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"):
        with Session(engine) as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(text(stmt))
            s.commit()


def _bypass_triggers(s, engine):
    if engine.dialect.name == "sqlite":
        s.execute(text("DROP TRIGGER audit_no_update"))
        s.execute(text("DROP TRIGGER audit_no_delete"))
    else:
        s.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_no_change"))


@pytest.mark.parametrize("tamper,reason", [
    ("UPDATE audit_entry SET details = '{\"members\": 99}' WHERE id = 2", "content does not match"),
    ("DELETE FROM audit_entry WHERE id = 2", "link to the previous entry"),
])
def test_tampering_is_detected_even_past_the_triggers(engine, tamper, reason):
    make_entries(engine, 4)
    with Session(engine) as s:
        _bypass_triggers(s, engine)
        s.execute(text(tamper))
        s.commit()
    with Session(engine) as s:
        report = audit.verify(s)
    assert not report.ok and reason in report.reason
    assert report.broken_at in (2, 3)


def test_actor_is_the_configured_name(engine, monkeypatch):
    monkeypatch.setenv("OTOS_USER", "osallisuus-tiimi")
    make_entries(engine, 1)
    with Session(engine) as s:
        assert audit.entries(s)[0].actor == "osallisuus-tiimi"


def _forge(engine, prev_hash, key=None, key_id=None, details='{"members": 1}'):
    """Append an entry past the triggers' reach, as someone with database access could."""
    at = "2026-12-01T10:00:00+00:00"
    h = audit.entry_hash(prev_hash, at, "mallory", "member.add", details, key)
    with Session(engine) as s:
        s.execute(text("INSERT INTO audit_entry (at, actor, action, details, prev_hash, hash, key_id) "
                       "VALUES (:at, 'mallory', 'member.add', :d, :p, :h, :k)"),
                  {"at": at, "d": details, "p": prev_hash, "h": h, "k": key_id})
        s.commit()


def _head(engine):
    with Session(engine) as s:
        return audit.entries(s, 1)[0].hash


def test_forged_entry_without_the_key_is_found(engine):
    make_entries(engine, 3)
    _forge(engine, _head(engine))  # a plain SHA-256 chain link, as the unkeyed chain used to be
    with Session(engine) as s:
        r = audit.verify(s)
    assert not r.ok and "unkeyed entry after keyed ones" in r.reason
    own = b"mallory's own key 0123456789"
    make_entries(engine, 0)
    with Session(engine) as s:
        _bypass_triggers(s, engine)
        s.execute(text("DELETE FROM audit_entry WHERE actor = 'mallory'"))
        s.commit()
    _forge(engine, _head(engine), own, audit.key_id(own))
    with Session(engine) as s:
        r = audit.verify(s)
    assert not r.ok and "another audit key" in r.reason


def test_anchor_finds_removed_newest_entries_and_a_rewritten_chain(engine):
    make_entries(engine, 4)
    with Session(engine) as s:
        anchor = audit.anchor(s)
        assert anchor.startswith("4:") and audit.verify(s, anchor=anchor).ok
    make_entries(engine, 1)  # the log goes on after the anchor: still fine
    with Session(engine) as s:
        assert audit.verify(s, anchor=anchor).ok
        _bypass_triggers(s, engine)
        s.execute(text("DELETE FROM audit_entry WHERE id >= 3"))
        s.commit()
    with Session(engine) as s:
        plain = audit.verify(s)
        anchored = audit.verify(s, anchor=anchor)
    assert plain.ok  # cutting off the newest entries leaves a valid chain...
    assert not anchored.ok and "entries were removed" in anchored.reason  # ...which the anchor exposes
    # Rewritten from entry 3 on with the real key (an insider): the chain verifies, the anchor does not.
    key = audit.audit_key()
    prev = _head(engine)
    for _ in range(2):
        _forge(engine, prev, key, audit.key_id(key))
        prev = _head(engine)
    with Session(engine) as s:
        assert audit.verify(s).ok
        r = audit.verify(s, anchor=anchor)
    assert not r.ok and "differs from the anchor" in r.reason and r.broken_at is not None


def test_unkeyed_entries_from_before_the_key_still_verify(engine):
    with Session(engine) as s:
        prev = audit.GENESIS
        for i in range(2):
            _forge(engine, prev, details=f'{{"n": {i}}}')
            prev = _head(engine)
    make_entries(engine, 2)
    with Session(engine) as s:
        r = audit.verify(s)
    assert r.ok and r.unkeyed == 2 and r.entries == 4


def test_audit_key_file_is_owner_only_and_others_readable_one_is_refused(tmp_path, monkeypatch):
    from pool.errors import OtosError

    path = tmp_path / "cfg" / "audit.key"
    monkeypatch.setenv("OTOS_AUDIT_KEY_FILE", str(path))
    old = os.umask(0o022)
    try:
        key = audit.audit_key()
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600 and len(key) == 64 and audit.audit_key() == key
    path.chmod(0o644)
    with pytest.raises(OtosError, match="can be read by other users"):
        audit.audit_key()
    monkeypatch.setenv("OTOS_AUDIT_KEY", "short")
    with pytest.raises(OtosError, match="too short"):
        audit.audit_key()


def test_cli_anchor_and_verify_with_it(tmp_path, capsys, monkeypatch):
    from tui.cli import main

    monkeypatch.delenv("OTOS_DATABASE_URL", raising=False)
    db = str(tmp_path / "a.db")
    for i in range(3):
        assert main(["--db", db, "pool", "add", "--first-names", f"A{i}", "--surname", "B",
                     "--consent-version", "v1"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "audit", "anchor"]) == 0
    anchor = capsys.readouterr().out.split()[-1]
    assert anchor.startswith("3:")
    assert main(["--db", db, "audit", "verify", "--anchor", anchor]) == 0
    assert main(["--db", db, "audit", "verify", "--anchor", "3:" + "0" * 64]) == 1
    assert "differs from the anchor" in capsys.readouterr().err
    assert main(["--db", db, "audit", "verify", "--anchor", "nonsense"]) == 2
    assert "is not an audit anchor" in capsys.readouterr().err


WRITER = """
import datetime as dt, sys
from pathlib import Path
from pool.db import open_database
from pool.errors import OtosError
from pool.members import add_member
from letters.exports import export_call_list
engine = open_database(sys.argv[1])
me, out = sys.argv[2], Path(sys.argv[3])
adds = exports = failed = 0
if me == "0":  # one writer imports an extract meanwhile
    from pool.extract import import_extract
    import_extract(engine, sys.argv[4], permit="P", purpose="x", delete_by=dt.date(2099, 1, 1))
for i in range(6):
    try:
        if i % 2:
            export_call_list(engine, out / f"calls-{me}-{i}.csv")
            exports += 1
        else:
            add_member(engine, {"first_names": f"W{me}", "surname": f"S{i}", "phone": "040 123 4567"},
                       consent_version="v1")
            adds += 1
    except OtosError as exc:
        assert "Another Otos command is writing" in str(exc), str(exc)
        failed += 1
print(adds, exports, failed)
"""


def test_parallel_writers_keep_one_chain(engine, tmp_path):
    """Several processes adding members and exporting at once: every write lands or
    fails with the message, and the audit chain is one unbroken line."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import people, write_rows

    url = engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parent.parent
    extract = write_rows(tmp_path / "e.csv", people(3000, seed=9))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(n), str(tmp_path), str(extract)], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(4)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-800:] for _, err in results]
    adds, exports, failed = (sum(int(out.split()[i]) for out, _ in results) for i in range(3))
    assert adds + exports + failed == 24
    with Session(engine) as s:
        r = audit.verify(s)
        actions = [e.action for e in audit.entries(s, 1000)]
    assert r.ok, r.reason
    assert actions.count("pool.add") == adds and actions.count("export.calls") == exports
    assert actions.count("extract.import") == 1
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("calls-")]) == exports
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
