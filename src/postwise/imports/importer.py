"""Importing mail from files: the import loop over the streaming readers of `readers`.

Readers never hold more than one message in memory (an mbox is read line by line through a
buffered file; a Maildir one file at a time), so a multi-gigabyte Google Takeout file imports in
constant memory. Everything they yield goes through `store_batch`, the same pipeline as IMAP
sync: imported mail is parsed, threaded and stored exactly like synced mail.

Re-running an import never duplicates: a message is skipped when the mailbox already holds one
with the same Message-ID and the same raw bytes (SHA-256) — see `_known_keys`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import ColumnElement

from postwise.accounts.models import AccountKind, MailAccount, SyncState
from postwise.db import bulk_transaction, utcnow
from postwise.events import EventType, announce, request_triage
from postwise.imports.readers import DELIMITER, MailSource, SourceMessage, TargetFolder
from postwise.mail.blobs import BlobStore
from postwise.mail.folders import upsert_folder
from postwise.mail.ingest import IncomingMessage, prepare_all, store_batch
from postwise.mail.models import Folder, Message
from postwise.store import Store
from postwise.worker.queue import JobQueue

# Messages per transaction. On SQLite a batch holds the only write lock from its first insert
# to its commit, and a click may have to wait for it (db_sqlite.WriterLane): 250 held it about
# half as long again (p95 0.8-1.1 s against 0.5-0.8 s on a loaded 2-core machine) for no
# import speed that could be told apart from noise.
IMPORT_BATCH = 100


# --- the import loop ---------------------------------------------------------------------------

IMPORT_ACCOUNT_EMAIL = "imported@postwise.local"
IMPORT_ACCOUNT_NAME = "Imported mail"


class AccountConflictError(Exception):
    """The address belongs to a connected (IMAP) mailbox: imports go to local ones only."""


class MailboxDeletedError(LookupError):
    """The mailbox (or its user) was deleted while the import ran: the import stops there.

    Each batch locks the mailbox row before anything else, as a deletion does, so the deletion
    waits for the batch in progress (committed whole, then deleted with the rest) and the next
    batch finds the row gone."""


@dataclass
class ImportProgress:
    messages: int = 0
    bytes_read: int = 0
    bytes_total: int = 0
    imported: int = 0
    skipped: int = 0
    errors: int = 0
    # Newly imported messages per folder name.
    folders: dict[str, int] = field(default_factory=dict)


ProgressCallback = Callable[[ImportProgress], Awaitable[None]]


async def find_local_account(
    db: AsyncSession, *, user_id: uuid.UUID, email: str
) -> MailAccount | None:
    account = await db.scalar(
        select(MailAccount).where(
            MailAccount.user_id == user_id, MailAccount.email == email.strip().lower()
        )
    )
    if account is not None and account.kind != AccountKind.LOCAL:
        raise AccountConflictError(
            f"{email} is a connected mailbox; import into a local one (another address)"
        )
    return account


async def ensure_local_account(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    email: str,
    display_name: str = IMPORT_ACCOUNT_NAME,
    is_demo: bool = False,
) -> MailAccount:
    """The user's local mailbox with this address, created if missing (the caller commits)."""
    account = await find_local_account(db, user_id=user_id, email=email)
    if account is None:
        account = MailAccount(
            user_id=user_id,
            kind=AccountKind.LOCAL,
            email=email.strip().lower(),
            display_name=display_name,
            sync_state=SyncState.IDLE,
            is_demo=is_demo,
        )
        db.add(account)
        await db.flush()
    return account


def _key(message_id: str | None, sha256: str) -> tuple[str | None, str]:
    return (message_id or None, sha256)


async def _known_keys(
    db: AsyncSession, account_id: uuid.UUID, batch: Sequence[SourceMessage]
) -> set[tuple[str | None, str]]:
    """(Message-ID, SHA-256 of the raw message) already in the mailbox, for this batch.

    The Message-ID narrows the search through the (account_id, message_id) index; the hash
    tells a re-import (same bytes) from a different message reusing an id (a sent copy and the
    received one). Messages without a Message-ID are matched by hash among those without one.
    """
    ids = sorted({m.message_id for m in batch if m.message_id})
    hashes = sorted({m.sha256 for m in batch if not m.message_id})
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(Message.message_id.in_(ids))
    if hashes:
        no_id = or_(Message.message_id.is_(None), Message.message_id == "")
        conditions.append(and_(no_id, Message.raw_sha256.in_(hashes)))
    rows = await db.execute(
        select(Message.message_id, Message.raw_sha256).where(
            Message.account_id == account_id, or_(*conditions)
        )
    )
    return {_key(message_id, digest) for message_id, digest in rows.all()}


async def _folders(
    db: AsyncSession, account: MailAccount, targets: Iterable[TargetFolder]
) -> dict[TargetFolder, Folder]:
    """Get or create the batch's folders. A role already held by another folder is not given
    twice (actions look folders up by role), so the newcomer is then an ordinary folder."""
    existing = list(await db.scalars(select(Folder).where(Folder.account_id == account.id)))
    by_name = {folder.name: folder for folder in existing}
    roles = {folder.role for folder in existing if folder.role}
    result: dict[TargetFolder, Folder] = {}
    for target in targets:
        folder = by_name.get(target.name)
        if folder is None:
            role = target.role if target.role not in roles else None
            folder = upsert_folder(
                db,
                None,
                user_id=account.user_id,
                account_id=account.id,
                name=target.name,
                delimiter=DELIMITER,
                role=role,
                attributes="",
                selectable=True,
            )
            folder.uidvalidity, folder.uidnext = 1, 1
            by_name[target.name] = folder
            roles.add(role or "")
        if folder.uidvalidity is None:
            folder.uidvalidity = 1
        result[target] = folder
    await db.flush()
    return result


# What a committed batch stored, per folder: (folder, message ids, thread ids).
_Stored = list[tuple[Folder, list[int], set[uuid.UUID]]]


async def _import_batch(
    db: AsyncSession,
    *,
    account_id: uuid.UUID,
    batch: Sequence[SourceMessage],
    blobs: BlobStore,
    executor: Executor | None,
    progress: ImportProgress,
) -> _Stored:
    # The row lock serialises imports into one mailbox (PostgreSQL): uids and the duplicate
    # check must not interleave. SQLite has one writer at a time anyway. Taken first, it also
    # orders this batch before or after a deletion of the mailbox (MailboxDeletedError).
    await bulk_transaction(db)
    account = await db.get(MailAccount, account_id, with_for_update=True)
    if account is None:
        raise MailboxDeletedError(f"mailbox {account_id} is gone")
    known = await _known_keys(db, account_id, batch)
    groups: dict[TargetFolder, list[SourceMessage]] = {}
    for item in batch:
        key = _key(item.message_id, item.sha256)
        if key in known:
            progress.skipped += 1
            continue
        known.add(key)  # the same message twice in one batch is a duplicate too
        groups.setdefault(item.folder, []).append(item)
    # Parsed before the first write (a new folder): on SQLite the transaction holds the
    # database's only write lock from then until the commit, and parsing is the slow part.
    parsed = iter(
        await prepare_all(
            [item.raw for items in groups.values() for item in items],
            executor=executor,
            blobs=blobs,
        )
    )
    folders = await _folders(db, account, groups)
    stored: _Stored = []
    for target, items in groups.items():
        folder = folders[target]
        incoming = [
            IncomingMessage(
                uid=folder.uidnext + n,
                raw=item.raw,
                flags=item.flags,
                internal_date=item.internal_date,
                gm_thrid=item.gm_thrid,
            )
            for n, item in enumerate(items)
        ]
        folder.uidnext += len(items)
        result = await store_batch(
            db,
            folder=folder,
            incoming=incoming,
            blobs=blobs,
            executor=executor,
            prepared=[next(parsed) for _ in items],
        )
        progress.imported += len(result.message_ids)
        progress.errors += result.parse_errors
        progress.folders[folder.name] = progress.folders.get(folder.name, 0) + len(incoming)
        stored.append((folder, result.message_ids, result.thread_ids))
    account.last_synced_at = utcnow()
    return stored


async def _announce(store: Store, account_id: uuid.UUID, stored: _Stored) -> None:
    """The same events as IMAP sync, so open clients show imported mail as it lands."""
    for folder, message_ids, thread_ids in stored:
        ids = {"account_id": str(account_id), "folder_id": str(folder.id)}
        threads = {"thread_ids": sorted(map(str, thread_ids))}
        counts = {"folder_id": str(folder.id), "total": folder.total_count}
        counts["unread"] = folder.unread_count
        await announce(
            store, folder.user_id, EventType.MESSAGE_CREATED, {**ids, "message_ids": message_ids}
        )
        await announce(store, folder.user_id, EventType.THREAD_UPDATED, threads)
        await announce(store, folder.user_id, EventType.FOLDER_COUNTS, counts)


def _take(messages: Iterator[SourceMessage], count: int) -> list[SourceMessage]:
    return list(islice(messages, count))


async def import_messages(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    account_id: uuid.UUID,
    source: MailSource,
    blobs: BlobStore,
    executor: Executor | None,
    on_progress: ProgressCallback | None = None,
    store: Store | None = None,
    batch_size: int = IMPORT_BATCH,
    jobs: JobQueue | None = None,
) -> ImportProgress:
    """Import everything `source` yields into the local mailbox `account_id`.

    Unlike a service, this loop owns its transactions: each batch commits on its own, so an
    interrupted import of a multi-gigabyte file keeps what it has done, and re-running it skips
    the committed part (by Message-ID and hash) instead of redoing one huge transaction.
    """
    progress = ImportProgress(bytes_total=source.total_bytes)
    with contextlib.closing(source.messages()) as messages:
        while batch := await asyncio.to_thread(_take, messages, batch_size):
            async with sessionmaker() as db:
                try:
                    stored = await _import_batch(
                        db,
                        account_id=account_id,
                        batch=batch,
                        blobs=blobs,
                        executor=executor,
                        progress=progress,
                    )
                    await db.commit()
                except IntegrityError as error:
                    await _stop_if_deleted(db, account_id, error)
                    raise
            progress.messages += len(batch)
            progress.bytes_read = batch[-1].position
            if store is not None:
                await _announce(store, account_id, stored)
            if jobs is not None:
                for folder, message_ids, _ in stored:
                    if message_ids:
                        await request_triage(jobs, folder.user_id, message_ids)
            if on_progress is not None:
                await on_progress(_snapshot(progress, source, done=False))
    final = _snapshot(progress, source, done=True)
    if on_progress is not None:
        await on_progress(final)
    return final


async def _stop_if_deleted(db: AsyncSession, account_id: uuid.UUID, error: Exception) -> None:
    """SQLite has no row locks: a deletion can commit between a batch's look at the mailbox and
    its first write, which then breaks a foreign key. That is the mailbox gone, not a failure."""
    await db.rollback()
    if await db.scalar(select(MailAccount.id).where(MailAccount.id == account_id)) is None:
        raise MailboxDeletedError(f"mailbox {account_id} is gone") from error


def _snapshot(progress: ImportProgress, source: MailSource, *, done: bool) -> ImportProgress:
    """Progress including what the reader could not read at all (counted as errors)."""
    return ImportProgress(
        messages=progress.messages + source.read_errors,
        bytes_read=source.total_bytes if done else progress.bytes_read,
        bytes_total=progress.bytes_total,
        imported=progress.imported,
        skipped=progress.skipped,
        errors=progress.errors + source.read_errors,
        folders=dict(progress.folders),
    )
