"""Panels and their seats: the verifiable record of each lottery.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "panel",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("seed", sa.String(200), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("algorithm", sa.String(64), nullable=False),
        sa.Column("pool_sha256", sa.String(64), nullable=False),
        sa.Column("quotas_sha256", sa.String(64), nullable=False),
        sa.Column("quotas", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("recruitment_round", sa.String(64)),
        sa.Column("min_probability", sa.Float, nullable=False),
    )
    op.create_table(
        "panel_seat",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("panel_id", sa.Integer, sa.ForeignKey("panel.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("pool_member.id", ondelete="SET NULL")),
        sa.Column("snapshot_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("seed", sa.String(260)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_panel_seat_panel_id", "panel_seat", ["panel_id"])


def downgrade() -> None:
    op.drop_table("panel_seat")
    op.drop_table("panel")
