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
