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
