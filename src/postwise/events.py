"""Events every domain publishes through, and the one request other domains make of the sync engine.

- `announce`: every change to mail, threads, folders, accounts or sync state is published per
  user on the Store, so live delivery (`realtime/`) only subscribes to `user_channel(user_id)` in
  whichever process holds the socket. Announcing is best effort: the database is the record, and
  a client that missed an event re-reads it.
- `request_sync`: a new mailbox, "sync now", or a local action to write back. It lives here and
  not in `sync/` so that `mail` and `accounts`, which the sync engine builds on, never import the
  engine (the import contract in `.importlinter` forbids that cycle); the job it enqueues,
  `sync.wake`, is defined in `sync/tasks.py`.

This module knows no domain: it depends only on the Store, the job queue and the metrics (each
announce is counted by the Metrics the lifespan bound to the Store, `observability.metrics`).
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.observability.metrics import for_store as metrics_for
from postwise.store import Store
from postwise.worker.queue import JobQueue, enqueue_job

log = structlog.get_logger(__name__)

SYNC_WAKE_JOB = "sync.wake"
# Defined in `ai/tasks.py`; named here so the domains the assistant builds on never import it.
AI_TRIAGE_JOB = "ai.triage"
AI_OBSERVE_JOB = "ai.observe"


class EventType(StrEnum):
    MESSAGE_CREATED = "message.created"
    MESSAGE_UPDATED = "message.updated"
    MESSAGE_DELETED = "message.deleted"
    THREAD_UPDATED = "thread.updated"
    FOLDER_COUNTS = "folder.counts"
    SYNC_STATUS = "sync.status"
    ACCOUNT_UPDATED = "account.updated"
    NOTIFICATION_CREATED = "notification.created"
    OUTBOX_UPDATED = "outbox.updated"
    # The assistant set category, priority, summary... of these messages (and their threads).
    MESSAGE_TRIAGED = "message.triaged"


def user_channel(user_id: uuid.UUID) -> str:
    return f"events:user:{user_id}"


async def announce(
    store: Store, user_id: uuid.UUID, event_type: EventType, data: dict[str, Any]
) -> None:
    payload = json.dumps({"type": event_type.value, "data": data}, default=str)
    metrics = metrics_for(store)
    if metrics is not None:
        metrics.announced(event_type.value)
    try:
        await store.publish(user_channel(user_id), payload)
    except Exception as error:  # the Store being down must not stop a sync
        log.warning("announce_failed", event=event_type.value, error=str(error))


def request_sync(db: AsyncSession, account_id: uuid.UUID) -> None:
    """Ask the sync engine to look at this mailbox now. Call it inside the transaction that made
    the change: the job leaves only after the commit, so the engine never looks for rows not yet
    written."""
    enqueue_job(db, SYNC_WAKE_JOB, account_id=str(account_id))


async def request_triage(jobs: JobQueue, user_id: uuid.UUID, message_ids: list[int]) -> None:
    """New mail was committed: ask the assistant to triage it. Best effort, after the commit,
    and never waited on by the sync: a lost request is caught by the assistant's backfill,
    which triages whatever has no insight yet."""
    try:
        await jobs.send(AI_TRIAGE_JOB, user_id=str(user_id), message_ids=message_ids)
    except Exception as error:
        log.warning("triage_request_failed", error=str(error))


def observe_actions(
    db: AsyncSession,
    user_id: uuid.UUID,
    message_ids: list[int],
    action: str,
    value: str | None = None,
) -> None:
    """What the user did with these messages (open, reply, archive_unread, ...), for the
    assistant to learn from once the transaction that did it commits."""
    if message_ids:
        enqueue_job(
            db,
            AI_OBSERVE_JOB,
            user_id=str(user_id),
            message_ids=message_ids,
            action=action,
            value=value,
        )
