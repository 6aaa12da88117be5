from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pool.db import migrate
from pool.models import SQLModel


def test_migrations_build_exactly_the_models_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(engine):
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("pool") / "migrations"))
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_search_key_migration_fills_existing_members(tmp_path):
    from alembic import command
    from alembic.config import Config
    from importlib import resources
    from sqlalchemy import text

    from pool.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("pool") / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO pool_member (source, status, first_names, surname, email, preferred_language,"
                          " consent_version, consent_at, joined_at, panels_served) VALUES ('manual', 'active',"
                          " 'Äino', 'ÖSTERBERG', 'A@Example.org', 'fi', 'v1', '2026-01-01', '2026-01-01', 0)"))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT search_key FROM pool_member")).scalar_one() == "äino österberg a@example.org"


def test_widening_the_mother_tongue_keeps_every_link_to_members_and_register_rows(engine):
    """Migration 0011 must not recreate tables: on SQLite, dropping pool_member with
    foreign keys on would set every panel seat's member to NULL."""
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from pool.members import add_member
    from sampling.panels import draw_panel
    from tests.test_panels import QUOTAS, fill

    fill(engine, 30)
    draw_panel(engine, QUOTAS, 6, "seed")
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(member_id) FROM panel_seat")).scalar()
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("pool") / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert before == 12 and conn.execute(text("SELECT count(member_id) FROM panel_seat")).scalar() == before
    add_member(engine, {"first_names": "Áile", "surname": "Testi", "mother_tongue": "smn"}, consent_version="v1")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
