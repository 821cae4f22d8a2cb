"""Keeping `thread_folders` true: for each thread, the folders holding any of its messages.

Rebuilt per thread from the messages themselves (delete, then insert from a grouped select)
rather than adjusted by increments: a refresh after any change is correct whatever the change
was (insert, move, expunge, merge of two threads, UIDVALIDITY resync), at the cost of one
grouped statement over the threads' own messages.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.mail.models import Message, Thread, ThreadFolder

__all__ = ["refresh_thread_folders"]

# Bound parameters per statement stay well under SQLite's limit.
_CHUNK = 500


async def refresh_thread_folders(db: AsyncSession, thread_ids: Collection[uuid.UUID]) -> None:
    """Recompute the rows of these threads; call after their summaries are up to date (the
    thread's `last_message_at` is copied, so a folder lists the thread by its newest message
    anywhere, as Gmail does: a reply you sent lifts the conversation in the inbox too)."""
    ids = list(set(thread_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        await db.execute(delete(ThreadFolder).where(ThreadFolder.thread_id.in_(chunk)))
        grouped = (
            select(
                Message.thread_id,
                Message.folder_id,
                Thread.user_id,
                Thread.last_message_at,
                func.count(),
                func.sum(case((Message.is_read, 0), else_=1)),
            )
            .join(Thread, Thread.id == Message.thread_id)
            .where(Message.thread_id.in_(chunk))
            .group_by(Message.thread_id, Message.folder_id, Thread.user_id, Thread.last_message_at)
        )
        await db.execute(
            insert(ThreadFolder).from_select(
                [
                    ThreadFolder.thread_id,
                    ThreadFolder.folder_id,
                    ThreadFolder.user_id,
                    ThreadFolder.last_message_at,
                    ThreadFolder.message_count,
                    ThreadFolder.unread_count,
                ],
                grouped,
            )
        )
