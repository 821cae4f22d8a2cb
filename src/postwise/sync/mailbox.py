"""One mailbox's sync loop: connect, mirror every folder, then stay current with IDLE and polls.

Order of work: the inbox first, newest first, within the sync window; then the other folders'
windows; then backfill of older mail in the background, one batch at a time so that new mail
(announced by IDLE on a second connection) and the user's actions always come first.
Errors reconnect with exponential backoff and jitter; the state and last error are visible in
the API. Every transaction of the loop share-locks the account row first (`guard`), so deleting
the mailbox while it syncs waits for the batch in progress and then ends the loop.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field, replace

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.connection import ConnectionProblem, ImapLogin, ServerEndpoint
from postwise.accounts.credentials import open_password
from postwise.accounts.models import AccountKind, MailAccount, Security, SyncState
from postwise.db import is_database_unavailable, utcnow
from postwise.events import EventType, announce
from postwise.kit.aio import stop_if_cancelled, wait_event
from postwise.mail.folders import remove_folder, upsert_folder
from postwise.mail.models import Folder
from postwise.notifications.tasks import announce_created, on_sync_state
from postwise.sync.context import SyncContext
from postwise.sync.folders import FolderSync
from postwise.sync.guard import MailboxGone, account_sessionmaker
from postwise.sync.imap import ImapError, ImapSession, RemoteFolder
from postwise.sync.writeback import write_back

log = structlog.get_logger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 300.0
_jitter = random.Random()  # noqa: S311 (spreads retries; nothing secret depends on it)
# How long one IDLE check blocks its thread: also how quickly a cancelled loop lets go.
IDLE_TICK_S = 1.0
ROLE_ORDER = {"inbox": 0, "sent": 1, "drafts": 2, "archive": 3}


__all__ = ["MailboxGone", "MailboxSync", "reconnect_delay"]


def reconnect_delay(failures: int, *, rng: random.Random = _jitter) -> float:
    """Seconds to wait before reconnecting after `failures` failures in a row (0: the first).

    Exponential (1 s doubling to 5 min) with full jitter: a random point between half a second
    and the exponential ceiling. Without the jitter every mailbox of a server that went down
    retried in lockstep, and all of them reconnected at the same moment when it came back."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** min(failures, 32))
    return rng.uniform(BACKOFF_FIRST_S / 2, ceiling)


@dataclass
class Signals:
    """Why the loop should look again: new inbox mail (IDLE) or a wake-up from elsewhere."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    inbox: bool = False
    everything: bool = False

    def inbox_changed(self) -> None:
        self.inbox = True
        self.event.set()

    def wake(self) -> None:
        self.everything = True
        self.event.set()

    def pending(self) -> bool:
        return self.inbox or self.everything

    def take(self) -> tuple[bool, bool]:
        inbox, everything = self.inbox, self.everything
        self.inbox = self.everything = False
        self.event.clear()
        return inbox, everything


def _order(folder: Folder) -> tuple[int, str]:
    return (ROLE_ORDER.get(folder.role or "", 9 if folder.role == "all" else 5), folder.name)


class MailboxSync:
    def __init__(self, ctx: SyncContext, account_id: uuid.UUID) -> None:
        self._plain = ctx.sessionmaker
        # Every transaction of this loop (folders, batches, write-back) takes the account row
        # first: a deletion waits for the one in progress and the next one stops the loop.
        self.ctx = replace(ctx, sessionmaker=account_sessionmaker(ctx.sessionmaker, account_id))
        self.account_id = account_id
        self.signals = Signals()
        self.window_done: set[uuid.UUID] = set()

    async def run(self) -> None:
        """Until cancelled (lease lost, shutdown) or the account is gone."""
        failures = 0
        while True:
            stop_if_cancelled()
            try:
                await self._connected()
            except MailboxGone:
                return
            except Exception as error:
                # Whatever went wrong, the mailbox is retried later rather than abandoned;
                # an account deleted meanwhile (rows vanishing under a batch) ends the loop.
                if await self._gone():
                    return
                await self._report(error)
                # A wake-up (the supervisor's, when the database is back) retries at once.
                await wait_event(self.signals.event, reconnect_delay(failures))
                failures += 1
            else:
                failures = 0

    async def _gone(self) -> bool:
        """True only when the database says so. Not knowing (the database is unreachable) is
        not "gone": the loop must outlive an outage, or its lease would sit unused until it
        expired."""
        try:
            async with self._plain() as db:
                return await db.get(MailAccount, self.account_id) is None
        except Exception as error:
            log.info("mailbox_check_failed", account=str(self.account_id), error=str(error))
            return False

    async def _report(self, error: Exception) -> None:
        if isinstance(error, ImapError | ConnectionProblem | OSError):
            code = getattr(error, "code", "connection_lost")
            log.warning("mailbox_sync_failed", account=str(self.account_id), error=str(error))
        elif is_database_unavailable(error):
            code = "database_unavailable"
            log.warning("mailbox_sync_failed", account=str(self.account_id), error=str(error))
        else:
            code = "internal_error"
            log.exception("mailbox_sync_crashed", account=str(self.account_id))
        if self.ctx.metrics is not None:
            self.ctx.metrics.sync_errors.labels(code=code).inc()
        try:
            await self._state(SyncState.ERROR, error=str(error)[:500], code=code)
        except MailboxGone:
            pass  # the next round ends the loop
        except Exception as failed:
            # The database is down too: the state is written on the next round.
            log.info("mailbox_state_not_saved", account=str(self.account_id), error=str(failed))

    async def _login(self) -> ImapLogin:
        async with self.ctx.sessionmaker() as db:
            account = await db.get(MailAccount, self.account_id)
            if account is None or account.kind != AccountKind.IMAP or not account.credentials:
                raise MailboxGone()
            return ImapLogin(
                endpoint=ServerEndpoint(
                    host=account.imap_host,
                    port=account.imap_port,
                    security=Security(account.imap_security),
                ),
                username=account.username,
                password=open_password(self.ctx.keyring, account.credentials),
            )

    async def _open(self, login: ImapLogin) -> ImapSession:
        return await asyncio.to_thread(
            ImapSession.open,
            login,
            timeout=self.ctx.settings.mail_connect_timeout,
            ssl_context=self.ctx.ssl_context,
            policy=self.ctx.settings.mail_host_policy,
        )

    async def _connected(self) -> None:
        login = await self._login()
        imap = await self._open(login)
        idle: asyncio.Task[None] | None = None
        try:
            await self._state(SyncState.SYNCING)
            await asyncio.to_thread(self._remember_capabilities, imap)
            folders = await self._sync_folder_list(imap)
            await write_back(self.ctx, imap, self.account_id)
            await self._windows(imap, folders)
            await self._state(SyncState.IDLE, synced=True)
            inbox = next((f for f in folders if f.role == "inbox"), None)
            if inbox is not None and "IDLE" in imap.capabilities:
                idle = asyncio.create_task(self._idle(login, inbox.name))
            await self._stay_current(imap, folders)
        finally:
            if idle is not None:
                idle.cancel()
                await asyncio.wait({idle})
            await asyncio.to_thread(imap.close)

    def _remember_capabilities(self, imap: ImapSession) -> None:
        self._capabilities = " ".join(sorted(imap.capabilities))

    async def _stay_current(self, imap: ImapSession, folders: list[Folder]) -> None:
        poll = self.ctx.settings.sync_poll_seconds
        next_poll = time.monotonic() + poll
        while True:
            stop_if_cancelled()
            backfilled = await self._backfill_step(imap, folders)
            if not backfilled:
                timeout = max(0.0, next_poll - time.monotonic())
                await wait_event(self.signals.event, timeout)
            inbox_only, everything = self.signals.take()
            if time.monotonic() >= next_poll:
                everything = True
                next_poll = time.monotonic() + poll
            if everything:
                # A poll or a wake-up ("sync now", a local action) looks at everything,
                # folders created or deleted elsewhere included.
                folders = await self._sync_folder_list(imap)
                await write_back(self.ctx, imap, self.account_id)
                for folder in folders:
                    await self._sync_folder(imap, folder, full_flags=True)
                await self._state(SyncState.IDLE, synced=True)
            elif inbox_only:
                for folder in folders:
                    if folder.role == "inbox":
                        await self._sync_folder(imap, folder, full_flags=False)

    async def _sync_folder(self, imap: ImapSession, folder: Folder, *, full_flags: bool) -> None:
        sync = FolderSync(self.ctx, imap, folder.id)
        status = await sync.select()
        current = await sync.prepare(status)
        await sync.fetch_new(current, status)
        current = await sync._load()
        await sync.sync_flags(current, status, full=full_flags)
        await sync.sync_expunges(current, status)

    async def _windows(self, imap: ImapSession, folders: list[Folder]) -> None:
        """Each folder's recent mail, the inbox first; older mail waits for the backfill."""
        days = await self._window_days()
        for folder in folders:
            await self._sync_folder(imap, folder, full_flags=False)
            if folder.id in self.window_done:
                continue
            sync = FolderSync(self.ctx, imap, folder.id)
            current = await sync._load()
            floor = await sync.window_floor(days)
            if floor is not None:
                await sync.fetch_down(
                    current, floor=floor, first_small=folder.role == "inbox", preempt=None
                )
            self.window_done.add(folder.id)

    async def _backfill_step(self, imap: ImapSession, folders: list[Folder]) -> bool:
        """Backfill the first folder that still has older mail; False when all are done."""
        for folder in folders:
            sync = FolderSync(self.ctx, imap, folder.id)
            current = await sync._load()
            if current.backfill_uid is not None and current.backfill_uid > 1:
                await asyncio.to_thread(imap.select, current.name)
                await sync.fetch_down(
                    current, floor=1, first_small=False, preempt=self.signals.pending
                )
                return True
        return False

    async def _window_days(self) -> int:
        async with self.ctx.sessionmaker() as db:
            account = await db.get(MailAccount, self.account_id)
            if account is None:
                raise MailboxGone()
            return account.sync_window_days

    async def _sync_folder_list(self, imap: ImapSession) -> list[Folder]:
        remote = await asyncio.to_thread(imap.list_folders)
        async with self.ctx.sessionmaker() as db:
            account = await db.get(MailAccount, self.account_id)
            if account is None:
                raise MailboxGone()
            account.capabilities = getattr(self, "_capabilities", account.capabilities)
            local = {
                f.name: f
                for f in (
                    await db.scalars(select(Folder).where(Folder.account_id == self.account_id))
                ).all()
            }
            seen = set()
            for item in remote:
                seen.add(item.name)
                self._upsert_folder(db, account, local.get(item.name), item)
            for name, folder in local.items():
                if name not in seen:
                    await remove_folder(db, folder)  # gone on the server, and its messages
            await db.commit()
            rows = (
                await db.scalars(
                    select(Folder).where(
                        Folder.account_id == self.account_id, Folder.selectable.is_(True)
                    )
                )
            ).all()
            for row in rows:
                db.expunge(row)
        return sorted(rows, key=_order)

    @staticmethod
    def _upsert_folder(
        db: AsyncSession, account: MailAccount, folder: Folder | None, item: RemoteFolder
    ) -> None:
        upsert_folder(
            db,
            folder,
            user_id=account.user_id,
            account_id=account.id,
            name=item.name,
            delimiter=item.delimiter,
            role=item.role,
            attributes=" ".join(item.attributes),
            selectable=item.selectable,
        )

    async def _idle(self, login: ImapLogin, inbox: str) -> None:
        """A second connection IDLEs on the inbox and pokes the loop when anything happens;
        re-issued before servers drop it, reconnected with backoff when it breaks."""
        failures = 0
        while True:
            try:
                imap = await self._open(login)
            except (ConnectionProblem, ImapError, OSError):
                await asyncio.sleep(reconnect_delay(failures))
                failures += 1
                continue
            idling = False
            try:
                await asyncio.to_thread(imap.select, inbox)
                failures = 0
                if self.ctx.metrics is not None:
                    self.ctx.metrics.sync_idle_connections.inc()
                    idling = True
                # Mail that arrived before this IDLE began (while connecting, or while the
                # connection was down) is never announced by it: look once now.
                self.signals.inbox_changed()
                while True:
                    stop_if_cancelled()
                    await asyncio.to_thread(imap.idle_start)
                    started = time.monotonic()
                    while time.monotonic() - started < self.ctx.settings.sync_idle_seconds:
                        if await asyncio.to_thread(imap.idle_wait, IDLE_TICK_S):
                            # The loop looks on its own connection: it need not wait for
                            # this one's DONE round trip (bench/push: Postwise's share).
                            self.signals.inbox_changed()
                            break
                    await asyncio.to_thread(imap.idle_done)
            except ImapError as error:
                log.info("idle_reconnect", account=str(self.account_id), error=str(error))
                await asyncio.sleep(reconnect_delay(failures))
                failures += 1
            finally:
                if idling and self.ctx.metrics is not None:
                    self.ctx.metrics.sync_idle_connections.dec()
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Stopping: the thread in the IDLE check would hold the connection until
                    # its tick ends (up to IDLE_TICK_S, every stop and shutdown); an IDLE
                    # needs no goodbye, so cut it and let the thread go now.
                    imap.interrupt()
                await asyncio.to_thread(imap.close)

    async def _state(
        self,
        state: SyncState,
        *,
        error: str | None = None,
        code: str | None = None,
        synced: bool = False,
    ) -> None:
        async with self.ctx.sessionmaker() as db:
            account = await db.get(MailAccount, self.account_id)
            if account is None:
                raise MailboxGone()
            if state is SyncState.SYNCING and account.last_synced_at is None:
                state = SyncState.INITIAL
            changed = account.sync_state != state or error is not None
            previous = account.sync_state, account.last_error_code
            account.sync_state = state
            if state is not SyncState.ERROR:
                account.last_error = None
                account.last_error_code = None
            else:
                account.last_error = error
                account.last_error_code = code
            if synced:
                account.last_synced_at = utcnow()
            user_id = account.user_id
            notification = await on_sync_state(
                db, account, previous_state=previous[0], previous_code=previous[1]
            )
            await db.commit()
        if changed:
            await announce(
                self.ctx.store,
                user_id,
                EventType.SYNC_STATUS,
                {"account_id": str(self.account_id), "state": state.value, "error": error},
            )
        if notification is not None:
            await announce_created(self.ctx.store, user_id, notification)
