"""Mother tongues of three letters: the Sámi languages without an ISO 639-1 code (smn, sms).

PostgreSQL widens the column in place. SQLite does not enforce a VARCHAR's length, so
only the declared type in its schema text changes (SQLite's documented procedure for
schema changes that leave the stored data as it is: ``writable_schema``, then a new
``schema_version``). Recreating the tables instead (Alembic's batch mode) would drop
them, and with foreign keys on, dropping ``pool_member`` sets every panel seat's
member to NULL: a workspace would lose who sat on its panels.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("person", "pool_member")


def _sqlite_declared(width_from: int, width_to: int) -> None:
    conn = op.get_bind()
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    for table in TABLES:
        conn.execute(sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) WHERE type = 'table' "
                             "AND name = :table"),
                     {"old": f"mother_tongue VARCHAR({width_from})", "new": f"mother_tongue VARCHAR({width_to})",
                      "table": table})
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    if conn.exec_driver_sql("PRAGMA integrity_check").scalar() != "ok":
        raise RuntimeError("the database failed its integrity check after widening mother_tongue")


def _widen(width_from: int, width_to: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_declared(width_from, width_to)
        return
    for table in TABLES:
        op.alter_column(table, "mother_tongue", existing_type=sa.String(width_from), type_=sa.String(width_to),
                        existing_nullable=True)


def upgrade() -> None:
    _widen(2, 3)


def downgrade() -> None:
    _widen(3, 2)
