"""Lotteries stored exactly (sampling.record), prepared before the seed or with the draw.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lottery",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("pseudonyms", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("quotas", sa.Text, nullable=False),
        sa.Column("recruitment_round", sa.String(64), nullable=True),
        sa.Column("fixed", sa.Text, nullable=False),
        sa.Column("pool_sha256", sa.String(64), nullable=False),
        sa.Column("quotas_sha256", sa.String(64), nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("min_before", sa.Float, nullable=True),
        sa.Column("prepared", sa.Boolean, nullable=False),
    )
    op.add_column("panel", sa.Column("lottery_id", sa.Integer, nullable=True))
    op.create_index("ix_panel_lottery_id", "panel", ["lottery_id"])
    op.add_column("panel", sa.Column("ticket", sa.Integer, nullable=True))
    op.add_column("panel_seat", sa.Column("lottery_id", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("panel_seat", "lottery_id")
    op.drop_column("panel", "ticket")
    op.drop_index("ix_panel_lottery_id", "panel")
    op.drop_column("panel", "lottery_id")
    op.drop_table("lottery")
