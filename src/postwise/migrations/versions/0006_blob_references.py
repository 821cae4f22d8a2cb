"""index messages by raw blob digest, for blob garbage collection

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_raw_sha256", "messages", ["raw_sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_raw_sha256", table_name="messages")
