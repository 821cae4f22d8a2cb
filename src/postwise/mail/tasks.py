"""Jobs of the mail API: telling the user's other screens about a change once it is committed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.events import EventType, announce
from postwise.mail.models import Folder
from postwise.worker.queue import enqueue_job
from postwise.worker.registry import JobContext, job


def announce_after_commit(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    threads: Sequence[uuid.UUID],
    messages: Sequence[int],
) -> None:
    """Queue the events of an action; sent only if the transaction commits, so a screen that
    re-reads on the event sees the change."""
    enqueue_job(
        db,
        "mail.announce",
        user_id=str(user_id),
        thread_ids=[str(t) for t in threads],
        message_ids=list(messages),
    )


@job("mail.announce")
async def announce_changes(
    ctx: JobContext, *, user_id: str, thread_ids: list[str], message_ids: list[int]
) -> None:
    owner = uuid.UUID(user_id)
    if message_ids:
        await announce(ctx.store, owner, EventType.MESSAGE_UPDATED, {"message_ids": message_ids})
    if thread_ids:
        await announce(ctx.store, owner, EventType.THREAD_UPDATED, {"thread_ids": thread_ids})
    async with ctx.sessionmaker() as db:
        folders = (
            await db.execute(
                select(Folder.id, Folder.total_count, Folder.unread_count).where(
                    Folder.user_id == owner
                )
            )
        ).all()
    for folder_id, total, unread in folders:
        await announce(
            ctx.store,
            owner,
            EventType.FOLDER_COUNTS,
            {"folder_id": str(folder_id), "total": total, "unread": unread},
        )
