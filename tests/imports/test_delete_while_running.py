"""Deleting a mailbox, or its user, while an import writes into it.

The deletion waits for the batch in progress (both lock the mailbox row first), then removes
everything; the import's next batch finds the mailbox gone and the job ends, its record saying
why. Nothing of the mailbox is left and nobody else's mail is touched.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.imports import importer
from postwise.imports.readers import SourceMessage
from postwise.imports.router import MAILBOX_DELETED, load_record
from postwise.users.service import delete_user
from tests.accounts.conftest import Harness
from tests.conftest import BACKEND
from tests.fixtures.rows import account_rows, nothing, user_rows
from tests.imports.test_importers import make_raw, mboxrd

pytestmark = pytest.mark.backend

MBOX = {"Content-Type": "application/mbox"}
LARGE = 1500


async def _start_import(h: Harness, headers: dict[str, str], count: int) -> tuple[str, uuid.UUID]:
    data = mboxrd([make_raw(n, reply_to=n - 1 if n % 4 else None) for n in range(count)])
    started = await h.http.post("/api/accounts/import", content=data, headers={**headers, **MBOX})
    assert started.status_code == 202, started.text
    return started.json()["import_id"], uuid.UUID(started.json()["account_id"])


async def _record(h: Harness, import_id: str) -> dict[str, Any]:
    record = await load_record(h.services.store, import_id)
    assert record is not None
    return record


async def _until(
    h: Harness, import_id: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The import's record once `done` holds for it (within a minute)."""
    for _ in range(1200):
        record = await _record(h, import_id)
        if done(record):
            return record
        await asyncio.sleep(0.05)
    raise AssertionError(f"the import did not get there in a minute: {record}")


async def _finished_elsewhere(h: Harness) -> tuple[uuid.UUID, dict[str, int]]:
    """Another user with an imported mailbox, and what they hold."""
    headers = await h.sign_in()
    import_id, account_id = await _start_import(h, headers, 20)
    assert (await _until(h, import_id, lambda r: r["status"] != "importing"))["status"] == "done"
    return account_id, await account_rows(h.services.sessionmaker, account_id)


async def test_a_mailbox_deleted_mid_import_stops_the_import_and_leaves_nothing(
    h: Harness,
) -> None:
    other, before = await _finished_elsewhere(h)
    headers = await h.sign_in()
    import_id, account_id = await _start_import(h, headers, LARGE)
    await _until(h, import_id, lambda r: r["imported"] > 0)
    deleted = await h.http.delete(f"/api/accounts/{account_id}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    record = await _until(h, import_id, lambda r: r["status"] != "importing")
    assert record["status"] == "failed"
    assert record["error"] == MAILBOX_DELETED
    assert 0 < record["imported"] < LARGE
    await h.jobs.drain(timeout=10)
    assert not h.jobs.running
    assert nothing(await account_rows(h.services.sessionmaker, account_id))
    assert await account_rows(h.services.sessionmaker, other) == before


async def _waiting_on_a_lock(h: Harness) -> bool:
    async with h.services.sessionmaker() as db:
        waiting = await db.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


async def test_a_user_deleted_mid_import_batch_is_no_deadlock(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    other, before = await _finished_elsewhere(h)
    # The second batch stops right after it locked the mailbox, before its first insert (rows
    # that reference the user): the moment a deletion that took the user row first, and then
    # waited for the mailbox, deadlocked PostgreSQL.
    paused, resume = asyncio.Event(), asyncio.Event()
    batches = 0
    known_keys = importer._known_keys

    async def paused_after_lock(
        db: AsyncSession, account_id: uuid.UUID, batch: Sequence[SourceMessage]
    ) -> set[tuple[str | None, str]]:
        nonlocal batches
        batches += 1
        if batches == 2:
            paused.set()
            await resume.wait()
        return await known_keys(db, account_id, batch)

    monkeypatch.setattr(importer, "_known_keys", paused_after_lock)
    headers = await h.sign_in()
    user_id = h.user_ids[-1]
    import_id, account_id = await _start_import(h, headers, LARGE)
    async with asyncio.timeout(60):
        await paused.wait()

    async def delete() -> None:
        async with h.services.sessionmaker() as db:
            assert await delete_user(db, user_id=user_id)
            await db.commit()

    deletion = asyncio.create_task(delete())
    if BACKEND == "postgres":
        async with asyncio.timeout(10):
            while not await _waiting_on_a_lock(h):
                assert not deletion.done(), "the deletion did not wait for the import's batch"
                await asyncio.sleep(0.05)
    else:
        await asyncio.sleep(0.5)
    resume.set()
    await asyncio.wait({deletion}, timeout=30)
    assert deletion.done(), "the deletion never finished"
    deletion.result()  # PostgreSQL: "deadlock detected" when the user row was taken first
    record = await _until(h, import_id, lambda r: r["status"] != "importing")
    assert record["status"] == "failed" and record["error"] == MAILBOX_DELETED
    await h.jobs.drain(timeout=10)
    assert not h.jobs.running
    assert nothing(await account_rows(h.services.sessionmaker, account_id))
    assert nothing(await user_rows(h.services.sessionmaker, user_id))
    assert await account_rows(h.services.sessionmaker, other) == before
