"""Learned priority, the database side: what the user does is logged (`ai_actions`), counted
per sender (`ai_sender_stats`) and taught to their model (`ai_user_models`), and new mail is
scored with those. The pure part (features, the model, reasons, thresholds) is `ai.priority`.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, func, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.models import MailAccount
from postwise.ai.local.signals import header_signals
from postwise.ai.mailview import MailView
from postwise.ai.models import AiAction, AiUserModel, SenderStats
from postwise.ai.priority import (
    COUNTERS,
    DEFAULT_THRESHOLD,
    ENGAGING,
    FEEDBACK,
    PriorityModel,
    SenderFacts,
    bucket,
    features,
    threshold_for,
)
from postwise.ai.results import ActionItem, Category, Triage
from postwise.db import utcnow
from postwise.mail.models import Folder, Message, MessageInsight

__all__ = [
    "ACTIONS",
    "Scored",
    "learn_from_inaction",
    "note_arrivals",
    "record_actions",
    "refresh_threshold",
    "score_messages",
    "sender_facts",
    "user_addresses",
    "view_of_message",
]

ACTIONS = (
    "open",
    "reply",
    "archive",
    "archive_unread",
    "delete_unread",
    "star",
    "unstar",
    "important",
    "not_important",
    "recategorise",
)
# Said once per message: opening it again after marking it unread, or archiving it a second
# time, teaches nothing new.
ONCE = frozenset({"open", "reply", "archive", "archive_unread", "delete_unread"})
# The implicit verdicts of `learn_from_inaction`, logged like actions so each message is
# settled once: left unread, or read somewhere else (another client set \Seen).
IGNORED = "ignored"
READ_ELSEWHERE = "elsewhere"
THRESHOLD_WINDOW = timedelta(days=30)
# The counters' key column is this wide; a longer (bogus) sender is not counted.
MAX_ADDRESS = 320
THRESHOLD_SAMPLE = 5000


@dataclass(frozen=True, slots=True)
class Scored:
    priority: float  # 0-1
    bucket: str  # high | medium | low
    important: bool  # priority at or above the user's threshold
    reasons: list[str]


# --- rows to values ---------------------------------------------------------------------------


def view_of_message(message: Message, *, user_addresses: frozenset[str]) -> MailView:
    """The stored message as every task sees it. `extra` carries the headers the message
    columns do not (precedence, auto_submitted, calendar) when the ingest kept them."""
    extra = message.extra or {}
    precedence, auto = extra.get("precedence"), extra.get("auto_submitted")
    return MailView(
        subject=message.subject,
        from_name=message.from_name,
        from_address=message.from_address.lower(),
        text=message.body_text,
        to=_addresses(message.to),
        cc=_addresses(message.cc),
        sent_at=message.sent_at or message.received_at,
        quote_offset=message.quote_offset,
        signature_offset=message.signature_offset,
        list_id=message.list_id,
        list_unsubscribe=message.list_unsubscribe,
        precedence=precedence.lower() if isinstance(precedence, str) else None,
        auto_submitted=auto.lower() if isinstance(auto, str) else None,
        has_calendar=bool(extra.get("calendar")),
        has_attachments=message.has_attachments,
        user_addresses=user_addresses,
    )


def _addresses(entries: Iterable[Mapping[str, str]] | None) -> tuple[str, ...]:
    return tuple(e["address"].lower() for e in entries or () if e.get("address"))


async def user_addresses(db: AsyncSession, user_id: uuid.UUID) -> frozenset[str]:
    """The user's own addresses: every mailbox's, and their send-as addresses."""
    found: set[str] = set()
    for email, send_as in await db.execute(
        select(MailAccount.email, MailAccount.send_as).where(MailAccount.user_id == user_id)
    ):
        found.add(email.lower())
        found.update(a.lower() for a in _send_as(send_as))
    return frozenset(found)


def _send_as(value: object) -> list[str]:
    """`send_as` is JSON text: [{"name": ..., "address": ...}] (or plain addresses)."""
    try:
        items = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    out: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("address"), str):
            out.append(item["address"])
    return out


def triage_of(insight: MessageInsight | None, view: MailView) -> Triage:
    """The triage the message was scored with, rebuilt from its insight. Without one (triage
    off, or not reached yet) a header-only stand-in: running the local triage here would put
    its models in the path of every click."""
    if insight is None:
        sig = header_signals(view)
        if sig.bulk:
            category = Category.NEWSLETTER
        elif sig.automated or sig.noreply:
            category = Category.NOTIFICATION
        else:
            category = Category.PERSONAL
        return Triage(category=category, needs_reply=False, needs_reply_confidence=0.0, summary="")
    try:
        category = Category(insight.category)
    except ValueError:
        category = Category.PERSONAL
    return Triage(
        category=category,
        needs_reply=insight.needs_reply,
        needs_reply_confidence=min(1.0, max(0.0, insight.needs_reply_confidence)),
        summary=insight.summary[:300],
        action_items=_items(insight.action_items),
    )


def _items(stored: Sequence[Mapping[str, Any]] | None) -> list[ActionItem]:
    out: list[ActionItem] = []
    for item in list(stored or ())[:10]:
        due = item.get("due")
        try:
            out.append(
                ActionItem(
                    text=str(item.get("text", ""))[:300],
                    due=date.fromisoformat(due) if isinstance(due, str) else None,
                )
            )
        except ValueError:
            continue  # a malformed item is left out rather than failing the action
    return out


# --- sender counters --------------------------------------------------------------------------


async def sender_facts(
    db: AsyncSession,
    user_id: uuid.UUID,
    addresses: Iterable[str],
    *,
    now: datetime | None = None,
) -> dict[str, SenderFacts]:
    """How the user has treated each of these senders, by lower-case address (unknown ones
    are absent)."""
    wanted = sorted({a.lower() for a in addresses if a})
    if not wanted:
        return {}
    now = now or utcnow()
    s = SenderStats
    rows = await db.execute(
        select(
            s.address,
            s.name,
            s.received,
            s.opened,
            s.replied,
            s.archived_unread,
            s.deleted_unread,
            s.starred,
            s.marked_important,
            s.marked_unimportant,
            s.last_action_at,
        ).where(s.user_id == user_id, s.address.in_(wanted))
    )
    out: dict[str, SenderFacts] = {}
    for row in rows:
        days = (now - row.last_action_at).total_seconds() / 86400 if row.last_action_at else None
        out[row.address] = SenderFacts(
            received=row.received,
            opened=row.opened,
            replied=row.replied,
            archived_unread=row.archived_unread,
            deleted_unread=row.deleted_unread,
            starred=row.starred,
            marked_important=row.marked_important,
            marked_unimportant=row.marked_unimportant,
            days_since_last_action=days,
            name=row.name,
        )
    return out


def _aware(moment: datetime | None) -> datetime | None:
    """A Date header without a zone is taken as UTC (the columns refuse naive values)."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _insert(db: AsyncSession) -> Any:
    """The dialect's INSERT with ON CONFLICT (SQLite's and PostgreSQL's spell it alike)."""
    return (postgresql if db.get_bind().dialect.name == "postgresql" else sqlite).insert


async def note_arrivals(db: AsyncSession, *, user_id: uuid.UUID, mails: Sequence[MailView]) -> None:
    """Count new mail per sender (the user's own mail is not counted)."""
    batch: dict[str, dict[str, Any]] = {}
    for mail in mails:
        address = mail.from_address.lower()
        if not address or len(address) > MAX_ADDRESS or mail.from_user:
            continue
        sent = _aware(mail.sent_at)
        entry = batch.setdefault(address, {"name": "", "received": 0, "last_received_at": sent})
        entry["received"] += 1
        entry["name"] = mail.from_name or entry["name"]
        if sent and (entry["last_received_at"] is None or sent > entry["last_received_at"]):
            entry["last_received_at"] = sent
    if not batch:
        return
    table = SenderStats.__table__
    statement = _insert(db)(table).values(
        [
            {"user_id": user_id, "address": address, **entry}
            for address, entry in sorted(batch.items())
        ]
    )
    new = statement.excluded
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.address],
            set_={
                "received": table.c.received + new.received,
                "name": case((new.name != "", new.name), else_=table.c.name),
                "last_received_at": case(
                    (
                        table.c.last_received_at.is_(None)
                        | (new.last_received_at > table.c.last_received_at),
                        new.last_received_at,
                    ),
                    else_=table.c.last_received_at,
                ),
            },
        )
    )


async def _count(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    messages: Sequence[Message],
    action: str,
    now: datetime,
) -> None:
    """Move the senders' counters for `action` (one UPDATE per sender, in address order so two
    writers lock rows in the same order)."""
    by_sender: dict[str, tuple[int, str]] = {}
    for m in messages:
        count, name = by_sender.get(m.from_address.lower(), (0, ""))
        by_sender[m.from_address.lower()] = (count + 1, m.from_name or name)
    by_sender = {a: v for a, v in by_sender.items() if a and len(a) <= MAX_ADDRESS}
    if not by_sender or (action not in COUNTERS and action not in ENGAGING):
        return
    await db.execute(
        _insert(db)(SenderStats.__table__)
        .values([{"user_id": user_id, "address": a, "name": n} for a, (_, n) in by_sender.items()])
        .on_conflict_do_nothing(index_elements=["user_id", "address"])
    )
    for address, (count, name) in sorted(by_sender.items()):
        values: dict[str, Any] = {}
        if action in COUNTERS:
            counter, delta = COUNTERS[action]
            column = getattr(SenderStats, counter)
            values[counter] = case((column + delta * count < 0, 0), else_=column + delta * count)
        if action in ENGAGING:
            values["last_action_at"] = now
        if name:
            values["name"] = name
        await db.execute(
            update(SenderStats)
            .where(SenderStats.user_id == user_id, SenderStats.address == address)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


# --- the model --------------------------------------------------------------------------------


async def _model_row(db: AsyncSession, user_id: uuid.UUID) -> AiUserModel:
    """The user's model row, created if missing and locked until the transaction ends (on
    PostgreSQL; SQLite has one writer anyway), so two workers never lose each other's update."""
    await db.execute(
        _insert(db)(AiUserModel.__table__)
        .values(user_id=user_id, state={}, threshold=DEFAULT_THRESHOLD, updates=0)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    query = (
        select(AiUserModel)
        .where(AiUserModel.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await db.scalars(query)).one()


async def _took_part(
    db: AsyncSession, user_id: uuid.UUID, messages: Sequence[Message], own: frozenset[str]
) -> dict[uuid.UUID, datetime]:
    """When the user first wrote in each of these messages' threads."""
    threads = {m.thread_id for m in messages if m.thread_id is not None}
    if not threads or not own:
        return {}
    rows = await db.execute(
        select(Message.thread_id, func.min(Message.received_at))
        .where(
            Message.user_id == user_id,
            Message.thread_id.in_(list(threads)),
            func.lower(Message.from_address).in_(sorted(own)),
        )
        .group_by(Message.thread_id)
    )
    return {thread: first for thread, first in rows if thread is not None}


async def _teach(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    messages: Sequence[Message],
    action: str,
    own: frozenset[str],
    facts: Mapping[str, SenderFacts],
) -> None:
    """Teach the model each message's features with the action's label, as the message looked
    before this action was counted (`facts`: the counters read before they moved)."""
    important, weight = FEEDBACK[action]
    ids = [m.id for m in messages]
    insights = {
        i.message_id: i
        for i in (
            await db.scalars(select(MessageInsight).where(MessageInsight.message_id.in_(ids)))
        ).all()
    }
    first_written = await _took_part(db, user_id, messages, own)
    row = await _model_row(db, user_id)
    model = PriorityModel.from_state(row.state)
    for message in messages:
        view = view_of_message(message, user_addresses=own)
        wrote = first_written.get(message.thread_id) if message.thread_id else None
        x = features(
            view,
            stats=facts.get(view.from_address),
            triage=triage_of(insights.get(message.id), view),
            user_replied_in_thread=wrote is not None and wrote < message.received_at,
        )
        model.learn(x, important=important, weight=weight)
    row.state = model.to_state()
    row.updates = model.updates


async def _apply(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    messages: Sequence[Message],
    action: str,
    value: str | None,
    own: frozenset[str],
) -> None:
    """Log the action on each message, then teach and count it for the others' mail."""
    if not messages:
        return
    now = utcnow()
    db.add_all(
        AiAction(
            user_id=user_id,
            message_id=m.id,
            sender=m.from_address.lower(),
            action=action,
            value=value,
            at=now,
        )
        for m in messages
    )
    # Sessions here do not autoflush: flushed now, a later call in the same transaction sees
    # these rows (an open said twice in one transaction is still counted once).
    await db.flush()
    others = [m for m in messages if m.from_address.lower() not in own]
    if not others or action not in FEEDBACK:
        return
    facts = await sender_facts(db, user_id, (m.from_address for m in others), now=now)
    # Sender rows are locked before the model row, in every path (arrivals lock only sender
    # rows): two transactions never wait on each other in opposite orders.
    await _count(db, user_id=user_id, messages=others, action=action, now=now)
    await _teach(db, user_id=user_id, messages=others, action=action, own=own, facts=facts)


async def record_actions(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    message_ids: Sequence[int],
    action: str,
    value: str | None = None,
) -> None:
    """Something the user did with some of their messages (others' ids are ignored): logged,
    counted for each sender, and taught to the user's model. `recategorise` is only logged
    (the category model learns corrections elsewhere)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    ids = sorted(set(message_ids))
    if not ids:
        return
    messages = list(
        (
            await db.scalars(select(Message).where(Message.id.in_(ids), Message.user_id == user_id))
        ).all()
    )
    if action in ONCE and messages:
        done = set(
            (
                await db.scalars(
                    select(AiAction.message_id).where(
                        AiAction.user_id == user_id,
                        AiAction.action == action,
                        AiAction.message_id.in_([m.id for m in messages]),
                    )
                )
            ).all()
        )
        messages = [m for m in messages if m.id not in done]
    own = await user_addresses(db, user_id)
    await _apply(db, user_id=user_id, messages=messages, action=action, value=value, own=own)


async def learn_from_inaction(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    settle_after: timedelta = timedelta(days=2),
    window: timedelta = timedelta(days=30),
    limit: int = 500,
) -> int:
    """Settle inbox mail nobody acted on in Postwise once it is `settle_after` old: still
    unread, it was ignored (a weak "not important"); read, it was opened in another client
    (an "open"). Without this the model would hear only about mail the user touched here.
    Oldest first, at most `limit` messages a call; returns how many were settled."""
    now = utcnow()
    own = await user_addresses(db, user_id)
    query = (
        select(Message)
        .join(Folder, Folder.id == Message.folder_id)
        .where(
            Message.user_id == user_id,
            Folder.role == "inbox",
            Message.is_draft.is_(False),
            Message.received_at >= now - window,
            Message.received_at < now - settle_after,
            not_(exists().where(AiAction.message_id == Message.id)),
        )
        .order_by(Message.received_at, Message.id)
        .limit(limit)
    )
    if own:
        query = query.where(func.lower(Message.from_address).not_in(sorted(own)))
    messages = list((await db.scalars(query)).all())
    for read in (False, True):
        group = [m for m in messages if m.is_read is read]
        action, value = ("open", READ_ELSEWHERE) if read else (IGNORED, None)
        await _apply(db, user_id=user_id, messages=group, action=action, value=value, own=own)
    return len(messages)


# --- scoring and the threshold ----------------------------------------------------------------


async def score_messages(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    items: Sequence[tuple[MailView, Triage, bool]],
) -> list[Scored]:
    """Priority, bucket, Important and reasons for each (mail, triage, user took part in its
    thread), in order: the senders' counters in one query, the model once."""
    if not items:
        return []
    facts = await sender_facts(db, user_id, (mail.from_address for mail, _, _ in items))
    row = await db.get(AiUserModel, user_id)
    model = PriorityModel.from_state(row.state if row is not None else None)
    threshold = row.threshold if row is not None else DEFAULT_THRESHOLD
    out: list[Scored] = []
    for mail, triage, took_part in items:
        stats = facts.get(mail.from_address.lower())
        x = features(mail, stats=stats, triage=triage, user_replied_in_thread=took_part)
        priority = model.score(x)
        important = priority >= threshold
        name = mail.from_name or (stats.name if stats else "") or mail.from_address
        out.append(
            Scored(
                priority=priority,
                bucket=bucket(priority, threshold),
                important=important,
                reasons=model.reasons(x, sender_name=name, important=important),
            )
        )
    return out


async def refresh_threshold(db: AsyncSession, *, user_id: uuid.UUID, share: float) -> float:
    """Set the user's Important threshold so about `share` of their inbox mail of the last 30
    days lies above it (within `priority.threshold_for`'s bounds); returns it."""
    since = utcnow() - THRESHOLD_WINDOW
    scores = (
        await db.scalars(
            select(MessageInsight.priority)
            .join(Message, Message.id == MessageInsight.message_id)
            .join(Folder, Folder.id == Message.folder_id)
            .where(
                MessageInsight.user_id == user_id,
                Message.user_id == user_id,
                Folder.role == "inbox",
                Message.received_at >= since,
            )
            .order_by(Message.received_at.desc())
            .limit(THRESHOLD_SAMPLE)
        )
    ).all()
    threshold = threshold_for(list(scores), share=share)
    row = await _model_row(db, user_id)
    row.threshold = threshold
    return threshold
