"""Mother tongues of three letters: the Sámi languages without an ISO 639-1 code (smn, sms).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("person", "pool_member"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("mother_tongue", existing_type=sa.String(2), type_=sa.String(3),
                               existing_nullable=True)


def downgrade() -> None:
    for table in ("person", "pool_member"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("mother_tongue", existing_type=sa.String(3), type_=sa.String(2),
                               existing_nullable=True)
