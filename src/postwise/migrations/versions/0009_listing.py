"""threads carry their whole list item: snippet, participants, starred, has_attachments

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-11 09:00:00
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As `mail.thread_store` keeps them from now on; copied, not imported: a revision must keep
# doing what it did when the code it was written with has moved on.
_MAX_PARTICIPANTS = 10
_BATCH = 500

_threads = sa.table("threads", sa.column("id", sa.Uuid()), sa.column("participants", sa.Text()))
_messages = sa.table(
    "messages",
    sa.column("thread_id", sa.Uuid()),
    sa.column("from_name", sa.Text()),
    sa.column("from_address", sa.Text()),
    sa.column("received_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    # Plain ADD COLUMN with constant defaults, never batch mode: a batch that rebuilt
    # `threads` on SQLite would drop the old table with foreign keys on, and so set every
    # message's thread_id to NULL and delete every thread_folders row (ON DELETE actions).
    op.add_column("threads", sa.Column("snippet", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "threads", sa.Column("participants", sa.Text(), server_default="[]", nullable=False)
    )
    op.add_column("threads", sa.Column("starred", sa.Boolean(), server_default="0", nullable=False))
    op.add_column(
        "threads", sa.Column("has_attachments", sa.Boolean(), server_default="0", nullable=False)
    )
    # Mail stored before this revision: fill in what the list used to compute on every read.
    op.execute(
        """
        UPDATE threads SET
            snippet = coalesce((SELECT m.snippet FROM messages m WHERE m.thread_id = threads.id
                                ORDER BY m.received_at DESC, m.id DESC LIMIT 1), ''),
            starred = EXISTS (SELECT 1 FROM messages m
                              WHERE m.thread_id = threads.id AND m.is_starred),
            has_attachments = EXISTS (SELECT 1 FROM messages m
                                      WHERE m.thread_id = threads.id AND m.has_attachments)
        """
    )
    _fill_participants(op.get_bind())


def _fill_participants(bind: sa.Connection) -> None:
    """Senders in the order they first wrote, each once (by address), in batches of threads
    walked by id, so a large mailbox is never held in memory at once."""
    write = (
        sa.update(_threads)
        .where(_threads.c.id == sa.bindparam("thread"))
        .values(participants=sa.bindparam("people"))
    )
    last: Any = None
    while True:
        query = sa.select(_threads.c.id).order_by(_threads.c.id).limit(_BATCH)
        if last is not None:
            query = query.where(_threads.c.id > last)
        ids = list(bind.execute(query).scalars())
        if not ids:
            return
        last = ids[-1]
        senders: defaultdict[Any, list[tuple[datetime, str, str]]] = defaultdict(list)
        grouped = (
            sa.select(
                _messages.c.thread_id,
                _messages.c.from_address,
                sa.func.max(_messages.c.from_name),
                sa.func.min(_messages.c.received_at),
            )
            .where(_messages.c.thread_id.in_(ids))
            .group_by(_messages.c.thread_id, _messages.c.from_address)
        )
        for thread_id, address, name, first in bind.execute(grouped):
            senders[thread_id].append((first, name or "", address or ""))
        rows = [
            {
                "thread": thread_id,
                "people": json.dumps(
                    [
                        {"name": name, "address": address}
                        for _, name, address in sorted(found)[:_MAX_PARTICIPANTS]
                    ],
                    ensure_ascii=False,
                    separators=(",", ":"),
                ),
            }
            for thread_id, found in senders.items()
        ]
        if rows:
            bind.execute(write, rows)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35+), for the reason given in upgrade().
    for column in ("has_attachments", "starred", "participants", "snippet"):
        op.execute(f"ALTER TABLE threads DROP COLUMN {column}")
