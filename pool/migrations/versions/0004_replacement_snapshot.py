"""What the lottery saw when it drew a replacement, so the replacement can be verified.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("panel_seat", sa.Column("snapshot", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("panel_seat", "snapshot")
