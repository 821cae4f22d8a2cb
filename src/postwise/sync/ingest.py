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
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.mail.blobs import BlobStore
from postwise.mail.models import Attachment, Folder, Message
from postwise.sync.mime import Address, ParsedMessage, parse_message
from postwise.sync.thread_store import assign_threads

SYSTEM_FLAGS = {"\\seen", "\\flagged", "\\answered", "\\draft", "\\recent"}


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


async def parse_all(raws: Sequence[bytes], executor: Executor | None) -> list[ParsedMessage]:
    """Parse in the process pool when there is one: MIME parsing is CPU-bound Python, and one
    core cannot parse as fast as Dovecot serves."""
    if executor is None or len(raws) < 4:
        return [parse_message(raw) for raw in raws]
    loop = asyncio.get_running_loop()
    # A few chunks per process: fewer round trips than one task per message, and still
    # balanced when message sizes differ.
    chunk = max(1, len(raws) // 8)
    parts = [list(raws[i : i + chunk]) for i in range(0, len(raws), chunk)]
    results = await asyncio.gather(
        *(loop.run_in_executor(executor, _parse_chunk, part) for part in parts)
    )
    return [parsed for part in results for parsed in part]


def _parse_chunk(raws: list[bytes]) -> list[ParsedMessage]:
    return [parse_message(raw) for raw in raws]


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


def _write_blobs(
    blobs: BlobStore, incoming: Sequence[IncomingMessage], parsed: Sequence[ParsedMessage]
) -> tuple[list[str], list[list[str]]]:
    sizes = [len(p.attachments) for p in parsed]
    digests = blobs.put_many(
        [item.raw for item in incoming] + [a.content for p in parsed for a in p.attachments]
    )
    raw_digests, rest = digests[: len(incoming)], digests[len(incoming) :]
    part_digests = []
    for size in sizes:
        part_digests.append(rest[:size])
        rest = rest[size:]
    return raw_digests, part_digests


async def _existing_uids(db: AsyncSession, folder: Folder, uids: Sequence[int]) -> set[int]:
    rows = await db.scalars(
        select(Message.uid).where(
            Message.folder_id == folder.id,
            Message.uidvalidity == folder.uidvalidity,
            Message.uid.in_(uids),
        )
    )
    return set(rows.all())


async def _adopt_moved(
    db: AsyncSession, folder: Folder, fresh: list[IncomingMessage], parsed: list[ParsedMessage]
) -> set[int]:
    """A message moved here locally waits with a negative uid until the server's copy shows
    up; give it the real uid instead of storing the message a second time."""
    waiting = (
        await db.execute(
            select(Message.id, Message.message_id).where(
                Message.folder_id == folder.id, Message.uid < 0
            )
        )
    ).all()
    if not waiting:
        return set()
    by_msgid: dict[str, list[int]] = {}
    for row_id, msgid in waiting:
        if msgid:
            by_msgid.setdefault(msgid, []).append(row_id)
    adopted: set[int] = set()
    for item, p in zip(fresh, parsed, strict=True):
        rows = by_msgid.get(p.message_id or "")
        if rows:
            await db.execute(
                update(Message)
                .where(Message.id == rows.pop())
                .values(uid=item.uid, uidvalidity=folder.uidvalidity, **flag_columns(item.flags))
            )
            adopted.add(item.uid)
    return adopted


def _message_row(
    folder: Folder, item: IncomingMessage, p: ParsedMessage, raw_digest: str
) -> Message:
    return Message(
        user_id=folder.user_id,
        account_id=folder.account_id,
        folder_id=folder.id,
        uidvalidity=folder.uidvalidity,
        uid=item.uid,
        modseq=item.modseq,
        message_id=p.message_id,
        # A reply with References but no In-Reply-To names its parent last (RFC 5322 3.6.4);
        # storing it here lets threading find replies that arrived before their parent.
        in_reply_to=p.in_reply_to or (p.references[-1] if p.references else None),
        references=p.references,
        gm_msgid=item.gm_msgid,
        gm_thrid=item.gm_thrid,
        subject=p.subject,
        from_name=p.from_.name if p.from_ else "",
        from_address=p.from_.address if p.from_ else "",
        to=_addresses(p.to),
        cc=_addresses(p.cc),
        bcc=_addresses(p.bcc),
        reply_to=_addresses(p.reply_to),
        sent_at=p.sent_at,
        received_at=item.internal_date,
        size=len(item.raw),
        snippet=p.snippet,
        body_text=p.text,
        body_html=p.html,
        quote_offset=p.quote_offset,
        signature_offset=p.signature_offset,
        has_attachments=any(not a.is_inline for a in p.attachments),
        has_remote_images=p.has_remote_images,
        has_tracking_pixel=p.has_tracking_pixel,
        list_id=p.list_id,
        list_unsubscribe=p.list_unsubscribe,
        raw_sha256=raw_digest,
        parse_error=p.parse_error,
        **flag_columns(item.flags),
    )


async def store_batch(
    db: AsyncSession,
    *,
    folder: Folder,
    incoming: Sequence[IncomingMessage],
    blobs: BlobStore,
    executor: Executor | None,
) -> StoredBatch:
    """Parse and store what is new in `incoming`; the caller commits (with its progress)."""
    if not incoming:
        return StoredBatch([], set(), 0)
    known = await _existing_uids(db, folder, [item.uid for item in incoming])
    fresh = [item for item in incoming if item.uid not in known]
    parsed = await parse_all([item.raw for item in fresh], executor)
    adopted = await _adopt_moved(db, folder, fresh, parsed)
    if adopted:
        pairs = [(i, p) for i, p in zip(fresh, parsed, strict=True) if i.uid not in adopted]
        fresh, parsed = [i for i, _ in pairs], [p for _, p in pairs]
    if not fresh:
        return StoredBatch([], set(), 0)
    raw_digests, part_digests = await asyncio.to_thread(_write_blobs, blobs, fresh, parsed)
    rows = [
        _message_row(folder, item, p, digest)
        for item, p, digest in zip(fresh, parsed, raw_digests, strict=True)
    ]
    db.add_all(rows)
    await db.flush()
    db.add_all(
        Attachment(
            message_id=row.id,
            position=part.position,
            filename=part.filename,
            content_type=part.content_type,
            size=len(part.content),
            content_id=part.content_id,
            is_inline=part.is_inline,
            sha256=digest,
        )
        for row, p, digests in zip(rows, parsed, part_digests, strict=True)
        for part, digest in zip(p.attachments, digests, strict=True)
    )
    thread_ids = await assign_threads(db, rows)
    await refresh_folder_counts(db, folder)
    return StoredBatch(
        message_ids=[row.id for row in rows],
        thread_ids=thread_ids,
        parse_errors=sum(1 for p in parsed if p.parse_error),
    )


async def refresh_folder_counts(db: AsyncSession, folder: Folder) -> None:
    total, unread = (
        await db.execute(
            select(
                func.count(Message.id),
                func.count(Message.id).filter(Message.is_read.is_(False)),
            ).where(Message.folder_id == folder.id)
        )
    ).one()
    folder.total_count = int(total)
    folder.unread_count = int(unread)
