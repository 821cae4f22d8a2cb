"""Waking the sync engine: a new account, "sync now", or a local action to write back.

The engine's supervisor (in `postwise worker`, or in the API process in the embedded default)
listens on one Store channel; any process can wake it. Call `request_sync` inside a transaction:
the wake-up job leaves only after the commit, so the engine never looks for rows not yet written.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.store import Store
from postwise.worker.queue import enqueue_job

WAKE_CHANNEL = "sync:wake"


def request_sync(db: AsyncSession, account_id: uuid.UUID) -> None:
    enqueue_job(db, "sync.wake", account_id=str(account_id))


async def wake(store: Store, account_id: uuid.UUID | str) -> None:
    await store.publish(WAKE_CHANNEL, str(account_id))
