"""A thread's aggregates, stored on its row: counts, date, subject, and its list item.

Everything the thread list shows of a conversation (snippet, senders, starred, attachment
mark) is computed here when its messages change, not when the list is read: a page of 50
then reads 50 rows by key (`mail.listing`) instead of grouping their messages on every
request, which cost 4 statements and most of the page's time.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Text, case, cast, distinct, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.mail.models import Message
from postwise.mail.thread_redecide import StoredRow
from postwise.mime.subjects import subject_key

__all__ = [
    "MAX_PARTICIPANTS",
    "Summary",
    "participants_json",
    "participants_of",
    "summarise",
    "summary_of",
]

MAX_PARTICIPANTS = 10

# (first received, name, address) of one sender of a thread.
Sender = tuple[datetime, str, str]


class Summary(NamedTuple):
    message_count: int
    unread_count: int
    last_message_at: datetime
    subject: str
    gm_thrid: int | None
    # The list item.
    snippet: str = ""
    participants: tuple[tuple[str, str], ...] = ()  # (name, address)
    starred: bool = False
    has_attachments: bool = False
    # False when the list item above is only a placeholder (see `summary_of`).
    complete: bool = True

    def values(self) -> dict[str, object]:
        values = self._asdict()
        del values["complete"]
        values["subject_key"] = subject_key(self.subject)
        values["participants"] = participants_json(self.participants)
        return values


def participants_of(senders: Iterable[Sender]) -> tuple[tuple[str, str], ...]:
    """Senders in the order they first wrote, each once (one entry per address, as grouped
    by the query), the first `MAX_PARTICIPANTS` of them."""
    return tuple((name, address) for _, name, address in sorted(senders)[:MAX_PARTICIPANTS])


def participants_json(participants: Iterable[tuple[str, str]]) -> str:
    """The stored form: the API's `participants` as JSON text."""
    people = [{"name": name, "address": address} for name, address in participants]
    return json.dumps(people, ensure_ascii=False, separators=(",", ":"))


def mail_key(message_id: str | None, row_id: int) -> str:
    # The same mail in two folders (Gmail's All Mail, a copy in Sent) is one message of the
    # conversation; rows without a Message-ID are each their own ("#" never starts an id).
    return message_id or f"#{row_id}"


def summary_of(messages: list[Message], rows: Sequence[StoredRow] = ()) -> Summary:
    """The aggregates of a thread made only of these messages (no query needed); with stored
    `rows` a first estimate, which `refresh_threads` then corrects. The list item is left
    `complete=False` (for `refresh_threads` to fill in) when the messages cannot tell it."""
    dated = [(m.received_at, m.id, m.subject) for m in messages]
    dated += [(r.received_at, r.id, r.subject) for r in rows]
    counts = Summary(
        message_count=len({mail_key(m.message_id, m.id) for m in messages}),
        unread_count=len({mail_key(m.message_id, m.id) for m in messages if not m.is_read}),
        last_message_at=max(when for when, _, _ in dated),
        subject=min(dated)[2],
        gm_thrid=max((m.gm_thrid for m in messages if m.gm_thrid is not None), default=None),
    )
    item = None if rows else _list_item_of(messages)
    if item is None:
        return counts._replace(complete=False)
    return counts._replace(
        snippet=item.snippet,
        participants=item.participants,
        starred=item.starred,
        has_attachments=item.has_attachments,
    )


class _ListItem(NamedTuple):
    snippet: str
    participants: tuple[tuple[str, str], ...]
    starred: bool
    has_attachments: bool


def _list_item_of(messages: list[Message]) -> _ListItem | None:
    """What `summarise` would store, from the messages themselves; None when a row lacks a
    field (ingest's rows carry only what threading needs unless it passes these too) or an
    address comes under two names (the database's collation picks one, in `summarise`)."""
    senders: dict[str, Sender] = {}
    for m in messages:
        if None in (m.from_name, m.from_address, m.snippet, m.is_starred, m.has_attachments):
            return None
        known = senders.get(m.from_address)
        if known is not None and known[1] != m.from_name:
            return None
        if known is None or m.received_at < known[0]:
            senders[m.from_address] = (m.received_at, m.from_name, m.from_address)
    newest = max(messages, key=lambda m: (m.received_at, m.id))
    return _ListItem(
        snippet=newest.snippet,
        participants=participants_of(senders.values()),
        starred=any(m.is_starred for m in messages),
        has_attachments=any(m.has_attachments for m in messages),
    )


async def summarise(db: AsyncSession, thread_ids: list[uuid.UUID]) -> dict[uuid.UUID, Summary]:
    """`summary_of` for stored threads, list item included, in two statements; threads
    without messages are absent. A mail counts once however many folders hold it, and is
    unread if any copy is; the Gmail thread id kept is the highest: Gmail's newest thread,
    where new mail goes."""
    ranked = (
        select(
            Message.thread_id,
            func.coalesce(Message.message_id, "#" + cast(Message.id, Text)).label("mail"),
            Message.is_read,
            Message.received_at,
            Message.gm_thrid,
            Message.subject,
            Message.snippet,
            Message.is_starred,
            Message.has_attachments,
            func.row_number()
            .over(partition_by=Message.thread_id, order_by=(Message.received_at, Message.id))
            .label("rank"),
            func.row_number()
            .over(
                partition_by=Message.thread_id,
                order_by=(Message.received_at.desc(), Message.id.desc()),
            )
            .label("newest"),
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
            func.max(case((c.newest == 1, c.snippet))),
            # PostgreSQL has no max(boolean); any() is spelled differently on each.
            func.max(case((c.is_starred, 1), else_=0)),
            func.max(case((c.has_attachments, 1), else_=0)),
        ).group_by(c.thread_id)
    )
    senders = await _senders(db, thread_ids)
    return {
        tid: Summary(
            message_count=int(count),
            unread_count=int(unread),
            last_message_at=last,
            subject=subject or "",
            gm_thrid=gm_thrid,
            snippet=snippet or "",
            participants=participants_of(senders.get(tid, ())),
            starred=bool(starred),
            has_attachments=bool(attached),
        )
        for tid, count, unread, last, subject, gm_thrid, snippet, starred, attached in rows
        if tid is not None
    }


async def _senders(db: AsyncSession, thread_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Sender]]:
    found: defaultdict[uuid.UUID, list[Sender]] = defaultdict(list)
    for tid, address, name, first in await db.execute(
        select(
            Message.thread_id,
            Message.from_address,
            func.max(Message.from_name),
            func.min(Message.received_at),
        )
        .where(Message.thread_id.in_(thread_ids))
        .group_by(Message.thread_id, Message.from_address)
    ):
        if tid is not None:
            found[tid].append((first, name or "", address or ""))
    return found
