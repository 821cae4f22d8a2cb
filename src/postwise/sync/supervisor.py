"""Which worker syncs which mailbox: leases in the database, a fair share each, takeover.

Each mailbox row carries a lease (owner + expiry). A supervisor claims free or expired leases
with a compare-and-set UPDATE, renews its own at a third of the lease time and stops a mailbox
the moment a renewal fails. Workers announce themselves in the Store, so each can take its fair
share (mailboxes ÷ live workers) and hand back the excess when another worker joins. A worker
that dies simply stops renewing: its mailboxes are free once their leases run out.

A lease held under this supervisor's own name is always its to take: the name is the process's
slot (`owner.py`), so a restarted process, or one whose mailbox loop ended while the database
was away, resumes its mailboxes at once instead of waiting for its own leases to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import Callable
from datetime import timedelta

import structlog
from sqlalchemy import and_, case, func, or_, select, update

from postwise.accounts.models import AccountKind, MailAccount
from postwise.db import affected_rows, utcnow
from postwise.kit.aio import wait_event
from postwise.sync.context import SyncContext
from postwise.sync.control import WAKE_CHANNEL
from postwise.sync.control import wake as wake_supervisors
from postwise.sync.mailbox import MailboxSync
from postwise.sync.owner import random_owner

log = structlog.get_logger(__name__)
WORKERS_KEY = "sync:workers"
WORKER_KEY = "sync:worker:"


class Supervisor:
    def __init__(
        self,
        ctx: SyncContext,
        *,
        worker_id: str | None = None,
        mailbox_factory: Callable[[SyncContext, uuid.UUID], MailboxSync] = MailboxSync,
    ) -> None:
        self.ctx = ctx
        self.worker_id = worker_id or random_owner()
        self.lease = timedelta(seconds=ctx.settings.sync_lease_seconds)
        self.mailboxes: dict[uuid.UUID, tuple[MailboxSync, asyncio.Task[None]]] = {}
        self._factory = mailbox_factory
        self._tick = asyncio.Event()

    # --- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen())
        failing = False
        try:
            while True:
                try:
                    await self.tick()
                except Exception:
                    failing = True
                    log.exception("supervisor_tick_failed", worker=self.worker_id)
                else:
                    if failing:
                        # The database (or Store) is back: loops waiting out a reconnect
                        # backoff after the outage retry now rather than minutes later.
                        failing = False
                        self.wake_all()
                await wait_event(self._tick, self.lease.total_seconds() / 3)
                self._tick.clear()
        finally:
            listener.cancel()
            await self.stop()

    async def stop(self) -> None:
        """Stop every mailbox and hand the leases back so another worker starts at once."""
        tasks = [task for _, task in self.mailboxes.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        ids = list(self.mailboxes)
        self.mailboxes.clear()
        if ids:
            with contextlib.suppress(Exception):
                await self._release(ids)
        with contextlib.suppress(Exception):
            await self.ctx.store.srem(WORKERS_KEY, self.worker_id)
            await self.ctx.store.delete(WORKER_KEY + self.worker_id)
        # Then wake the other supervisors (once out of the worker set, so that their fair share
        # no longer counts this one): else they claim the freed mailboxes only at their next
        # tick, up to a third of the lease later (20 s by default).
        with contextlib.suppress(Exception):
            for account_id in ids:
                await wake_supervisors(self.ctx.store, account_id)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.ctx.store.subscribe(WAKE_CHANNEL) as messages:
                    async for message in messages:
                        self.wake(message.data)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("wake_channel_lost", error=str(error))
                await asyncio.sleep(1)

    def wake(self, account_id: str) -> None:
        with contextlib.suppress(ValueError):
            held = self.mailboxes.get(uuid.UUID(account_id))
            if held is not None:
                held[0].signals.wake()
                return
        self._tick.set()  # maybe a new mailbox: look for leases now

    def wake_all(self) -> None:
        for mailbox, _ in self.mailboxes.values():
            mailbox.signals.wake()

    async def tick(self) -> None:
        await self._announce_self()
        await self._renew()
        self._reap()
        await self._rebalance()

    # --- leases -------------------------------------------------------------------------------

    async def _announce_self(self) -> None:
        ttl = self.lease.total_seconds()
        await self.ctx.store.set(WORKER_KEY + self.worker_id, "1", ttl=ttl)
        await self.ctx.store.sadd(WORKERS_KEY, self.worker_id)

    async def live_workers(self) -> int:
        members = await self.ctx.store.smembers(WORKERS_KEY)
        alive = 0
        for member in members:
            if await self.ctx.store.get(WORKER_KEY + member) is not None:
                alive += 1
            else:
                await self.ctx.store.srem(WORKERS_KEY, member)
        return max(alive, 1)

    async def _renew(self) -> None:
        if not self.mailboxes:
            return
        until = utcnow() + self.lease
        async with self.ctx.sessionmaker() as db:
            for account_id in list(self.mailboxes):
                result = await db.execute(
                    update(MailAccount)
                    .where(MailAccount.id == account_id, MailAccount.lease_owner == self.worker_id)
                    .values(lease_until=until)
                    .execution_options(synchronize_session=False)
                )
                if affected_rows(result) != 1:
                    log.warning("lease_lost", account=str(account_id), worker=self.worker_id)
                    self._stop_mailbox(account_id)
            await db.commit()

    def _reap(self) -> None:
        """A mailbox loop that ended (account deleted) gives its slot back."""
        for account_id, (_, task) in list(self.mailboxes.items()):
            if task.done():
                self.mailboxes.pop(account_id)
                if not task.cancelled() and task.exception() is not None:
                    log.error(
                        "mailbox_crashed", account=str(account_id), error=str(task.exception())
                    )

    async def _rebalance(self) -> None:
        async with self.ctx.sessionmaker() as db:
            total = await db.scalar(
                select(func.count())
                .select_from(MailAccount)
                .where(MailAccount.kind == AccountKind.IMAP)
            )
        share = math.ceil((total or 0) / await self.live_workers())
        held = len(self.mailboxes)
        if held > share:
            # Another worker joined: hand back the excess; it claims them on its next tick.
            extra = list(self.mailboxes)[share:]
            for account_id in extra:
                self._stop_mailbox(account_id)
            await self._release(extra)
        elif held < share:
            for account_id in await self._claim(share - held):
                mailbox = self._factory(self.ctx, account_id)
                self.mailboxes[account_id] = (mailbox, asyncio.create_task(mailbox.run()))
                log.info("mailbox_claimed", account=str(account_id), worker=self.worker_id)
        # Leases under our name that no loop of ours runs (a restarted process found more than
        # its share): handed back now rather than left to expire.
        await self._release_idle()

    async def _claim(self, wanted: int) -> list[uuid.UUID]:
        now = utcnow()
        mine = MailAccount.lease_owner == self.worker_id
        # Free, expired, or already ours: held under our name by a process that died (we
        # hold its slot now) or by a loop of ours that ended (the database went away).
        free = or_(MailAccount.lease_owner.is_(None), MailAccount.lease_until < now, mine)
        running = list(self.mailboxes)
        claimed: list[uuid.UUID] = []
        async with self.ctx.sessionmaker() as db:
            candidates = (
                await db.scalars(
                    select(MailAccount.id)
                    .where(MailAccount.kind == AccountKind.IMAP, free)
                    .where(MailAccount.id.not_in(running))
                    .order_by(
                        case((mine, 0), else_=1),
                        MailAccount.lease_until.is_not(None),
                        MailAccount.created_at,
                    )
                    .limit(wanted)
                )
            ).all()
            for account_id in candidates:
                # Compare-and-set: of two workers reaching for one mailbox, one wins.
                result = await db.execute(
                    update(MailAccount)
                    .where(and_(MailAccount.id == account_id, free))
                    .values(lease_owner=self.worker_id, lease_until=now + self.lease)
                    .execution_options(synchronize_session=False)
                )
                if affected_rows(result) == 1:
                    claimed.append(account_id)
            await db.commit()
        return claimed

    async def _release(self, account_ids: list[uuid.UUID]) -> None:
        async with self.ctx.sessionmaker() as db:
            await db.execute(
                update(MailAccount)
                .where(MailAccount.id.in_(account_ids), MailAccount.lease_owner == self.worker_id)
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            await db.commit()

    async def _release_idle(self) -> None:
        # Looked up first: on SQLite even an UPDATE that matches nothing takes the write lock.
        async with self.ctx.sessionmaker() as db:
            idle = (
                await db.scalars(
                    select(MailAccount.id).where(
                        MailAccount.lease_owner == self.worker_id,
                        MailAccount.id.not_in(list(self.mailboxes)),
                    )
                )
            ).all()
        if idle:
            await self._release(list(idle))

    def _stop_mailbox(self, account_id: uuid.UUID) -> None:
        held = self.mailboxes.pop(account_id, None)
        if held is not None:
            held[1].cancel()
