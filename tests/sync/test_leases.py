"""Leases come back to their owner at once: after a restart, and after a database outage.

The owner's name is the process's slot (`postwise.sync.owner`): a restarted process gets the
name of the one that died, and with it that process's leases. Another owner still waits for
them to expire.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from postwise import db as database
from postwise.accounts.models import AccountKind, MailAccount
from postwise.db import utcnow
from postwise.sync.context import SyncContext
from postwise.sync.mailbox import MailboxSync, Signals
from postwise.sync.supervisor import Supervisor
from postwise.users.models import User
from tests import services
from tests.fixtures.dovecot import Dovecot
from tests.sync.conftest import Mailbox, add_mailbox, make_message, open_sync_context, wait_for
from tests.sync.test_worker_process import _start_worker, _worker_env

pytestmark = pytest.mark.backend

OWNER = "host-a:serve-0:installation"


class Idle(MailboxSync):
    """A mailbox loop that holds its lease and does nothing; counts its wake-ups."""

    def __init__(self, ctx: SyncContext, account_id: uuid.UUID) -> None:
        self.ctx, self.account_id, self.signals = ctx, account_id, Signals()
        self.wakes = 0

    async def run(self) -> None:
        while True:
            await self.signals.event.wait()
            self.signals.take()
            self.wakes += 1


class EndsOnce(Idle):
    """Ends at its first run, as a loop that could not reach the database used to."""

    started = 0

    async def run(self) -> None:
        EndsOnce.started += 1
        if EndsOnce.started == 1:
            raise OSError("the database went away")
        await super().run()


@asynccontextmanager
async def _context(make_settings) -> AsyncIterator[tuple[SyncContext, list[uuid.UUID]]]:
    """A sync context (one-minute leases) and two IMAP mailboxes nobody syncs yet."""
    async with open_sync_context(make_settings(sync_lease_seconds=60)) as ctx:
        ids = []
        async with ctx.sessionmaker() as db:
            user = User(email=f"owner-{uuid.uuid4().hex[:8]}@example.test", password_hash="x")
            db.add(user)
            await db.flush()
            for n in range(2):
                account = MailAccount(user_id=user.id, kind=AccountKind.IMAP, email=f"{n}@x.test")
                db.add(account)
                await db.flush()
                ids.append(account.id)
            await db.commit()
        yield ctx, ids


def _killed(supervisor: Supervisor) -> None:
    """SIGKILL, as far as the database can tell: the loops stop, no lease is handed back."""
    for _, task in supervisor.mailboxes.values():
        task.cancel()


async def _stop(*supervisors: Supervisor) -> None:
    for supervisor in supervisors:
        await supervisor.stop()


async def test_a_restarted_owner_takes_its_leases_back_at_once(
    make_settings, empty_database: None
) -> None:
    async with _context(make_settings) as (ctx, ids):
        first = Supervisor(ctx, worker_id=OWNER, mailbox_factory=Idle)
        await first.tick()
        assert set(first.mailboxes) == set(ids)
        _killed(first)
        again = Supervisor(ctx, worker_id=OWNER, mailbox_factory=Idle)
        try:
            await again.tick()
            assert set(again.mailboxes) == set(ids)  # not a minute later
        finally:
            await _stop(again)


async def test_a_restarted_owner_hands_back_what_exceeds_its_share_at_once(
    make_settings, empty_database: None
) -> None:
    async with _context(make_settings) as (ctx, ids):
        first = Supervisor(ctx, worker_id=OWNER, mailbox_factory=Idle)
        await first.tick()
        _killed(first)
        other = Supervisor(ctx, worker_id="host-b:worker-0:installation", mailbox_factory=Idle)
        await other.tick()  # announces itself; nothing is free yet
        again = Supervisor(ctx, worker_id=OWNER, mailbox_factory=Idle)
        try:
            await again.tick()  # two live workers: a share of one, the other lease goes back
            assert len(again.mailboxes) == 1
            await other.tick()
            assert set(again.mailboxes) | set(other.mailboxes) == set(ids)
        finally:
            await _stop(again, other)


async def test_another_owner_still_waits_for_the_leases_to_expire(
    make_settings, empty_database: None
) -> None:
    async with _context(make_settings) as (ctx, _ids):
        first = Supervisor(ctx, worker_id=OWNER, mailbox_factory=Idle)
        await first.tick()
        _killed(first)
        other = Supervisor(ctx, worker_id="host-b:worker-0:installation", mailbox_factory=Idle)
        try:
            await other.tick()
            assert other.mailboxes == {}
            async with ctx.sessionmaker() as db:
                await db.execute(
                    update(MailAccount).values(lease_until=utcnow() - timedelta(seconds=1))
                )
                await db.commit()
            await other.tick()
            assert other.mailboxes
        finally:
            await _stop(other)


async def test_a_loop_that_ended_is_claimed_again_at_the_next_tick(
    make_settings, empty_database: None
) -> None:
    EndsOnce.started = 0
    async with _context(make_settings) as (ctx, ids):
        supervisor = Supervisor(ctx, worker_id=OWNER, mailbox_factory=EndsOnce)
        try:
            await supervisor.tick()
            await asyncio.sleep(0.1)  # one of the loops ends
            await supervisor.tick()  # reaped, and claimed again: the lease is still ours
            assert set(supervisor.mailboxes) == set(ids)
            assert all(not task.done() for _, task in supervisor.mailboxes.values())
        finally:
            await _stop(supervisor)


def _unreachable(ctx: SyncContext, folder: Path) -> SyncContext:
    """The same context on a database that cannot be opened: an outage."""
    url = f"sqlite+aiosqlite:///{folder / 'missing' / 'postwise.db'}"
    engine = database.create_engine(ctx.settings, url=url)
    return replace(ctx, sessionmaker=database.create_sessionmaker(engine))


async def test_a_mailbox_loop_outlives_a_database_outage(
    sync_context: SyncContext, tmp_path: Path
) -> None:
    mailbox = MailboxSync(_unreachable(sync_context, tmp_path), uuid.uuid4())
    loop = asyncio.create_task(mailbox.run())
    try:
        await asyncio.sleep(2)  # a few failed rounds
        assert not loop.done(), loop.exception() if loop.done() else None
    finally:
        loop.cancel()
        await asyncio.wait({loop})


async def test_a_supervisor_that_recovers_wakes_its_loops(
    make_settings, empty_database: None
) -> None:
    async with _context(make_settings) as (ctx, _ids):
        supervisor = Supervisor(ctx, worker_id=OWNER, mailbox_factory=Idle)
        await supervisor.tick()
        loops = [mailbox for mailbox, _ in supervisor.mailboxes.values()]
        failed = asyncio.Event()

        def unreachable() -> AsyncSession:
            failed.set()
            raise OSError("the database went away")

        supervisor.ctx = replace(ctx, sessionmaker=unreachable)
        runner = asyncio.create_task(supervisor.run())
        try:
            async with asyncio.timeout(10):
                await failed.wait()  # a tick failed (raising in the same step as this call)
            supervisor.ctx = ctx
            supervisor.wake("no-such-mailbox")  # tick now

            async def woken() -> bool:
                return all(isinstance(m, Idle) and m.wakes for m in loops)

            await wait_for(woken, timeout=10)
        finally:
            runner.cancel()
            await asyncio.wait({runner})


# --- the real thing ------------------------------------------------------------------------


async def test_a_worker_killed_and_restarted_resumes_its_mailbox_at_once(
    make_settings, dovecot: Dovecot, tmp_path: Path, empty_database: None
) -> None:
    redis = services.require_redis()
    settings = make_settings(redis_url=redis, blob_dir=tmp_path / "blobs")
    async with open_sync_context(settings) as ctx:
        mailbox = await add_mailbox(ctx, dovecot)
        imap = dovecot.client(mailbox.username)
        for n in range(400):
            imap.append("INBOX", make_message(n)[0])
        imap.logout()
        # A lease far longer than the test may wait: only its own name brings it back.
        env = {**_worker_env(settings, tmp_path), "POSTWISE_SYNC_LEASE_SECONDS": "120"}
        log = tmp_path / "worker.log"
        first = _start_worker(env, log)
        try:
            await wait_for(lambda: _more_than(mailbox, 30), timeout=60)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            stopped_at = await mailbox.count()
            assert stopped_at < 400, "the sync finished before the kill: nothing was tested"
            second = _start_worker(env, log)
            try:
                await wait_for(lambda: _more_than(mailbox, stopped_at), timeout=30)
            finally:
                second.send_signal(signal.SIGTERM)
                second.wait(timeout=45)  # past the worker's own stop bounds (10 s + 15 s)
        finally:
            if first.poll() is None:
                first.kill()


async def _more_than(mailbox: Mailbox, count: int) -> bool:
    return await mailbox.count() > count
