"""Storing a batch of fetched messages: blobs, rows, attachments, threads, folder counts.

Idempotent by construction: rows are keyed by (folder, uidvalidity, uid) and a batch skips the
keys it already has, so a batch replayed after a crash (progress is committed with the batch,
but the crash may fall between the server's answer and the commit) adds nothing twice.
Used by IMAP sync and by the importers (whose local mailboxes number their own uids).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.db import bulk_transaction, utcnow
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Attachment, Folder, Message
from postwise.mail.thread_store import assign_threads_with_changes, refresh_threads
from postwise.mime.parse import Address, ParsedMessage, parse_message

SYSTEM_FLAGS = {"\\seen", "\\flagged", "\\answered", "\\draft", "\\recent"}
# Threads of a parse process that flush its blobs to disk (they mostly wait on the disk).
_FLUSH_THREADS = 4


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message as the server (or an import file) gave it, before parsing."""

    uid: int
    raw: bytes
    flags: tuple[str, ...]
    internal_date: datetime
    modseq: int | None = None
    gm_msgid: int | None = None
    gm_thrid: int | None = None


@dataclass(frozen=True, slots=True)
class StoredBatch:
    message_ids: list[int]
    thread_ids: set[uuid.UUID]
    parse_errors: int


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed message whose raw bytes and attachments are already in the blob store.

    Attachment contents are dropped once stored, so only metadata crosses back from the
    parse process."""

    parsed: ParsedMessage
    raw_sha256: str
    part_sha256: tuple[str, ...]
    part_sizes: tuple[int, ...]


def prepare_chunk(raws: list[bytes], blob_root: str, durable: bool = False) -> list[Prepared]:
    """Parse and store blobs; runs in a parse process, which already holds the bytes, so the
    hashing and writing cost the sync loop nothing.

    With `durable`, threads flush each blob the chunk names to disk (written here or found
    already stored, perhaps by a writer that has not flushed it yet) while the next messages
    are parsed, so the disk's time hides behind the parsing. Done after the batch instead, in
    the parent (`BlobStore.make_durable` over the digests), the same fsyncs added about
    0.3 ms per message to the batch; `os.sync()`, used before, flushed every file system of
    the machine."""
    blobs = BlobStore(Path(blob_root), fsync=False)
    flushing = ThreadPoolExecutor(_FLUSH_THREADS) if durable else None
    flushed: list[Future[None]] = []
    prepared = []
    try:
        for raw in raws:
            parsed = parse_message(raw)
            parts = parsed.attachments
            item = Prepared(
                parsed=replace(parsed, attachments=[replace(a, content=b"") for a in parts]),
                raw_sha256=blobs.put(raw),
                part_sha256=tuple(blobs.put(a.content) for a in parts),
                part_sizes=tuple(len(a.content) for a in parts),
            )
            prepared.append(item)
            if flushing is not None:
                for digest in (item.raw_sha256, *item.part_sha256):
                    flushed.append(flushing.submit(blobs.flush, digest))
        for future in flushed:
            future.result()
    finally:
        if flushing is not None:
            flushing.shutdown(cancel_futures=True)
    return prepared


async def prepare_all(
    raws: Sequence[bytes], *, executor: Executor | None, blobs: BlobStore
) -> list[Prepared]:
    """Parse in the process pool when there is one: MIME parsing is CPU-bound Python, and one
    core cannot parse as fast as Dovecot serves. The blobs are durable on return: the parse
    processes flushed every blob the batch names, written or found already stored (by a writer
    that may not have flushed it yet), before returning."""
    root = str(blobs.root)
    if executor is None or len(raws) < 4:
        prepared = await asyncio.to_thread(prepare_chunk, list(raws), root, blobs.durable)
    else:
        loop = asyncio.get_running_loop()
        # A few chunks per process: fewer round trips than one task per message, and still
        # balanced when message sizes differ.
        size = max(1, len(raws) // 8)
        parts = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
        results = await asyncio.gather(
            *(
                loop.run_in_executor(executor, prepare_chunk, part, root, blobs.durable)
                for part in parts
            )
        )
        prepared = [item for part in results for item in part]
    return prepared


def flag_columns(flags: Sequence[str]) -> dict[str, object]:
    lowered = {flag.lower() for flag in flags}
    return {
        "is_read": "\\seen" in lowered,
        "is_starred": "\\flagged" in lowered,
        "is_answered": "\\answered" in lowered,
        "is_draft": "\\draft" in lowered,
        "keywords": sorted(f for f in flags if f.lower() not in SYSTEM_FLAGS),
    }


def _addresses(items: Sequence[Address]) -> list[dict[str, str]]:
    return [{"name": a.name, "address": a.address} for a in items]


async def _existing_uids(db: AsyncSession, folder: Folder, uids: Sequence[int]) -> set[int]:
    rows = await db.scalars(
        select(Message.uid).where(
            Message.folder_id == folder.id,
            Message.uidvalidity == folder.uidvalidity,
            Message.uid.in_(uids),
        )
    )
    return set(rows.all())


@dataclass(frozen=True, slots=True)
class _Adopted:
    uids: set[int]
    thread_ids: set[uuid.UUID]


async def _adopt_moved(
    db: AsyncSession, folder: Folder, fresh: list[IncomingMessage], prepared: list[Prepared]
) -> _Adopted:
    """A message moved here locally waits with a negative uid until the server's copy shows
    up; give it the real uid instead of storing the message a second time. The server's flags
    come with it (the message may have been read elsewhere meanwhile), so its thread's
    summary and folder rows are refreshed too."""
    waiting = (
        await db.execute(
            select(Message.id, Message.message_id, Message.thread_id).where(
                Message.folder_id == folder.id, Message.uid < 0
            )
        )
    ).all()
    adopted = _Adopted(set(), set())
    if not waiting:
        return adopted
    by_msgid: dict[str, list[tuple[int, uuid.UUID | None]]] = {}
    for row_id, msgid, thread_id in waiting:
        if msgid:
            by_msgid.setdefault(msgid, []).append((row_id, thread_id))
    for item, ready in zip(fresh, prepared, strict=True):
        rows = by_msgid.get(ready.parsed.message_id or "")
        if rows:
            row_id, thread_id = rows.pop()
            await db.execute(
                update(Message)
                .where(Message.id == row_id)
                .values(uid=item.uid, uidvalidity=folder.uidvalidity, **flag_columns(item.flags))
            )
            adopted.uids.add(item.uid)
            if thread_id is not None:
                adopted.thread_ids.add(thread_id)
    if adopted.thread_ids:
        await refresh_threads(db, adopted.thread_ids)
    return adopted


def _triage_extra(parsed: ParsedMessage) -> dict[str, Any]:
    """The headers triage reads that have no column of their own; keys only when present, so
    most rows keep an empty object."""
    extra: dict[str, Any] = {}
    if parsed.precedence:
        extra["precedence"] = parsed.precedence
    if parsed.auto_submitted:
        extra["auto_submitted"] = parsed.auto_submitted
    if parsed.has_calendar:
        extra["calendar"] = True
    return extra


def _message_values(folder: Folder, item: IncomingMessage, ready: Prepared) -> dict[str, Any]:
    p = ready.parsed
    return {
        "user_id": folder.user_id,
        "account_id": folder.account_id,
        "folder_id": folder.id,
        "uidvalidity": folder.uidvalidity,
        "uid": item.uid,
        "modseq": item.modseq,
        "message_id": p.message_id,
        # A reply with References but no In-Reply-To names its parent last (RFC 5322 3.6.4);
        # storing it here lets threading find replies that arrived before their parent.
        "in_reply_to": p.in_reply_to or (p.references[-1] if p.references else None),
        "references": p.references,
        "gm_msgid": item.gm_msgid,
        "gm_thrid": item.gm_thrid,
        "subject": p.subject,
        "from_name": p.from_.name if p.from_ else "",
        "from_address": p.from_.address if p.from_ else "",
        "to": _addresses(p.to),
        "cc": _addresses(p.cc),
        "bcc": _addresses(p.bcc),
        "reply_to": _addresses(p.reply_to),
        "sent_at": p.sent_at,
        "received_at": item.internal_date,
        "size": len(item.raw),
        "snippet": p.snippet,
        "body_text": p.text,
        "body_html": p.html,
        "quote_offset": p.quote_offset,
        "signature_offset": p.signature_offset,
        "has_attachments": any(not a.is_inline for a in p.attachments),
        "has_remote_images": p.has_remote_images,
        "has_tracking_pixel": p.has_tracking_pixel,
        "show_images": False,
        "list_id": p.list_id,
        "list_unsubscribe": p.list_unsubscribe,
        "raw_sha256": ready.raw_sha256,
        "parse_error": p.parse_error,
        "extra": _triage_extra(p),
        "created_at": utcnow(),
        **flag_columns(item.flags),
    }


def _upsert_dialect(db: AsyncSession) -> Any:
    """The dialect module whose `insert` has ON CONFLICT (SQLite's and PostgreSQL's alike)."""
    return postgresql if db.get_bind().dialect.name == "postgresql" else sqlite


async def _insert_rows(
    db: AsyncSession, folder: Folder, fresh: list[IncomingMessage], prepared: list[Prepared]
) -> list[Message]:
    """One multi-row INSERT for the messages and one executemany for their attachments.

    The ORM's unit of work inserts autoincrement rows one statement at a time on SQLite (it
    needs each new id back); here the rows go in as batched VALUES lists whose RETURNING gives
    the ids, about five times cheaper per message. A row another writer stored between our
    look at the folder and this insert (the Sent copy of a message just sent, filed by compose
    while the sync fetches the same UID) is skipped, not an error: ON CONFLICT DO NOTHING on
    the (folder, uidvalidity, uid) key, and only the rows inserted here go on to attachments
    and threading. Returns detached rows carrying what threading needs."""
    values = [_message_values(folder, i, r) for i, r in zip(fresh, prepared, strict=True)]
    statement = (
        _upsert_dialect(db)
        .insert(Message)
        .on_conflict_do_nothing(index_elements=["folder_id", "uidvalidity", "uid"])
        .returning(Message.uid, Message.id)
        # The ORM leaves a None out of a row, and rows with different columns go in separate
        # statements: mail alternating between replies (In-Reply-To set) and new conversations
        # took one INSERT per two or three messages instead of one per batch. Every column
        # that can be None here is nullable with no default, so NULL is what it stored anyway.
        .execution_options(render_nulls=True)
    )
    ids: dict[int, int] = {uid: row_id for uid, row_id in await db.execute(statement, values)}
    if len(ids) < len(fresh):
        kept = [(i, r) for i, r in zip(fresh, prepared, strict=True) if i.uid in ids]
        fresh, prepared = [i for i, _ in kept], [r for _, r in kept]
        values = [row for row in values if row["uid"] in ids]
    attachments = [
        {
            "id": uuid.uuid4(),
            "message_id": ids[item.uid],
            "position": part.position,
            "filename": part.filename,
            "content_type": part.content_type,
            "size": size,
            "content_id": part.content_id,
            "is_inline": part.is_inline,
            "sha256": digest,
        }
        for item, ready in zip(fresh, prepared, strict=True)
        for part, digest, size in zip(
            ready.parsed.attachments, ready.part_sha256, ready.part_sizes, strict=True
        )
    ]
    if attachments:
        # render_nulls as for the messages: content_id (nullable, no default) is the only
        # value that can be None, and parts with and without one must share a statement.
        await db.execute(insert(Attachment).execution_options(render_nulls=True), attachments)
    return [
        Message(
            id=ids[row["uid"]],
            user_id=row["user_id"],
            account_id=row["account_id"],
            folder_id=row["folder_id"],
            thread_id=None,
            message_id=row["message_id"],
            in_reply_to=row["in_reply_to"],
            references=row["references"],
            gm_thrid=row["gm_thrid"],
            subject=row["subject"],
            received_at=row["received_at"],
            is_read=row["is_read"],
        )
        for row in values
    ]


async def store_batch(
    db: AsyncSession,
    *,
    folder: Folder,
    incoming: Sequence[IncomingMessage],
    blobs: BlobStore,
    executor: Executor | None,
    prepared: Sequence[Prepared] | None = None,
) -> StoredBatch:
    """Store what is new in `incoming` (parsing it unless `prepared` already holds it, in the
    same order); the caller commits, with its progress.

    The caller's transaction becomes bulk work (on SQLite, interactive writes go first); a
    caller that writes before calling this marks it itself, and keeps parsing (`prepared`)
    out of it: on SQLite the transaction holds the only write lock from its first write."""
    if not incoming:
        return StoredBatch([], set(), 0)
    await bulk_transaction(db)
    if prepared is None:
        prepared = await prepare_all([i.raw for i in incoming], executor=executor, blobs=blobs)
    known = await _existing_uids(db, folder, [item.uid for item in incoming])
    pairs = [(i, r) for i, r in zip(incoming, prepared, strict=True) if i.uid not in known]
    adopted = await _adopt_moved(db, folder, [i for i, _ in pairs], [r for _, r in pairs])
    pairs = [(i, r) for i, r in pairs if i.uid not in adopted.uids]
    if not pairs:
        if adopted.uids:
            await refresh_folder_counts(db, folder)
        return StoredBatch([], adopted.thread_ids, 0)
    fresh, ready = [i for i, _ in pairs], [r for _, r in pairs]
    rows = await _insert_rows(db, folder, fresh, ready)
    changes = await assign_threads_with_changes(db, rows)
    await refresh_folder_counts(db, folder)
    return StoredBatch(
        message_ids=[row.id for row in rows],
        # An adopted message's thread may have been merged into a new message's just now.
        thread_ids=changes.touched | (adopted.thread_ids - changes.deleted),
        parse_errors=sum(1 for r in ready if r.parsed.parse_error),
    )


async def refresh_folder_counts(db: AsyncSession, folder: Folder) -> None:
    total, unread, size = (
        await db.execute(
            select(
                func.count(Message.id),
                func.count(Message.id).filter(Message.is_read.is_(False)),
                func.coalesce(func.sum(Message.size), 0),
            ).where(Message.folder_id == folder.id)
        )
    ).one()
    folder.total_count = int(total)
    folder.unread_count = int(unread)
    folder.stored_bytes = int(size)
