"""Audit entries keyed with HMAC: which key (by its id) hashed each entry.

Entries written before this migration keep no key id and verify as unkeyed, only
as the opening stretch of the chain.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_entry", sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_entry", "key_id")
