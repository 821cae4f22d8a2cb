"""full-text search index of messages (SQLite FTS5 / PostgreSQL tsvector)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from postwise.search import index

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_index("ix_messages_user_size", "messages", ["user_id", "size"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        _run(index.SQLITE_UPGRADE)
    else:
        _run(index.POSTGRES_UPGRADE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _run(index.SQLITE_DOWNGRADE)
    else:
        _run(index.POSTGRES_DOWNGRADE)
    op.drop_index("ix_messages_user_size", table_name="messages")
