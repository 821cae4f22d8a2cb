"""Syncing one folder: UIDVALIDITY, new mail, the windowed first pass and backfill, flags, expunges.

A folder's progress lives in its row: every UID at or above `uidnext` is unseen, every UID in
[backfill_uid, uidnext) has been handled, UIDs below `backfill_uid` are still to fetch (newest
first). Progress is committed in the same transaction as the messages it covers, so a worker
killed at any point resumes exactly where the database says, without duplicates or gaps.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.db import utcnow
from postwise.events import EventType, announce, request_triage
from postwise.kit.aio import stop_if_cancelled
from postwise.mail.folders import (
    apply_flag_states,
    delete_by_uids,
    drop_folder_messages,
    folder_counts,
    set_folder_state,
)
from postwise.mail.ingest import (
    IncomingMessage,
    Prepared,
    prepare_all,
    refresh_folder_counts,
    store_batch,
)
from postwise.mail.models import Folder, Message
from postwise.sync.context import SyncContext
from postwise.sync.imap import FetchedMessage, FlagState, FolderStatus, ImapSession

log = structlog.get_logger(__name__)

# One prefetched batch: the fetched messages, their parse, and the seconds that took.
_Batch = tuple[list[FetchedMessage], list[Prepared], float]

# The first batch of a folder is small so the newest mail shows within a second or two.
FIRST_BATCH = 50


def _incoming(fetched: FetchedMessage) -> IncomingMessage:
    return IncomingMessage(
        uid=fetched.uid,
        raw=fetched.raw,
        flags=fetched.flags,
        internal_date=fetched.internal_date,
        modseq=fetched.modseq,
        gm_msgid=fetched.gm_msgid,
        gm_thrid=fetched.gm_thrid,
    )


class FolderSync:
    def __init__(self, ctx: SyncContext, imap: ImapSession, folder_id: uuid.UUID) -> None:
        self.ctx = ctx
        self.imap = imap
        self.folder_id = folder_id
        self.batch = ctx.settings.sync_batch_size

    async def _load(self) -> Folder:
        async with self.ctx.sessionmaker() as db:
            folder = await db.get(Folder, self.folder_id)
            if folder is None:
                raise LookupError(f"folder {self.folder_id} is gone")
            db.expunge(folder)
            return folder

    async def select(self) -> FolderStatus:
        folder = await self._load()
        return await asyncio.to_thread(self.imap.select, folder.name)

    # --- UIDVALIDITY and the start of a folder --------------------------------------------------

    async def prepare(self, status: FolderStatus) -> Folder:
        """First sight of the folder, or a UIDVALIDITY change: every old UID is meaningless, so
        the folder's local copy is dropped and it starts again from the top."""
        async with self.ctx.sessionmaker() as db:
            folder = await db.get(Folder, self.folder_id)
            assert folder is not None
            if folder.uidvalidity != status.uidvalidity:
                if folder.uidvalidity is not None:
                    log.warning(
                        "uidvalidity_changed",
                        folder=folder.name,
                        old=folder.uidvalidity,
                        new=status.uidvalidity,
                    )
                    await self._drop_local(db, folder)
                folder.uidvalidity = status.uidvalidity
                folder.uidnext = status.uidnext
                folder.backfill_uid = status.uidnext
                folder.highestmodseq = status.highestmodseq
                await refresh_folder_counts(db, folder)
                await db.commit()
            db.expunge(folder)
            return folder

    async def _drop_local(self, db: AsyncSession, folder: Folder) -> None:
        await drop_folder_messages(db, folder)

    # --- fetching ---------------------------------------------------------------------------

    async def _prefetch(self, uids: Sequence[int]) -> _Batch:
        """Fetch and parse a batch (blobs written); storing it is the next step."""
        began = time.perf_counter()
        fetched = await asyncio.to_thread(self.imap.fetch, uids) if uids else []
        prepared = await prepare_all(
            [f.raw for f in fetched], executor=self.ctx.executor, blobs=self.ctx.blobs
        )
        return fetched, prepared, time.perf_counter() - began

    async def _pipeline(
        self,
        chunks: list[list[int]],
        progress: Callable[[list[int]], dict[str, int]],
        preempt: Callable[[], bool] | None = None,
        *,
        new_mail: bool = False,
    ) -> tuple[int, bool]:
        """Store `chunks` in order while the next one is fetched and parsed: the parse
        processes and the server work while this process writes. Returns (stored, finished);
        `preempt` is asked before each next batch is started."""
        count = 0
        ahead = asyncio.create_task(self._prefetch(chunks[0])) if chunks else None
        try:
            for index, chunk in enumerate(chunks):
                stop_if_cancelled()
                assert ahead is not None
                batch = await ahead
                ahead = None
                last = index + 1 == len(chunks)
                stop = not last and preempt is not None and preempt()
                # The first batch is stored alone: it is the one a user waits for (the newest
                # mail of a new mailbox), and a prefetch would take half its cores.
                if not last and not stop and index > 0:
                    ahead = asyncio.create_task(self._prefetch(chunks[index + 1]))
                count += await self._store(batch, progress(chunk), new_mail=new_mail)
                if not last and not stop and index == 0:
                    ahead = asyncio.create_task(self._prefetch(chunks[1]))
                if stop:
                    return count, False
        finally:
            if ahead is not None:
                ahead.cancel()
                await asyncio.wait({ahead})
        return count, True

    async def _store(self, batch: _Batch, progress: dict[str, int], *, new_mail: bool) -> int:
        """Store a prefetched batch; commit it with `progress` (Folder columns). `new_mail`:
        mail that arrived since the last look (its lag is measured), not the mirror of old mail."""
        fetched, prepared, fetch_seconds = batch
        began = time.perf_counter()
        async with self.ctx.sessionmaker() as db:
            folder = await db.get(Folder, self.folder_id)
            assert folder is not None
            stored = await store_batch(
                db,
                folder=folder,
                incoming=[_incoming(f) for f in fetched],
                blobs=self.ctx.blobs,
                executor=self.ctx.executor,
                prepared=prepared,
            )
            for column, value in progress.items():
                setattr(folder, column, value)
            folder.last_synced_at = utcnow()
            counts = {"folder_id": str(folder.id), "total": 0, "unread": 0}
            await db.commit()
            counts.update(total=folder.total_count, unread=folder.unread_count)
            user_id, account_id = folder.user_id, folder.account_id
        self._measure(fetched, len(stored.message_ids), fetch_seconds, began, new_mail=new_mail)
        if stored.message_ids:
            await announce(
                self.ctx.store,
                user_id,
                EventType.MESSAGE_CREATED,
                {
                    "account_id": str(account_id),
                    "folder_id": str(self.folder_id),
                    "message_ids": stored.message_ids,
                },
            )
            await announce(
                self.ctx.store,
                user_id,
                EventType.THREAD_UPDATED,
                {"thread_ids": sorted(str(t) for t in stored.thread_ids)},
            )
            if self.ctx.jobs is not None:
                await request_triage(self.ctx.jobs, user_id, stored.message_ids)
        await announce(self.ctx.store, user_id, EventType.FOLDER_COUNTS, counts)
        return len(stored.message_ids)

    def _measure(
        self,
        fetched: Sequence[FetchedMessage],
        stored: int,
        fetch_seconds: float,
        began: float,
        *,
        new_mail: bool,
    ) -> None:
        metrics = self.ctx.metrics
        if metrics is None:
            return
        metrics.sync_batch_duration.observe(fetch_seconds + time.perf_counter() - began)
        metrics.sync_messages.inc(stored)
        if new_mail and stored:
            committed = utcnow()
            for message in fetched:
                lag = (committed - message.internal_date).total_seconds()
                # Clocks differ between servers: a date in the future is "no lag".
                metrics.sync_lag.observe(max(0.0, lag))

    async def fetch_new(self, folder: Folder, status: FolderStatus) -> int:
        """Mail that arrived since the last look, oldest first (each batch moves `uidnext`)."""
        if status.uidnext <= folder.uidnext:
            return 0
        uids = await asyncio.to_thread(self.imap.uids_from, folder.uidnext)
        chunks = [uids[i : i + self.batch] for i in range(0, len(uids), self.batch)]
        count, _ = await self._pipeline(
            chunks, lambda chunk: {"uidnext": chunk[-1] + 1}, new_mail=True
        )
        await self._set(uidnext=max(status.uidnext, folder.uidnext))
        return count

    async def fetch_down(
        self,
        folder: Folder,
        *,
        floor: int,
        first_small: bool,
        preempt: Callable[[], bool] | None = None,
    ) -> int:
        """Walk down from `backfill_uid` to `floor`, newest first. `preempt` is asked between
        batches: new mail or a user's action waits for at most one batch of backfill."""
        top = folder.backfill_uid if folder.backfill_uid is not None else folder.uidnext
        floor = max(floor, 1)
        if top <= floor:
            return 0
        uids = await asyncio.to_thread(self.imap.uids_from, floor, top - 1)
        uids.reverse()
        first = FIRST_BATCH if first_small else self.batch
        chunks = [uids[:first]] + [
            uids[i : i + self.batch] for i in range(first, len(uids), self.batch)
        ]
        count, finished = await self._pipeline(
            [c for c in chunks if c], lambda chunk: {"backfill_uid": chunk[-1]}, preempt
        )
        if finished:
            await self._set(backfill_uid=floor)
        return count

    async def window_floor(self, days: int) -> int | None:
        """The lowest UID of mail received in the last `days` days (None: no such mail)."""
        since = (utcnow() - timedelta(days=days)).date()
        uids = await asyncio.to_thread(self.imap.uids_since, since)
        return uids[0] if uids else None

    async def _set(self, **values: int | None) -> None:
        async with self.ctx.sessionmaker() as db:
            await set_folder_state(db, self.folder_id, **values)
            await db.commit()

    # --- flags and expunges -----------------------------------------------------------------

    async def sync_flags(self, folder: Folder, status: FolderStatus, *, full: bool) -> int:
        """CONDSTORE: only what changed since the last HIGHESTMODSEQ; otherwise a full scan of
        the handled range, which the caller schedules less often."""
        low = folder.backfill_uid or 1
        high = folder.uidnext - 1
        if high < low:
            return 0
        if self.imap.condstore and status.highestmodseq is not None:
            if folder.highestmodseq is not None and status.highestmodseq <= folder.highestmodseq:
                return 0
            states = await asyncio.to_thread(
                self.imap.flags, low, high, changed_since=folder.highestmodseq or 0
            )
        elif full:
            states = await asyncio.to_thread(self.imap.flags, low, high)
        else:
            return 0
        changed = await self._apply_flags(folder, states)
        await self._set(highestmodseq=status.highestmodseq)
        return changed

    async def _apply_flags(self, folder: Folder, states: Sequence[FlagState]) -> int:
        if not states:
            return 0
        async with self.ctx.sessionmaker() as db:
            changed_ids = await apply_flag_states(
                db, folder, {s.uid: (s.flags, s.modseq) for s in states}
            )
            await db.commit()
        if changed_ids:
            await announce(
                self.ctx.store,
                folder.user_id,
                EventType.MESSAGE_UPDATED,
                {"folder_id": str(folder.id), "message_ids": changed_ids},
            )
        return len(changed_ids)

    async def sync_expunges(self, folder: Folder, status: FolderStatus) -> int:
        """Messages gone from the server go here too. When the folder is fully fetched and the
        counts agree, nothing can have gone (new mail was fetched first), and the UID list is
        not asked for."""
        low = folder.backfill_uid or 1
        async with self.ctx.sessionmaker() as db:
            local = set(
                (
                    await db.scalars(
                        select(Message.uid).where(
                            Message.folder_id == folder.id,
                            Message.uidvalidity == folder.uidvalidity,
                            Message.uid >= low,
                        )
                    )
                ).all()
            )
        if low <= 1 and len(local) == status.exists:
            return 0
        server = set(await asyncio.to_thread(self.imap.uids_from, low, folder.uidnext - 1))
        gone = local - server
        if gone:
            await self._delete_uids(folder, gone)
        return len(gone)

    async def _delete_uids(self, folder: Folder, uids: set[int]) -> None:
        async with self.ctx.sessionmaker() as db:
            deleted = await delete_by_uids(db, folder, uids)
            await db.commit()
            total, unread = await folder_counts(db, folder.id)
        await announce(
            self.ctx.store,
            folder.user_id,
            EventType.MESSAGE_DELETED,
            {"folder_id": str(folder.id), "message_ids": deleted},
        )
        await announce(
            self.ctx.store,
            folder.user_id,
            EventType.FOLDER_COUNTS,
            {"folder_id": str(folder.id), "total": total, "unread": unread},
        )
