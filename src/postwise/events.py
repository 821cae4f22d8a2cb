"""Events every domain publishes through, and the one request other domains make of the sync engine.

- `announce`: every change to mail, threads, folders, accounts or sync state is published per
  user on the Store, so live delivery (`realtime/`) only subscribes to `user_channel(user_id)` in
  whichever process holds the socket. Announcing is best effort: the database is the record, and
  a client that missed an event re-reads it.
- `request_sync`: a new mailbox, "sync now", or a local action to write back. It lives here and
  not in `sync/` so that `mail` and `accounts`, which the sync engine builds on, never import the
  engine (the import contract in `.importlinter` forbids that cycle); the job it enqueues,
  `sync.wake`, is defined in `sync/tasks.py`.

This module knows no domain: it depends only on the Store and the job queue.
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.store import Store
from postwise.worker.queue import enqueue_job

log = structlog.get_logger(__name__)

SYNC_WAKE_JOB = "sync.wake"


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


def user_channel(user_id: uuid.UUID) -> str:
    return f"events:user:{user_id}"


async def announce(
    store: Store, user_id: uuid.UUID, event_type: EventType, data: dict[str, Any]
) -> None:
    payload = json.dumps({"type": event_type.value, "data": data}, default=str)
    try:
        await store.publish(user_channel(user_id), payload)
    except Exception as error:  # the Store being down must not stop a sync
        log.warning("announce_failed", event=event_type.value, error=str(error))


def request_sync(db: AsyncSession, account_id: uuid.UUID) -> None:
    """Ask the sync engine to look at this mailbox now. Call it inside the transaction that made
    the change: the job leaves only after the commit, so the engine never looks for rows not yet
    written."""
    enqueue_job(db, SYNC_WAKE_JOB, account_id=str(account_id))
