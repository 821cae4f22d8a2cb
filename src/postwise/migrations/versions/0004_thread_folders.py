"""thread_folders: the per-folder index of threads that thread lists page through

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thread_folders",
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("folder_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("unread_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name=op.f("fk_thread_folders_folder_id_folders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_thread_folders_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_thread_folders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thread_id", "folder_id", name=op.f("pk_thread_folders")),
    )
    with op.batch_alter_table("thread_folders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_thread_folders_list", ["folder_id", "last_message_at", "thread_id"], unique=False
        )
    # Mail synced before this revision: index what is already there.
    op.execute(
        """
        INSERT INTO thread_folders
            (thread_id, folder_id, user_id, last_message_at, message_count, unread_count)
        SELECT m.thread_id, m.folder_id, t.user_id, t.last_message_at, count(*),
               sum(CASE WHEN m.is_read THEN 0 ELSE 1 END)
        FROM messages m JOIN threads t ON t.id = m.thread_id
        GROUP BY m.thread_id, m.folder_id, t.user_id, t.last_message_at
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("thread_folders", schema=None) as batch_op:
        batch_op.drop_index("ix_thread_folders_list")
    op.drop_table("thread_folders")
