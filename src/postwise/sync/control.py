"""Waking the sync engine's supervisor (in `postwise worker`, or the API process in the embedded
default): it listens on one Store channel, and any process can publish there. Other domains ask
for a sync with `postwise.events.request_sync`, whose job lands in `wake` below."""

from __future__ import annotations

import uuid

from postwise.store import Store

WAKE_CHANNEL = "sync:wake"


async def wake(store: Store, account_id: uuid.UUID | str) -> None:
    await store.publish(WAKE_CHANNEL, str(account_id))
