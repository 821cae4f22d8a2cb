"""Jobs of the mail store: telling the user's other screens about a change once it is committed,
and collecting blobs no message names any more."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.events import EventType, announce
from postwise.mail.blob_gc import collect_blobs
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Folder
from postwise.worker.queue import enqueue_job
from postwise.worker.registry import JobContext, Schedule, job

log = structlog.get_logger(__name__)
# Where the blob collector's walk through the store continues (a leaf directory, "ab/cd").
BLOB_GC_POSITION = "mail:blob_gc:after"


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


# Every 15 minutes, a bounded slice each time (`blob_gc.SCAN_LIMIT` files): a mailbox of a
# million blobs is walked twice a day, and no run holds a worker for long.
@job("mail.collect_blobs", schedule=Schedule(interval=900))
async def collect_unreferenced_blobs(ctx: JobContext) -> dict[str, int]:
    after = await ctx.store.get(BLOB_GC_POSITION) or ""
    async with ctx.sessionmaker() as db:
        result = await collect_blobs(db, BlobStore(ctx.settings.effective_blob_dir), after=after)
    await ctx.store.set(BLOB_GC_POSITION, result.next_after)
    counts = {"scanned": result.scanned, "deleted": result.deleted}
    log.info("blobs_collected", after=after, next_after=result.next_after, **counts)
    return counts
