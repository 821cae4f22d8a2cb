"""Issue 12: deleting a *user* while their mailbox's sync loop writes (the mailbox case is in
tests/sync/test_delete_while_syncing.py, the import cases in tests/imports/).

`delete_user` locks the user's mailbox rows first (`accounts.service.lock_for_deletion`), the
order every sync transaction follows (`postwise.sync.guard`), so it waits for the batch in
progress instead of deadlocking with it on PostgreSQL; the loop's next transaction finds the
mailbox gone and ends. Nothing of the user is left and nobody else's mail is touched.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from postwise.sync import folders as sync_folders
from postwise.sync.context import SyncContext
from postwise.sync.mailbox import MailboxSync
from postwise.users.service import delete_user
from tests.conftest import BACKEND
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.rows import account_rows, nothing, user_rows
from tests.sync.conftest import Mailbox, add_mailbox, make_message, open_sync_context, wait_for

pytestmark = pytest.mark.backend


def _fill(mailbox: Mailbox, count: int, *, first: int = 0) -> None:
    imap = mailbox.server.client(mailbox.username)
    try:
        for n in range(first, first + count):
            imap.append("INBOX", make_message(n)[0])
    finally:
        imap.logout()


async def _delete(ctx: SyncContext, user_id: uuid.UUID) -> None:
    """What DELETE /api/users/me (and the admin's deletion) does, in a transaction of its own."""
    async with ctx.sessionmaker() as db:
        assert await delete_user(db, user_id=user_id)
        await db.commit()


async def _waiting_on_a_lock(ctx: SyncContext) -> bool:
    async with ctx.sessionmaker() as db:
        waiting = await db.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


async def test_a_user_deleted_mid_sync_batch_is_no_deadlock_and_leaves_nothing(
    make_settings: Any, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_sync_context(make_settings(sync_batch_size=20)) as ctx:
        mailbox, other = await add_mailbox(ctx, dovecot), await add_mailbox(ctx, dovecot)
        await asyncio.to_thread(_fill, mailbox, 120)
        _fill(other, 5, first=1000)
        async with other.syncing():

            async def other_synced() -> bool:
                return await other.count() == 5

            await wait_for(other_synced)
        before = await account_rows(ctx.sessionmaker, other.account_id)

        # The second batch of `mailbox` stops inside its transaction: the account row is
        # locked (the guard's first statement) and its message rows, which reference the
        # user, are not inserted yet. A deletion that took the user row first and then waited
        # for the mailbox row deadlocked PostgreSQL at this point.
        paused, resume = asyncio.Event(), asyncio.Event()
        batches = 0
        store_batch = sync_folders.store_batch

        async def paused_in_batch(db: Any, **kwargs: Any) -> Any:
            nonlocal batches
            if kwargs["folder"].account_id == mailbox.account_id:
                batches += 1
                if batches == 2:
                    paused.set()
                    await resume.wait()
            return await store_batch(db, **kwargs)

        monkeypatch.setattr(sync_folders, "store_batch", paused_in_batch)
        loop = asyncio.create_task(MailboxSync(ctx, mailbox.account_id).run())
        try:
            async with asyncio.timeout(60):
                await paused.wait()
            deletion = asyncio.create_task(_delete(ctx, mailbox.user_id))
            if BACKEND == "postgres":

                async def blocked() -> bool:
                    assert not deletion.done(), "the deletion did not wait for the sync batch"
                    return await _waiting_on_a_lock(ctx)

                await wait_for(blocked, timeout=10)
            else:
                await asyncio.sleep(0.5)  # SQLite: it waits for the write lock
            resume.set()
            await asyncio.wait({deletion}, timeout=30)
            assert deletion.done(), "the deletion never finished"
            deletion.result()  # PostgreSQL: "deadlock detected" if the order were wrong
            # The loop ends by itself (MailboxGone), without an error.
            await asyncio.wait({loop}, timeout=20)
            assert loop.done(), "the sync loop of a deleted user kept running"
            assert not loop.cancelled() and loop.exception() is None
        finally:
            resume.set()
            loop.cancel()
            await asyncio.wait({loop}, timeout=10)
        assert nothing(await account_rows(ctx.sessionmaker, mailbox.account_id))
        assert nothing(await user_rows(ctx.sessionmaker, mailbox.user_id))
        assert await account_rows(ctx.sessionmaker, other.account_id) == before
