"""Conversation threading in the database: incremental assignment and thread aggregates.

A batch is grouped with the stored threads it touches as JWZ would group all of it at once:
by ids, Gmail thread ids and `subject_links`. Threads whose subject guesses the batch may undo
(a late parent, `thread_redecide`) take part message by message instead of as a whole.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    Uuid,
    and_,
    case,
    delete,
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
from postwise.mail.thread_redecide import (
    StoredRow,
    late_parent_threads,
    stored_rows,
    threads_with_guesses,
)
from postwise.mail.thread_summary import summarise, summary_of
from postwise.mail.threading import Components, N, ancestry, is_subject_only_reply
from postwise.mime.subjects import (
    SUBJECT_WINDOW,
    SubjectGroup,
    is_original,
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


class _Loose(NamedTuple):
    """A stored message of a thread being decided again, placed like a batch message."""

    row_id: int


# A message of the batch (its position), an existing thread, or a message of a thread being
# decided again.
_Node = int | uuid.UUID | _Loose


@dataclass(frozen=True, slots=True)
class ThreadChanges:
    touched: set[uuid.UUID]  # threads that exist and changed (new ones included)
    deleted: set[uuid.UUID]  # threads merged into another one and removed


@dataclass(slots=True)
class _ThreadInfo:
    subject: str
    first: datetime
    last: datetime
    subject_only_replies: list[datetime] = field(default_factory=list)
    has_original: bool = False


async def assign_threads(db: AsyncSession, messages: Sequence[Message]) -> set[uuid.UUID]:
    """Put freshly stored messages into conversations; returns the threads that now exist
    and changed. Threads merged away are deleted: `assign_threads_with_changes` names them."""
    return (await assign_threads_with_changes(db, messages)).touched


async def assign_threads_with_changes(
    db: AsyncSession, messages: Sequence[Message]
) -> ThreadChanges:
    """`assign_threads`, also reporting the threads it merged away (for UI events).

    Messages that already have a thread are left alone, except that stored replies to a
    message of the batch may move (see the module docstring). Only flushes: the caller
    commits.
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
    """Recompute counts, date, subject, Gmail id and list item of threads after flag changes
    or expunges; threads left without messages are deleted."""
    await _refresh(db, thread_ids)


async def _refresh(
    db: AsyncSession,
    thread_ids: Collection[uuid.UUID],
    summarised: Collection[uuid.UUID] = (),
) -> None:
    """`refresh_threads`, and the folder index of `summarised` threads too (new ones whose
    aggregates were written whole), in the same statements."""
    kept = set(summarised)
    for chunk in _chunks(list(set(thread_ids)), _BATCH):
        summaries = await summarise(db, chunk)
        if summaries:
            rows = [{"id": tid, **summary.values()} for tid, summary in summaries.items()]
            await db.execute(update(Thread), rows)
        if empty := [tid for tid in chunk if tid not in summaries]:
            await db.execute(delete(Thread).where(Thread.id.in_(empty)))
        kept.update(summaries)
    await refresh_thread_folders(db, kept)


async def _assign_batch(db: AsyncSession, batch: list[Message]) -> ThreadChanges:
    account_id = batch[0].account_id
    chains = [ancestry(m.message_id, m.in_reply_to, m.references or ()) for m in batch]
    by_gmail = _by_gmail_thread(batch)
    related = await _related_rows(db, account_id, batch, chains)
    gmail = await _gmail_threads(db, account_id, sorted(by_gmail))
    known = {tid for _, tid, _ in related} | {tid for _, tid in gmail}
    threads = await _thread_infos(db, account_id, batch, known)
    keys = {key for m in batch if (key := subject_key(m.subject))}
    refs_rows = await _subject_only_rows(db, threads, keys)
    late = await threads_with_guesses(db, late_parent_threads(batch, related, refs_rows))
    rows = await stored_rows(db, late)
    for thread_id in late:
        threads.pop(thread_id, None)

    # Every id a message names (its own and its ancestry) -> the messages naming it. Two
    # messages naming the same id belong together: JWZ's shared (possibly empty) container.
    mentions: defaultdict[str, list[_Node]] = defaultdict(list)
    gmail_mates: defaultdict[int, list[_Node]] = defaultdict(list)
    components = Components[_Node]()
    for position, (message, chain) in enumerate(zip(batch, chains, strict=True)):
        components.add(position)
        for ref in (message.message_id, *chain):
            if ref:
                mentions[ref].append(position)
    for gm_thrid, positions in by_gmail.items():
        gmail_mates[gm_thrid].extend(positions)
    for row in rows.values():
        loose = _Loose(row.id)
        components.add(loose)
        for ref in (row.message_id, *ancestry(row.message_id, row.in_reply_to, row.references)):
            if ref:
                mentions[ref].append(loose)
        if row.gm_thrid is not None:
            gmail_mates[row.gm_thrid].append(loose)
    for nodes in itertools.chain(mentions.values(), gmail_mates.values()):
        components.union_all(nodes)
    for value, thread_id, _ in related:
        if thread_id not in late:
            for node in mentions.get(value, ()):
                components.union(node, thread_id)
    for gm_thrid, thread_id in gmail:
        if thread_id not in late:
            for node in gmail_mates[gm_thrid]:
                components.union(node, thread_id)
    for thread_id in threads:
        components.add(thread_id)
    for refs, thread_id in refs_rows:
        # A reply stored earlier whose References name a message of this batch: the link that
        # "messages.in_reply_to" cannot show (refs-only replies), found in these few rows.
        if thread_id not in late:
            for node in itertools.chain.from_iterable(mentions.get(r, ()) for r in refs):
                components.union(node, thread_id)
    groups = [_batch_group(batch, threads, rows, members) for members in components.groups()]
    for a, b in subject_links(groups):
        components.union(a, b)
    return await _apply(db, batch, _plan(batch, components, threads, rows))


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
) -> list[tuple[str, uuid.UUID, bool]]:
    """(id, thread, found by In-Reply-To) for stored messages that are, by id, a batch
    message itself (another copy), an ancestor of one, or a reply to one (or to an ancestor
    of one)."""
    found: list[tuple[str, uuid.UUID, bool]] = []
    for chunk in _chunks(_lookup_ids(batch, chains), _BATCH * 10):
        # Two statements rather than one OR: the first is served by ix_messages_account_msgid.
        for column in (Message.message_id, Message.in_reply_to):
            rows = await db.execute(
                select(column, Message.thread_id)
                .where(Message.account_id == account_id, column.in_(chunk))
                .where(Message.thread_id.is_not(None))
                .distinct()
            )
            by_reply = column is Message.in_reply_to
            found.extend((value, tid, by_reply) for value, tid in rows if value and tid)
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
    db: AsyncSession, threads: dict[uuid.UUID, _ThreadInfo], keys: Collection[str]
) -> list[tuple[list[str], uuid.UUID]]:
    """Stored messages without In-Reply-To in threads that begin with a reply or share a
    base subject with the batch (where the subject fallback may have put a refs-only reply
    whose parent was missing): their subject-only replies and originals (recorded in
    `threads`), and (refs, thread) of the rest."""
    scanned = [
        tid
        for tid, info in threads.items()
        if is_reply_or_forward(info.subject) or subject_key(info.subject) in keys
    ]
    if not scanned:
        return []
    rows = await db.execute(
        select(Message.thread_id, Message.subject, Message.received_at, Message.references).where(
            Message.thread_id.in_(scanned),
            or_(Message.in_reply_to.is_(None), Message.in_reply_to == ""),
        )
    )
    found: list[tuple[list[str], uuid.UUID]] = []
    for tid, subject, received_at, refs in rows:
        if tid is None:
            continue
        if is_original(None, subject):
            threads[tid].has_original = True
        if refs:
            found.append((refs, tid))
        elif is_reply_or_forward(subject):
            threads[tid].subject_only_replies.append(received_at)
    return found


def _batch_group(
    batch: list[Message],
    threads: dict[uuid.UUID, _ThreadInfo],
    rows: dict[int, StoredRow],
    members: list[_Node],
) -> SubjectGroup[_Node]:
    # (date, subject) of every stored thread and message in the group: the earliest decides
    # the topic, as the stored thread's own subject does.
    starts: list[tuple[datetime, str]] = []
    lasts: list[datetime] = []
    subject_only: list[datetime] = []
    has_original = False
    for node in members:
        if isinstance(node, uuid.UUID):
            info = threads[node]
            starts.append((info.first, info.subject))
            lasts.append(info.last)
            subject_only.extend(info.subject_only_replies)
            has_original |= info.has_original or not is_reply_or_forward(info.subject)
            continue
        when, subject, only_subject, original = _message_facts(batch, rows, node)
        starts.append((when, subject))
        lasts.append(when)
        if only_subject:
            subject_only.append(when)
        has_original |= original
    first, subject = min(starts)
    return SubjectGroup(
        gid=members[0],
        first=first,
        last=max(lasts),
        subject=subject,
        subject_only_replies=subject_only,
        fresh=any(not isinstance(node, uuid.UUID) for node in members),
        has_original=has_original,
    )


def _message_facts(
    batch: list[Message], rows: dict[int, StoredRow], node: int | _Loose
) -> tuple[datetime, str, bool, bool]:
    """(date, subject, whether only the subject places it, whether it is an original) of a
    batch or re-decided message."""
    if isinstance(node, _Loose):
        row = rows[node.row_id]
        only = is_subject_only_reply(row.message_id, row.in_reply_to, row.references, row.subject)
        return row.received_at, row.subject, only, is_original(row.in_reply_to, row.subject)
    m = batch[node]
    only = is_subject_only_reply(m.message_id, m.in_reply_to, m.references or (), m.subject)
    return m.received_at, m.subject, only, is_original(m.in_reply_to, m.subject)


@dataclass(slots=True)
class _Plan:
    """What `_apply` writes."""

    new_rows: list[dict[str, object]] = field(default_factory=list)
    new_ids: set[uuid.UUID] = field(default_factory=set)
    unsummarised: set[uuid.UUID] = field(default_factory=set)  # new, list item not known
    moves: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # whole threads merged
    assigned: dict[int, uuid.UUID] = field(default_factory=dict)  # batch position -> thread
    relocated: dict[int, uuid.UUID] = field(default_factory=dict)  # stored row id -> thread
    survivors: set[uuid.UUID] = field(default_factory=set)
    redecided: set[uuid.UUID] = field(default_factory=set)  # threads taken apart


def _plan(
    batch: list[Message],
    components: Components[_Node],
    threads: dict[uuid.UUID, _ThreadInfo],
    rows: dict[int, StoredRow],
) -> _Plan:
    """Each group's thread: the oldest stored one in it, or a new one."""
    plan = _Plan()
    firsts = {tid: (info.first, tid.hex) for tid, info in threads.items()}
    # A thread decided again keeps its id in the group holding its earliest message.
    owners: dict[uuid.UUID, _Loose] = {}
    for row in sorted(rows.values(), key=lambda r: (r.received_at, r.id), reverse=True):
        owners[row.thread_id] = _Loose(row.id)
        firsts[row.thread_id] = (row.received_at, row.thread_id.hex)
    owned = {row: tid for tid, row in owners.items()}
    plan.redecided = set(owners)
    for members in components.groups():
        positions = [node for node in members if isinstance(node, int)]
        loose = [node for node in members if isinstance(node, _Loose)]
        if not positions and not loose:
            continue  # a stored thread alone: settled threads never merge with each other
        stored = [node for node in members if isinstance(node, uuid.UUID)]
        stored += [owned[node] for node in loose if node in owned]
        if stored:
            # The oldest conversation survives: its id is the one the user has seen longest.
            survivor = min(stored, key=firsts.__getitem__)
            merged = {tid: survivor for tid in stored if tid != survivor and tid in threads}
            plan.moves.update(merged)
        else:
            survivor = uuid.uuid4()
            plan.new_ids.add(survivor)
            first = batch[positions[0]] if positions else batch[0]
            # Re-decided messages are counted by the refresh after the writes.
            summary = summary_of([batch[p] for p in positions], [rows[n.row_id] for n in loose])
            if not summary.complete:
                plan.unsummarised.add(survivor)
            plan.new_rows.append(
                {
                    "id": survivor,
                    "user_id": first.user_id,
                    "account_id": first.account_id,
                    **summary.values(),
                }
            )
        plan.survivors.add(survivor)
        plan.assigned.update({position: survivor for position in positions})
        plan.relocated.update(
            {n.row_id: survivor for n in loose if rows[n.row_id].thread_id != survivor}
        )
    return plan


async def _apply(db: AsyncSession, batch: list[Message], plan: _Plan) -> ThreadChanges:
    """Write the decision: new threads, merges (messages moved, emptied threads deleted),
    the thread ids of the batch and of re-decided messages, and fresh aggregates for every
    thread that changed."""
    if plan.new_rows:
        await db.execute(insert(Thread), plan.new_rows)
    if plan.moves:
        merged = list(plan.moves)
        # Typed values: asyncpg infers text for untyped CASE results and PostgreSQL refuses
        # to store text in a uuid column.
        moves = {literal(old, Uuid()): literal(new, Uuid()) for old, new in plan.moves.items()}
        await db.execute(
            update(Message)
            .where(Message.thread_id.in_(merged))
            .values(thread_id=case(moves, value=Message.thread_id))
        )
        await db.execute(delete(Thread).where(Thread.id.in_(merged)))
    writes = [{"id": batch[p].id, "thread_id": tid} for p, tid in plan.assigned.items()]
    writes += [{"id": row_id, "thread_id": tid} for row_id, tid in plan.relocated.items()]
    if writes:
        # Written by primary key in one executemany; the batch may be detached rows.
        await db.execute(update(Message), writes)
    for position, thread_id in plan.assigned.items():
        # Not a change to flush again: the row already says so.
        set_committed_value(batch[position], "thread_id", thread_id)
    _sync_loaded(db, plan.relocated)
    await db.flush()
    # Threads decided again that kept no message are deleted by the refresh. New threads made
    # of the batch alone were summarised from it, list item included when its rows told it.
    emptied = plan.redecided - plan.survivors
    plain_new = plan.new_ids - set(plan.relocated.values()) - plan.unsummarised
    await _refresh(db, (plan.survivors - plain_new) | emptied, summarised=plain_new)
    return ThreadChanges(touched=plan.survivors, deleted=set(plan.moves) | emptied)


def _sync_loaded(db: AsyncSession, relocated: dict[int, uuid.UUID]) -> None:
    """Tell rows this session already holds (an earlier batch of the same call) where their
    messages went: the executemany above does not."""
    session = db.sync_session
    for row_id, thread_id in relocated.items():
        loaded = session.identity_map.get(session.identity_key(Message, row_id))
        if loaded is not None:
            set_committed_value(loaded, "thread_id", thread_id)


def _chunks(values: list[N], size: int) -> Iterable[list[N]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
