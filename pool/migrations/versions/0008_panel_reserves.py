"""Reserves drawn and recorded with a panel: how many per seat, each reserve's seat and rank.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("panel", sa.Column("reserves_per_seat", sa.Integer, nullable=False, server_default="0"))
    op.add_column("panel_seat", sa.Column("rank", sa.Integer, nullable=True))
    op.add_column("panel_seat", sa.Column("reserve_for", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("panel_seat", "reserve_for")
    op.drop_column("panel_seat", "rank")
    op.drop_column("panel", "reserves_per_seat")
