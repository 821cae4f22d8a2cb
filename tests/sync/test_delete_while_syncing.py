"""Deleting a mailbox while its sync loop writes: no deadlock, the loop ends, nothing is left.

The deletion removes the mailbox's rows through ON DELETE CASCADE, account row first. A sync
transaction that had locked messages (a flag change) and then needed the folder row the
deletion already held deadlocked PostgreSQL; every sync transaction now takes the account row
first (`postwise.sync.guard`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Collection

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.models import MailAccount
from postwise.accounts.service import delete_account
from postwise.mail import folders as mail_folders
from postwise.sync.context import SyncContext
from postwise.sync.mailbox import MailboxSync
from tests.conftest import BACKEND
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.rows import account_rows, nothing
from tests.sync.conftest import Mailbox, add_mailbox, make_message, open_sync_context, wait_for

pytestmark = pytest.mark.backend


async def _delete_mailbox(ctx: SyncContext, account_id: uuid.UUID) -> None:
    """What DELETE /api/accounts/{id} does, in a transaction of its own."""
    async with ctx.sessionmaker() as db:
        account = await db.get(MailAccount, account_id)
        assert account is not None
        await delete_account(db, account)
        await db.commit()


def _fill(mailbox: Mailbox, count: int, *, first: int = 0) -> None:
    imap = mailbox.server.client(mailbox.username)
    try:
        for n in range(first, first + count):
            imap.append("INBOX", make_message(n)[0])
    finally:
        imap.logout()


async def _synced(mailbox: Mailbox, count: int) -> bool:
    account = await mailbox.account()
    return account.last_synced_at is not None and await mailbox.count() == count


@contextlib.asynccontextmanager
async def _looping(mailbox: Mailbox) -> AsyncIterator[asyncio.Task[None]]:
    """The mailbox's loop; the test checks that it ends by itself."""
    task = asyncio.create_task(MailboxSync(mailbox.ctx, mailbox.account_id).run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=10)


async def _ended_cleanly(task: asyncio.Task[None]) -> None:
    await asyncio.wait({task}, timeout=20)
    assert task.done(), "the sync loop of a deleted mailbox kept running"
    assert not task.cancelled()
    assert task.exception() is None


async def _waiting_on_a_lock(db: AsyncSession) -> bool:
    waiting = await db.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )
    return bool(waiting)


async def _until_blocked(ctx: SyncContext, deletion: asyncio.Task[None]) -> None:
    """Until the deletion waits for the sync's transaction (PostgreSQL: on a row lock)."""
    if BACKEND != "postgres":
        await asyncio.sleep(0.5)  # SQLite: it waits in the busy handler for the write lock
        return

    async def blocked() -> bool:
        assert not deletion.done(), "the deletion did not wait for the sync's transaction"
        async with ctx.sessionmaker() as db:
            return await _waiting_on_a_lock(db)

    await wait_for(blocked, timeout=10)


async def test_a_mailbox_deleted_while_flags_are_written_is_no_deadlock(
    make_settings, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_sync_context(make_settings()) as ctx:
        mailbox, other = await add_mailbox(ctx, dovecot), await add_mailbox(ctx, dovecot)
        _fill(mailbox, 5)
        _fill(other, 5, first=100)
        async with other.syncing():
            await wait_for(lambda: _synced(other, 5))
        before = await account_rows(ctx.sessionmaker, other.account_id)
        # The flag transaction stops after its message updates, before it rebuilds the
        # threads' folder rows (which reference the folder): the moment a deletion that had
        # taken the folder rows, and waited for those messages, used to deadlock with.
        paused, resume = asyncio.Event(), asyncio.Event()
        armed = asyncio.Event()
        refresh_threads = mail_folders.refresh_threads

        async def paused_before_threads(
            db: AsyncSession, thread_ids: Collection[uuid.UUID]
        ) -> None:
            if armed.is_set() and not paused.is_set():
                paused.set()
                await resume.wait()
            await refresh_threads(db, thread_ids)

        monkeypatch.setattr(mail_folders, "refresh_threads", paused_before_threads)
        async with _looping(mailbox) as loop:
            await wait_for(lambda: _synced(mailbox, 5))
            armed.set()
            imap = dovecot.client(mailbox.username)
            imap.select_folder("INBOX")
            imap.add_flags(imap.search(["ALL"]), ["\\Seen"])
            imap.logout()
            async with asyncio.timeout(20):
                await paused.wait()  # IDLE (or the next poll) brings the change
            deletion = asyncio.create_task(_delete_mailbox(ctx, mailbox.account_id))
            await _until_blocked(ctx, deletion)
            resume.set()
            await asyncio.wait({deletion}, timeout=20)
            assert deletion.done(), "the deletion never finished"
            deletion.result()  # PostgreSQL: "deadlock detected" before the fix
            await _ended_cleanly(loop)
        assert nothing(await account_rows(ctx.sessionmaker, mailbox.account_id))
        assert await account_rows(ctx.sessionmaker, other.account_id) == before


async def test_a_mailbox_deleted_mid_sync_stops_its_loop_and_leaves_nothing(
    make_settings, dovecot: Dovecot
) -> None:
    async with open_sync_context(make_settings(sync_batch_size=20)) as ctx:
        mailbox, other = await add_mailbox(ctx, dovecot), await add_mailbox(ctx, dovecot)
        await asyncio.to_thread(_fill, mailbox, 400)
        _fill(other, 5, first=1000)
        async with other.syncing():
            await wait_for(lambda: _synced(other, 5))
        before = await account_rows(ctx.sessionmaker, other.account_id)

        async def under_way() -> bool:
            return await mailbox.count() >= 40

        async with _looping(mailbox) as loop:
            await wait_for(under_way, timeout=60)
            await _delete_mailbox(ctx, mailbox.account_id)
            await _ended_cleanly(loop)
        assert nothing(await account_rows(ctx.sessionmaker, mailbox.account_id))
        assert await account_rows(ctx.sessionmaker, other.account_id) == before
