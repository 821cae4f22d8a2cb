"""The notification suite runs on the accounts harness (an app with its lifespan, a real Store
and jobs), plus helpers to add notifications and read them back."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from postwise.events import user_channel
from postwise.notifications import service
from postwise.notifications.models import Notification
from postwise.notifications.schemas import NewNotification
from tests.accounts.conftest import Harness, accounts_settings, h, make_harness

__all__ = ["accounts_settings", "h", "make_harness"]


async def add(h: Harness, user_id: uuid.UUID, **fields: Any) -> Notification:
    values: dict[str, Any] = {"kind": "import_finished", "title": "Import finished"}
    values.update(fields)
    async with h.services.sessionmaker() as db:
        row = await service.create(db, NewNotification(user_id=user_id, **values))
        assert row is not None
        await db.commit()
        return row


async def rows_of(h: Harness, user_id: uuid.UUID) -> list[Notification]:
    async with h.services.sessionmaker() as db:
        result = await db.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at)
        )
        return list(result.all())


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float = 15,  # noqa: ASYNC109 (a number reads better than a context manager here)
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


class Events:
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [event["data"] for event in self.seen if event["type"] == kind]


@asynccontextmanager
async def events_of(h: Harness, user_id: uuid.UUID) -> AsyncIterator[Events]:
    """Records what is announced to the user while the block runs."""
    events = Events()
    async with h.services.store.subscribe(user_channel(user_id)) as messages:

        async def collect() -> None:
            async for message in messages:
                events.seen.append(json.loads(message.data))

        reader = asyncio.create_task(collect())
        try:
            yield events
        finally:
            reader.cancel()
            await asyncio.wait({reader}, timeout=5)
