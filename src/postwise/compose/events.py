"""Telling the user's other screens that the outbox changed, once the change is committed.

The send and cancel routes change the outbox; the delivery jobs (compose.tasks) announce what
they do themselves. A request cannot announce directly: the event would go out before the
commit, and a tab that re-reads on it could still see the old state.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.events import EventType, announce
from postwise.worker.queue import enqueue_job
from postwise.worker.registry import JobContext, job

ANNOUNCE_JOB = "compose.announce_outbox"


def announce_outbox_after_commit(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, status: str
) -> None:
    """Queue `outbox.updated` {draft_id, status, error_code} (the shape the delivery jobs
    announce, error_code null here); it leaves only if the transaction commits."""
    enqueue_job(db, ANNOUNCE_JOB, user_id=str(user_id), draft_id=str(draft_id), status=status)


@job(ANNOUNCE_JOB)
async def announce_outbox(ctx: JobContext, *, user_id: str, draft_id: str, status: str) -> None:
    await announce(
        ctx.store,
        uuid.UUID(user_id),
        EventType.OUTBOX_UPDATED,
        {"draft_id": draft_id, "status": status, "error_code": None},
    )
