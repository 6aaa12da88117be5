"""Initial schema: extracts, register rows, import faults, invitations, pool, audit.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
]
_APPEND_ONLY_POSTGRES = [
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "extract",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("encoding", sa.String(32), nullable=False),
        sa.Column("permit", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(500), nullable=False),
        sa.Column("delete_by", sa.Date, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_stored", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("rows_mailable", sa.Integer, nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("extract_id", sa.Integer, sa.ForeignKey("extract.id", ondelete="CASCADE"), nullable=False),
        sa.Column("hetu", sa.String(11), nullable=False),
        sa.Column("first_names", sa.String(100), nullable=False),
        sa.Column("surname", sa.String(100), nullable=False),
        sa.Column("street_fi", sa.String(100)),
        sa.Column("street_sv", sa.String(100)),
        sa.Column("postal_code", sa.String(5)),
        sa.Column("post_office_fi", sa.String(50)),
        sa.Column("post_office_sv", sa.String(50)),
        sa.Column("municipality", sa.String(3), nullable=False),
        sa.Column("birth_date", sa.Date),
        sa.Column("sex", sa.Integer),
        sa.Column("mother_tongue", sa.String(2)),
        sa.Column("turvakielto", sa.Boolean, nullable=False),
        sa.Column("deceased", sa.Boolean, nullable=False),
        sa.Column("dwelling_id", sa.String(16)),
        sa.Column("mailable", sa.Boolean, nullable=False),
        sa.UniqueConstraint("extract_id", "hetu", name="uq_person_extract_hetu"),
    )
    op.create_index("ix_person_extract_id", "person", ["extract_id"])
    op.create_index("ix_person_municipality", "person", ["municipality"])
    op.create_table(
        "import_fault",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("extract_id", sa.Integer, sa.ForeignKey("extract.id", ondelete="CASCADE"), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("col", sa.Integer),
        sa.Column("message", sa.String(300), nullable=False),
    )
    op.create_index("ix_import_fault_extract_id", "import_fault", ["extract_id"])
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("extract_id", sa.Integer, sa.ForeignKey("extract.id", ondelete="CASCADE"), nullable=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("round", sa.String(64), nullable=False),
        sa.Column("response_code", sa.String(16), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_invitation_extract_id", "invitation", ["extract_id"])
    op.create_table(
        "pool_member",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("invitation_id", sa.Integer, sa.ForeignKey("invitation.id", ondelete="SET NULL")),
        sa.Column("recruitment_round", sa.String(64)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_names", sa.String(100), nullable=False),
        sa.Column("surname", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(32)),
        sa.Column("street", sa.String(100)),
        sa.Column("postal_code", sa.String(5)),
        sa.Column("post_office", sa.String(50)),
        sa.Column("preferred_language", sa.String(2), nullable=False),
        sa.Column("birth_year", sa.Integer),
        sa.Column("sex", sa.Integer),
        sa.Column("mother_tongue", sa.String(2)),
        sa.Column("municipality", sa.String(3)),
        sa.Column("dwelling_id", sa.String(16)),
        sa.Column("education", sa.String(64)),
        sa.Column("extra", sa.Text),
        sa.Column("needs", sa.String(500)),
        sa.Column("consent_version", sa.String(32), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("panels_served", sa.Integer, nullable=False),
        sa.Column("last_panel_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_pool_member_status", "pool_member", ["status"])
    op.create_index("ix_pool_member_municipality", "pool_member", ["municipality"])
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    dialect = op.get_bind().dialect.name
    for stmt in {"sqlite": _APPEND_ONLY_SQLITE, "postgresql": _APPEND_ONLY_POSTGRES}.get(dialect, []):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_no_change ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    for table in ("audit_entry", "pool_member", "invitation", "import_fault", "person", "extract"):
        op.drop_table(table)
