"""Which stored threads a batch decides again, message by message, and what it needs of them.

Mail arrives in any order (the inbox newest first, Sent after it), so a reply is often stored
before the message it answers. Until then the subject fallback may place it (`subject_links`:
a conversation whose beginning is missing joins one with its subject), and that guess can be
wrong: the missing parent may start a conversation of its own, or belong to another one. So
when a batch brings the parent of stored messages, `thread_store` takes the threads holding
them apart into their messages and groups those again with the batch, as if all had arrived
together. Without that, a reply first guessed into last week's "Status update" would glue
this week's into it when its parent came.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.mail.models import Message

__all__ = ["StoredRow", "late_parent_threads", "stored_rows", "threads_with_guesses"]

# IN lists far below the bind-parameter limits of SQLite (32766) and asyncpg (32767).
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredRow:
    """What threading needs of a stored message of a thread being decided again."""

    id: int
    thread_id: uuid.UUID
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    received_at: datetime
    gm_thrid: int | None


def late_parent_threads(
    batch: Iterable[Message],
    related: Iterable[tuple[str, uuid.UUID, bool]],
    refs_rows: Iterable[tuple[list[str], uuid.UUID]],
) -> set[uuid.UUID]:
    """Threads holding stored replies to a message of this batch that was not stored before
    (its first copy): until now their parent was missing, so the subject may have placed
    them. `related` is (id, thread, found by In-Reply-To) of stored messages, `refs_rows`
    (References, thread) of stored ones without In-Reply-To."""
    related = list(related)
    own = {m.message_id for m in batch if m.message_id}
    new = own - {value for value, _, by_reply in related if not by_reply}
    if not new:
        return set()
    late = {tid for value, tid, by_reply in related if by_reply and value in new}
    late.update(tid for refs, tid in refs_rows if not new.isdisjoint(refs))
    return late


async def threads_with_guesses(db: AsyncSession, thread_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `thread_ids` that may hold a subject guess.

    A guess joins two groups, each with a root: a message whose In-Reply-To names no stored
    message of its group (then the roots answer two different missing messages, or the
    roots have no In-Reply-To). A thread whose roots all answer one missing message (or are
    copies of one original) holds none. Counted in SQL rather than by loading the thread: a
    10,000-message list thread synced newest first gets a late parent in every batch. (A
    reply and its parent are always in one thread, so the ids of all the threads asked
    about can stand for those of each.)"""
    found: set[uuid.UUID] = set()
    for chunk in _chunks(sorted(thread_ids)):
        stored_ids = select(Message.message_id).where(
            Message.thread_id.in_(chunk), Message.message_id.is_not(None)
        )
        # What a root hangs from: the missing message it answers, else itself (a mail in two
        # folders is one root; rows without a Message-ID are each their own).
        start = func.coalesce(
            func.nullif(Message.in_reply_to, ""),
            Message.message_id,
            "#" + cast(Message.id, Text),
        )
        rows = await db.execute(
            select(Message.thread_id)
            .where(
                Message.thread_id.in_(chunk),
                or_(
                    Message.in_reply_to.is_(None),
                    Message.in_reply_to == "",
                    Message.in_reply_to.not_in(stored_ids),
                ),
            )
            .group_by(Message.thread_id)
            .having(func.count(distinct(start)) > 1)
        )
        found.update(tid for (tid,) in rows if tid is not None)
    return found


async def stored_rows(db: AsyncSession, thread_ids: set[uuid.UUID]) -> dict[int, StoredRow]:
    """Every message of these threads, by row id."""
    found: dict[int, StoredRow] = {}
    for chunk in _chunks(sorted(thread_ids)):
        rows = await db.execute(
            select(
                Message.id,
                Message.thread_id,
                Message.message_id,
                Message.in_reply_to,
                Message.references,
                Message.subject,
                Message.received_at,
                Message.gm_thrid,
            ).where(Message.thread_id.in_(chunk))
        )
        for row_id, tid, mid, irt, refs, subject, received_at, gm_thrid in rows:
            if tid is not None:
                found[row_id] = StoredRow(
                    row_id, tid, mid, irt, refs or [], subject, received_at, gm_thrid
                )
    return found


def _chunks(values: list[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
