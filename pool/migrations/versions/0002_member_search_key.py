"""Pool search key: case-folded names, e-mail and phone in one column.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pool_member") as batch:
        batch.add_column(sa.Column("search_key", sa.Text, nullable=False, server_default=""))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, first_names, surname, email, phone FROM pool_member")).all()
    for mid, *parts in rows:
        key = " ".join(x for x in parts if x).casefold()
        conn.execute(sa.text("UPDATE pool_member SET search_key = :k WHERE id = :i"), {"k": key, "i": mid})


def downgrade() -> None:
    with op.batch_alter_table("pool_member") as batch:
        batch.drop_column("search_key")
