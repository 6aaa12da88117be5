from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pool.db import migrate
from pool.models import SQLModel


def test_migrations_build_exactly_the_models_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(engine):
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0001"
