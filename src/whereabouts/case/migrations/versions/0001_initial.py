"""The initial case record: users, cases, scope, audit chain, annotations, misconduct.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 11:21:28.541574
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the case store's tables."""
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_case_ref"), ["case_ref"], unique=False)

    op.create_table(
        "cases",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.String(length=32), nullable=False),
        sa.Column("authorised_by", sa.String(length=64), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("archive_after", sa.Date(), nullable=True),
        sa.Column("delete_after", sa.Date(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ref"),
    )
    op.create_table(
        "screening_authorities",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("authorised_by", sa.String(length=64), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ref"),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("os_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("occasion_id", sa.String(length=64), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reason_added", sa.String(length=64), nullable=True),
        sa.Column("reason_rejected", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.ref"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annotations_case_ref"), ["case_ref"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_annotations_occasion_id"), ["occasion_id"], unique=False
        )

    op.create_table(
        "case_extensions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("officers", sa.Text(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.ref"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_extensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_extensions_case_ref"), ["case_ref"], unique=False)

    op.create_table(
        "case_members",
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.ref"],
        ),
        sa.ForeignKeyConstraint(
            ["username"],
            ["users.username"],
        ),
        sa.PrimaryKeyConstraint("case_ref", "username"),
    )
    op.create_table(
        "case_subjects",
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.ref"],
        ),
        sa.PrimaryKeyConstraint("case_ref", "officer_id"),
    )
    op.create_table(
        "proceedings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.String(length=64), nullable=False),
        sa.Column("officer_status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=True),
        sa.Column("severity_by", sa.String(length=64), nullable=True),
        sa.Column("forum", sa.String(length=32), nullable=True),
        sa.Column("forum_date", sa.Date(), nullable=True),
        sa.Column("panel", sa.Text(), nullable=True),
        sa.Column("rules", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.ref"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_ref", "officer_id"),
    )
    with op.batch_alter_table("proceedings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proceedings_case_ref"), ["case_ref"], unique=False)

    op.create_table(
        "allegations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("standards", sa.Text(), nullable=False),
        sa.Column("particulars", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finding", sa.String(length=16), nullable=True),
        sa.Column("level", sa.String(length=32), nullable=True),
        sa.Column("basis", sa.String(length=32), nullable=True),
        sa.Column("found_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["proceeding_id"],
            ["proceedings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("allegations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allegations_proceeding_id"), ["proceeding_id"], unique=False
        )

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=48), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["proceeding_id"],
            ["proceedings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcomes_proceeding_id"), ["proceeding_id"], unique=False
        )

    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), nullable=False),
        sa.Column("anonymised", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("publish_from", sa.Date(), nullable=False),
        sa.Column("publish_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proceeding_id"],
            ["proceedings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publications_proceeding_id"), ["proceeding_id"], unique=False
        )

    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proceeding_id"],
            ["proceedings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referrals_proceeding_id"), ["proceeding_id"], unique=False
        )

    op.create_table(
        "warnings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proceeding_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proceeding_id"],
            ["proceedings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("warnings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warnings_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_warnings_proceeding_id"), ["proceeding_id"], unique=False
        )

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("allegation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["allegation_id"],
            ["allegations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_allegation_id"), ["allegation_id"], unique=False
        )
    # The chain starts from an all-zero hash; writers lock this row to append.
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.BigInteger),
            sa.column("hash", sa.String),
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )


def downgrade() -> None:
    """Drop the case store's tables."""
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_allegation_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warnings_proceeding_id"))
        batch_op.drop_index(batch_op.f("ix_warnings_officer_id"))

    op.drop_table("warnings")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_proceeding_id"))

    op.drop_table("referrals")
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publications_proceeding_id"))

    op.drop_table("publications")
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcomes_proceeding_id"))

    op.drop_table("outcomes")
    with op.batch_alter_table("allegations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allegations_proceeding_id"))

    op.drop_table("allegations")
    with op.batch_alter_table("proceedings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proceedings_case_ref"))

    op.drop_table("proceedings")
    op.drop_table("case_subjects")
    op.drop_table("case_members")
    with op.batch_alter_table("case_extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_extensions_case_ref"))

    op.drop_table("case_extensions")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotations_occasion_id"))
        batch_op.drop_index(batch_op.f("ix_annotations_case_ref"))

    op.drop_table("annotations")
    op.drop_table("users")
    op.drop_table("screening_authorities")
    op.drop_table("cases")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_case_ref"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
    op.drop_table("audit_head")
