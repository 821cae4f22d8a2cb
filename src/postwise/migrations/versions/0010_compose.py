"""compose: drafts and the outbox, their attachments, the address book, identities, undo window

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New columns by plain ADD COLUMN, never batch mode: a batch rebuild of mail_accounts or
    # users on SQLite would fire the ON DELETE actions of every table that references them.
    op.create_table(
        "contact_scans",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("last_message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_contact_scans_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_contact_scans")),
    )
    op.create_table(
        "contacts",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.Column("received_count", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_contacts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "address", name=op.f("pk_contacts")),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("from_address", sa.Text(), nullable=False),
        sa.Column("to", sa.JSON(), nullable=False),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("bcc", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("reply_to_message_id", sa.BigInteger(), nullable=True),
        sa.Column("forward_of_message_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_id", sa.Uuid(), nullable=True),
        sa.Column("in_reply_to", sa.Text(), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=50), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("smtp_reply", sa.Text(), nullable=True),
        sa.Column("raw_sha256", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_copy", sa.String(length=16), nullable=True),
        sa.Column("mirror_folder", sa.Text(), nullable=True),
        sa.Column("mirror_uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("mirror_uid", sa.BigInteger(), nullable=True),
        sa.Column("mirrored_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["mail_accounts.id"],
            name=op.f("fk_drafts_account_id_mail_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["forward_of_message_id"],
            ["messages.id"],
            name=op.f("fk_drafts_forward_of_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_message_id"],
            ["messages.id"],
            name=op.f("fk_drafts_reply_to_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_drafts_thread_id_threads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drafts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    op.create_index(op.f("ix_drafts_account_id"), "drafts", ["account_id"], unique=False)
    op.create_index(op.f("ix_drafts_raw_sha256"), "drafts", ["raw_sha256"], unique=False)
    op.create_index("ix_drafts_status_due", "drafts", ["status", "next_attempt_at"], unique=False)
    op.create_index(
        "ix_drafts_user_status", "drafts", ["user_id", "status", "updated_at"], unique=False
    )
    op.create_table(
        "draft_attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("draft_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_id", sa.Text(), nullable=True),
        sa.Column("is_inline", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name=op.f("fk_draft_attachments_draft_id_drafts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_draft_attachments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_attachments")),
        sa.UniqueConstraint(
            "draft_id", "position", name=op.f("uq_draft_attachments_draft_id_position")
        ),
    )
    op.create_index(
        op.f("ix_draft_attachments_sha256"), "draft_attachments", ["sha256"], unique=False
    )
    op.add_column(
        "mail_accounts",
        sa.Column(
            "sender_name", sa.String(length=200), server_default=sa.text("''"), nullable=False
        ),
    )
    # Mail already connected sends as its owner's name until the user says otherwise.
    op.execute(
        "UPDATE mail_accounts SET sender_name = "
        "(SELECT name FROM users WHERE users.id = mail_accounts.user_id)"
    )
    op.add_column(
        "mail_accounts", sa.Column("send_as", sa.Text(), server_default="[]", nullable=False)
    )
    op.add_column(
        "mail_accounts",
        sa.Column("signature_text", sa.Text(), server_default=sa.text("''"), nullable=False),
    )
    op.add_column(
        "mail_accounts",
        sa.Column("signature_html", sa.Text(), server_default=sa.text("''"), nullable=False),
    )
    op.add_column(
        "users", sa.Column("send_undo_seconds", sa.Integer(), server_default="10", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("users", "send_undo_seconds")
    op.drop_column("mail_accounts", "signature_html")
    op.drop_column("mail_accounts", "signature_text")
    op.drop_column("mail_accounts", "send_as")
    op.drop_column("mail_accounts", "sender_name")
    op.drop_index(op.f("ix_draft_attachments_sha256"), table_name="draft_attachments")
    op.drop_table("draft_attachments")
    op.drop_index("ix_drafts_user_status", table_name="drafts")
    op.drop_index("ix_drafts_status_due", table_name="drafts")
    op.drop_index(op.f("ix_drafts_raw_sha256"), table_name="drafts")
    op.drop_index(op.f("ix_drafts_account_id"), table_name="drafts")
    op.drop_table("drafts")
    op.drop_table("contacts")
    op.drop_table("contact_scans")
