"""the dashboard: an index its window reads instead of the message rows, bytes stored per folder

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_messages_dashboard",
        "messages",
        [
            "user_id",
            "received_at",
            "folder_id",
            "is_draft",
            "from_address",
            "from_name",
            "message_id",
            "thread_id",
            # PostgreSQL keeps no row id in an index (SQLite does): the dashboard keys a mail
            # without a Message-ID by it, and reads nothing else from the row.
            "id",
        ],
        unique=False,
    )
    # Plain ADD COLUMN, never batch mode: rebuilding `folders` on SQLite would drop the old
    # table with foreign keys on, and its ON DELETE CASCADE would take every message along.
    op.add_column(
        "folders",
        sa.Column("stored_bytes", sa.BigInteger(), server_default="0", nullable=False),
    )
    # From now on kept with the folder's counts; the mail already stored is summed once here.
    op.execute(
        "UPDATE folders SET stored_bytes = "
        "(SELECT COALESCE(SUM(messages.size), 0) FROM messages "
        "WHERE messages.folder_id = folders.id)"
    )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35+), for the reason given in upgrade().
    op.execute("ALTER TABLE folders DROP COLUMN stored_bytes")
    op.drop_index("ix_messages_dashboard", table_name="messages")
