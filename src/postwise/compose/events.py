"""Telling the user's other screens that the outbox changed, once the change is committed.

The send and cancel routes change the outbox; the delivery jobs (compose.tasks) announce what
they do themselves. A request cannot announce directly: the event would go out before the
commit, and a tab that re-reads on it could still see the old state.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.compose.models import Draft
from postwise.events import EventType, announce
from postwise.worker.queue import enqueue_job
from postwise.worker.registry import JobContext, job

ANNOUNCE_JOB = "compose.announce_outbox"


def announce_outbox_after_commit(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, status: str
) -> None:
    """Queue `outbox.updated` (see `publish_outbox_update`); it leaves only if the
    transaction commits."""
    enqueue_job(db, ANNOUNCE_JOB, user_id=str(user_id), draft_id=str(draft_id), status=status)


async def publish_outbox_update(
    ctx: JobContext,
    user_id: uuid.UUID,
    draft_id: uuid.UUID,
    status: str,
    error_code: str | None = None,
) -> None:
    """`outbox.updated` {draft_id, status, error_code, last_error, thread_id}: enough for a
    screen to say why a message failed and to refresh only the conversation it joined."""
    async with ctx.sessionmaker() as db:
        row = (
            await db.execute(select(Draft.thread_id, Draft.last_error).where(Draft.id == draft_id))
        ).first()
    thread_id, last_error = row if row is not None else (None, None)
    data = {
        "draft_id": str(draft_id),
        "status": str(status),
        "error_code": error_code,
        "last_error": last_error if error_code else None,
        "thread_id": str(thread_id) if thread_id else None,
    }
    await announce(ctx.store, user_id, EventType.OUTBOX_UPDATED, data)


@job(ANNOUNCE_JOB)
async def announce_outbox(ctx: JobContext, *, user_id: str, draft_id: str, status: str) -> None:
    await publish_outbox_update(ctx, uuid.UUID(user_id), uuid.UUID(draft_id), status)
