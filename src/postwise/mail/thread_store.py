"""Conversation threading in the database: incremental assignment and thread aggregates."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    Text,
    Uuid,
    and_,
    case,
    cast,
    delete,
    distinct,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from postwise.mail.models import Message, Thread
from postwise.mail.thread_folders import refresh_thread_folders
from postwise.mail.threading import Components, N, ancestry, is_subject_only_reply
from postwise.mime.subjects import (
    SUBJECT_WINDOW,
    SubjectGroup,
    is_reply_or_forward,
    subject_key,
    subject_links,
)

__all__ = [
    "ThreadChanges",
    "assign_threads",
    "assign_threads_with_changes",
    "refresh_threads",
]


# --- assignment in the database -------------------------------------------------------------

# Statements are split so their IN lists stay far below the bind-parameter limits of SQLite
# (32766) and asyncpg (32767).
_BATCH = 500
# A References list can be hundreds of ids long (or thousands, in spam). Its first ids name the
# conversation's start and its last ones the parent; the middle adds nothing to the lookups.
_LOOKUP_HEAD, _LOOKUP_TAIL = 2, 18

_Node = int | uuid.UUID  # a message of the batch (its position), or an existing thread


@dataclass(frozen=True, slots=True)
class ThreadChanges:
    touched: set[uuid.UUID]  # threads that exist and changed (new ones included)
    deleted: set[uuid.UUID]  # threads merged into another one and removed


class _Summary(NamedTuple):
    message_count: int
    unread_count: int
    last_message_at: datetime
    subject: str
    gm_thrid: int | None

    def values(self) -> dict[str, object]:
        return {**self._asdict(), "subject_key": subject_key(self.subject)}


@dataclass(slots=True)
class _ThreadInfo:
    subject: str
    first: datetime
    last: datetime
    subject_only_replies: list[datetime] = field(default_factory=list)


async def assign_threads(db: AsyncSession, messages: Sequence[Message]) -> set[uuid.UUID]:
    """Put freshly stored messages into conversations; returns the threads that now exist
    and changed. Threads merged away are deleted: `assign_threads_with_changes` names them."""
    return (await assign_threads_with_changes(db, messages)).touched


async def assign_threads_with_changes(
    db: AsyncSession, messages: Sequence[Message]
) -> ThreadChanges:
    """`assign_threads`, also reporting the threads it merged away (for UI events).

    Messages that already have a thread are left alone. Only flushes: the caller commits.
    """
    touched: set[uuid.UUID] = set()
    deleted: set[uuid.UUID] = set()
    pending = [m for m in messages if m.thread_id is None]
    by_account: defaultdict[uuid.UUID, list[Message]] = defaultdict(list)
    for message in pending:
        by_account[message.account_id].append(message)
    for batch in by_account.values():
        for start in range(0, len(batch), _BATCH):
            changes = await _assign_batch(db, batch[start : start + _BATCH])
            touched = (touched - changes.deleted) | changes.touched
            deleted |= changes.deleted
    return ThreadChanges(touched=touched, deleted=deleted)


async def refresh_threads(db: AsyncSession, thread_ids: Collection[uuid.UUID]) -> None:
    """Recompute counts, date, subject and Gmail id of threads after flag changes or
    expunges; threads left without messages are deleted."""
    for chunk in _chunks(list(set(thread_ids)), _BATCH):
        summaries = await _summarise(db, chunk)
        if summaries:
            rows = [{"id": tid, **summary.values()} for tid, summary in summaries.items()]
            await db.execute(update(Thread), rows)
        if empty := [tid for tid in chunk if tid not in summaries]:
            await db.execute(delete(Thread).where(Thread.id.in_(empty)))
        await refresh_thread_folders(db, list(summaries))


async def _assign_batch(db: AsyncSession, batch: list[Message]) -> ThreadChanges:
    account_id = batch[0].account_id
    chains = [ancestry(m.message_id, m.in_reply_to, m.references or ()) for m in batch]
    # Every id a message names (its own and its ancestry) -> the batch messages naming it.
    # Two messages naming the same id belong together: JWZ's shared (possibly empty) container.
    mentions: defaultdict[str, list[int]] = defaultdict(list)
    for position, (message, chain) in enumerate(zip(batch, chains, strict=True)):
        for ref in (message.message_id, *chain):
            if ref:
                mentions[ref].append(position)
    by_gmail = _by_gmail_thread(batch)
    components = Components[_Node]()
    for position in range(len(batch)):
        components.add(position)
    for positions in itertools.chain(mentions.values(), by_gmail.values()):
        components.union_all(positions)
    known: set[uuid.UUID] = set()
    related = await _related_rows(db, account_id, batch, chains)
    for value, thread_id in related:
        known.add(thread_id)
        for position in mentions.get(value, ()):
            components.union(position, thread_id)
    for gm_thrid, thread_id in await _gmail_threads(db, account_id, sorted(by_gmail)):
        known.add(thread_id)
        for position in by_gmail[gm_thrid]:
            components.union(position, thread_id)
    threads = await _thread_infos(db, account_id, batch, known)
    for thread_id in threads:
        components.add(thread_id)
    for refs, thread_id in await _subject_only_rows(db, threads):
        # A reply stored earlier whose References name a message of this batch: the link that
        # "messages.in_reply_to" cannot show (refs-only replies), found in these few rows.
        for position in itertools.chain.from_iterable(mentions.get(r, ()) for r in refs):
            components.union(position, thread_id)
    groups = [_batch_group(batch, threads, members) for members in components.groups()]
    for a, b in subject_links(groups):
        components.union(a, b)
    return await _apply(db, batch, components, threads)


def _by_gmail_thread(batch: list[Message]) -> dict[int, list[int]]:
    found: defaultdict[int, list[int]] = defaultdict(list)
    for position, message in enumerate(batch):
        if message.gm_thrid is not None:
            found[message.gm_thrid].append(position)
    return found


def _lookup_ids(batch: list[Message], chains: list[list[str]]) -> list[str]:
    ids: set[str] = set()
    for message, chain in zip(batch, chains, strict=True):
        if message.message_id:
            ids.add(message.message_id)
        ids.update(chain[:_LOOKUP_HEAD])
        ids.update(chain[_LOOKUP_HEAD:][-_LOOKUP_TAIL:])
    return sorted(ids)


async def _related_rows(
    db: AsyncSession, account_id: uuid.UUID, batch: list[Message], chains: list[list[str]]
) -> list[tuple[str, uuid.UUID]]:
    """(id, thread) for stored messages that are, by id, a batch message itself (another
    copy), an ancestor of one, or a reply to one (or to an ancestor of one)."""
    found: list[tuple[str, uuid.UUID]] = []
    for chunk in _chunks(_lookup_ids(batch, chains), _BATCH * 10):
        # Two statements rather than one OR: the first is served by ix_messages_account_msgid.
        for column in (Message.message_id, Message.in_reply_to):
            rows = await db.execute(
                select(column, Message.thread_id)
                .where(Message.account_id == account_id, column.in_(chunk))
                .where(Message.thread_id.is_not(None))
                .distinct()
            )
            found.extend((value, tid) for value, tid in rows if value and tid)
    return found


async def _gmail_threads(
    db: AsyncSession, account_id: uuid.UUID, gm_thrids: list[int]
) -> list[tuple[int, uuid.UUID]]:
    if not gm_thrids:
        return []
    rows = await db.execute(
        select(Thread.gm_thrid, Thread.id).where(
            Thread.account_id == account_id, Thread.gm_thrid.in_(gm_thrids)
        )
    )
    return [(gm, tid) for gm, tid in rows if gm is not None]


async def _thread_infos(
    db: AsyncSession, account_id: uuid.UUID, batch: list[Message], known: set[uuid.UUID]
) -> dict[uuid.UUID, _ThreadInfo]:
    """Dates and subjects of the threads found so far, and of the recent threads sharing a
    base subject with the batch (candidates for the subject fallback)."""
    keys = sorted({key for m in batch if (key := subject_key(m.subject))})
    since = min(m.received_at for m in batch) - SUBJECT_WINDOW
    candidates = and_(Thread.subject_key.in_(keys), Thread.last_message_at >= since)
    first = func.min(Message.received_at)
    rows = await db.execute(
        select(Thread.id, Thread.subject, Thread.last_message_at, first)
        .outerjoin(Message, Message.thread_id == Thread.id)
        .where(Thread.account_id == account_id, or_(Thread.id.in_(known), candidates))
        .group_by(Thread.id, Thread.subject, Thread.last_message_at)
    )
    return {
        tid: _ThreadInfo(subject=subject, first=start or last, last=last)
        for tid, subject, last, start in rows
    }


async def _subject_only_rows(
    db: AsyncSession, threads: dict[uuid.UUID, _ThreadInfo]
) -> list[tuple[list[str], uuid.UUID]]:
    """Stored messages without In-Reply-To in threads that begin with a reply: their
    subject-only replies (recorded in `threads`), and (refs, thread) of the rest."""
    starts_with_reply = [tid for tid, info in threads.items() if is_reply_or_forward(info.subject)]
    if not starts_with_reply:
        return []
    rows = await db.execute(
        select(Message.thread_id, Message.subject, Message.received_at, Message.references).where(
            Message.thread_id.in_(starts_with_reply),
            or_(Message.in_reply_to.is_(None), Message.in_reply_to == ""),
        )
    )
    found: list[tuple[list[str], uuid.UUID]] = []
    for tid, subject, received_at, refs in rows:
        if tid is None:
            continue
        if refs:
            found.append((refs, tid))
        elif is_reply_or_forward(subject):
            threads[tid].subject_only_replies.append(received_at)
    return found


def _batch_group(
    batch: list[Message], threads: dict[uuid.UUID, _ThreadInfo], members: list[_Node]
) -> SubjectGroup[_Node]:
    # (date, subject) of every stored thread and batch message in the group: the earliest
    # decides the topic, as the stored thread's own subject does.
    starts: list[tuple[datetime, str]] = []
    lasts: list[datetime] = []
    subject_only: list[datetime] = []
    for node in members:
        if isinstance(node, uuid.UUID):
            info = threads[node]
            starts.append((info.first, info.subject))
            lasts.append(info.last)
            subject_only.extend(info.subject_only_replies)
        else:
            message = batch[node]
            starts.append((message.received_at, message.subject))
            lasts.append(message.received_at)
            if is_subject_only_reply(
                message.message_id, message.in_reply_to, message.references or (), message.subject
            ):
                subject_only.append(message.received_at)
    first, subject = min(starts)
    return SubjectGroup(
        gid=members[0],
        first=first,
        last=max(lasts),
        subject=subject,
        subject_only_replies=subject_only,
        fresh=any(isinstance(node, int) for node in members),
    )


async def _apply(
    db: AsyncSession,
    batch: list[Message],
    components: Components[_Node],
    threads: dict[uuid.UUID, _ThreadInfo],
) -> ThreadChanges:
    """Write the decision: new threads, merges (messages moved, emptied threads deleted),
    the batch's thread ids, and fresh aggregates for every thread that changed."""
    new_rows: list[dict[str, object]] = []
    new_ids: set[uuid.UUID] = set()
    moves: dict[uuid.UUID, uuid.UUID] = {}
    assigned: dict[int, uuid.UUID] = {}
    for members in components.groups():
        positions = [node for node in members if isinstance(node, int)]
        stored = [node for node in members if isinstance(node, uuid.UUID)]
        if not positions:
            continue
        if stored:
            # The oldest conversation survives: its id is the one the user has seen longest.
            survivor = min(stored, key=lambda tid: (threads[tid].first, tid.hex))
            moves.update({tid: survivor for tid in stored if tid != survivor})
        else:
            survivor = uuid.uuid4()
            new_ids.add(survivor)
            first = batch[positions[0]]
            summary = _summary_of([batch[position] for position in positions])
            new_rows.append(
                {
                    "id": survivor,
                    "user_id": first.user_id,
                    "account_id": first.account_id,
                    **summary.values(),
                }
            )
        assigned.update({position: survivor for position in positions})
    if new_rows:
        await db.execute(insert(Thread), new_rows)
    if moves:
        merged = list(moves)
        # Typed values: asyncpg infers text for untyped CASE results and PostgreSQL refuses
        # to store text in a uuid column.
        moves_typed = {literal(old, Uuid()): literal(new, Uuid()) for old, new in moves.items()}
        await db.execute(
            update(Message)
            .where(Message.thread_id.in_(merged))
            .values(thread_id=case(moves_typed, value=Message.thread_id))
        )
        await db.execute(delete(Thread).where(Thread.id.in_(merged)))
    if assigned:
        # Written by primary key in one executemany; the batch may be detached rows.
        await db.execute(
            update(Message),
            [{"id": batch[p].id, "thread_id": tid} for p, tid in assigned.items()],
        )
    for position, thread_id in assigned.items():
        # Not a change to flush again: the row already says so.
        set_committed_value(batch[position], "thread_id", thread_id)
    await db.flush()
    created = {survivor for survivor in assigned.values() if survivor in new_ids}
    await refresh_threads(db, {tid for tid in assigned.values() if tid not in created})
    await refresh_thread_folders(db, created)
    return ThreadChanges(touched=set(assigned.values()), deleted=set(moves))


def _mail_key(message_id: str | None, row_id: int) -> str:
    # The same mail in two folders (Gmail's All Mail, a copy in Sent) is one message of the
    # conversation; rows without a Message-ID are each their own ("#" never starts an id).
    return message_id or f"#{row_id}"


def _summary_of(messages: list[Message]) -> _Summary:
    """The aggregates of a thread made only of these messages (no query needed)."""
    earliest = min(messages, key=lambda m: (m.received_at, m.id))
    return _Summary(
        message_count=len({_mail_key(m.message_id, m.id) for m in messages}),
        unread_count=len({_mail_key(m.message_id, m.id) for m in messages if not m.is_read}),
        last_message_at=max(m.received_at for m in messages),
        subject=earliest.subject,
        gm_thrid=max((m.gm_thrid for m in messages if m.gm_thrid is not None), default=None),
    )


async def _summarise(db: AsyncSession, thread_ids: list[uuid.UUID]) -> dict[uuid.UUID, _Summary]:
    """`_summary_of` for stored threads, in one statement; threads without messages are
    absent. A mail counts once however many folders hold it, and is unread if any copy is;
    the Gmail thread id kept is the highest: Gmail's newest thread, where new mail goes."""
    ranked = (
        select(
            Message.thread_id,
            func.coalesce(Message.message_id, "#" + cast(Message.id, Text)).label("mail"),
            Message.is_read,
            Message.received_at,
            Message.gm_thrid,
            Message.subject,
            func.row_number()
            .over(partition_by=Message.thread_id, order_by=(Message.received_at, Message.id))
            .label("rank"),
        )
        .where(Message.thread_id.in_(thread_ids))
        .subquery()
    )
    c = ranked.c
    rows = await db.execute(
        select(
            c.thread_id,
            func.count(distinct(c.mail)),
            func.count(distinct(case((c.is_read == false(), c.mail)))),
            func.max(c.received_at),
            func.max(case((c.rank == 1, c.subject))),
            func.max(c.gm_thrid),
        ).group_by(c.thread_id)
    )
    return {
        tid: _Summary(int(count), int(unread), last, subject or "", gm_thrid)
        for tid, count, unread, last, subject, gm_thrid in rows
        if tid is not None
    }


def _chunks(values: list[N], size: int) -> Iterable[list[N]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
