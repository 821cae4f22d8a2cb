"""The one way the sync engine announces a change: published per user on the Store.

Every change the engine makes (new message, flags, expunge, folder counts, sync state) goes
through `announce`, so live delivery (WebSocket, issue "live events") only has to subscribe to
`user_channel(user_id)` in whichever process holds the socket. Announcing is best effort: the
database is the record, and a client that missed an event re-reads it.
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import Any

import structlog

from postwise.store import Store

log = structlog.get_logger(__name__)


class EventType(StrEnum):
    MESSAGE_CREATED = "message.created"
    MESSAGE_UPDATED = "message.updated"
    MESSAGE_DELETED = "message.deleted"
    THREAD_UPDATED = "thread.updated"
    FOLDER_COUNTS = "folder.counts"
    SYNC_STATUS = "sync.status"
    ACCOUNT_UPDATED = "account.updated"


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
