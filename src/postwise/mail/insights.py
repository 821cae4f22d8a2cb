"""The assistant's conclusions about messages, stored with them, and rolled up to their threads.

`postwise.ai` computes them; this module writes them, because mail owns every message and
thread row (and search and the thread list read them). A user's own correction (a category
they chose, important or not) is never overwritten by a later triage.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.db import utcnow
from postwise.mail.models import Message, MessageInsight, Thread

__all__ = [
    "InsightValues",
    "insights_of",
    "refresh_thread_insights",
    "set_user_category",
    "set_user_important",
    "store_insights",
]

# The assistant's categories (`ai.results.Category` names the same ones; a test keeps them
# equal): search validates `category:` against them without importing the assistant.
CATEGORIES = (
    "personal",
    "work",
    "newsletter",
    "notification",
    "promotion",
    "receipt",
    "calendar",
    "social",
    "cold_outreach",
)
USER = "user"
AUTO = "auto"


@dataclass(frozen=True)
class InsightValues:
    message_id: int
    category: str
    needs_reply: bool
    needs_reply_confidence: float
    priority: float
    priority_bucket: str
    important: bool
    summary: str
    reasons: list[str] = field(default_factory=list)
    action_items: list[dict[str, Any]] = field(default_factory=list)
    provider: str = "local"
    model: str = ""


async def insights_of(
    db: AsyncSession, user_id: uuid.UUID, message_ids: Collection[int]
) -> dict[int, MessageInsight]:
    if not message_ids:
        return {}
    rows = await db.scalars(
        select(MessageInsight).where(
            MessageInsight.message_id.in_(list(message_ids)), MessageInsight.user_id == user_id
        )
    )
    return {row.message_id: row for row in rows.all()}


async def store_insights(
    db: AsyncSession, user_id: uuid.UUID, values: Sequence[InsightValues]
) -> set[uuid.UUID]:
    """Write (or rewrite) these messages' insights, keeping the user's own corrections, and
    roll them up to their threads. Messages that are gone or not the user's are skipped.
    Returns the threads touched."""
    if not values:
        return set()
    ids = [v.message_id for v in values]
    owned = dict(
        (
            await db.execute(
                select(Message.id, Message.thread_id).where(
                    Message.id.in_(ids), Message.user_id == user_id
                )
            )
        ).all()
    )
    existing = await insights_of(db, user_id, owned.keys())
    now = utcnow()
    for value in values:
        if value.message_id not in owned:
            continue
        row = existing.get(value.message_id)
        if row is None:
            row = MessageInsight(message_id=value.message_id, user_id=user_id)
            db.add(row)
        if row.category_source != USER:
            row.category, row.category_source = value.category, AUTO
        if row.important_source != USER:
            row.important, row.important_source = value.important, AUTO
        row.needs_reply = value.needs_reply
        row.needs_reply_confidence = value.needs_reply_confidence
        row.priority = value.priority
        row.priority_bucket = value.priority_bucket
        row.reasons = list(value.reasons)
        row.summary = value.summary
        row.action_items = list(value.action_items)
        row.provider, row.model, row.triaged_at = value.provider, value.model, now
    await db.flush()
    threads = {tid for tid in owned.values() if tid is not None}
    await refresh_thread_insights(db, threads)
    return threads


async def set_user_important(
    db: AsyncSession, user_id: uuid.UUID, message_ids: Collection[int], *, important: bool
) -> set[uuid.UUID]:
    """The user's own verdict, kept over any later triage. Returns the threads touched."""
    for row in (await insights_of(db, user_id, message_ids)).values():
        row.important, row.important_source = important, USER
    return await _after_user_change(db, user_id, message_ids)


async def set_user_category(
    db: AsyncSession, user_id: uuid.UUID, message_ids: Collection[int], *, category: str
) -> set[uuid.UUID]:
    for row in (await insights_of(db, user_id, message_ids)).values():
        row.category, row.category_source = category, USER
    return await _after_user_change(db, user_id, message_ids)


async def _after_user_change(
    db: AsyncSession, user_id: uuid.UUID, message_ids: Collection[int]
) -> set[uuid.UUID]:
    await db.flush()
    found = set(
        (
            await db.scalars(
                select(Message.thread_id).where(
                    Message.id.in_(list(message_ids)),
                    Message.user_id == user_id,
                    Message.thread_id.is_not(None),
                )
            )
        ).all()
    )
    threads = {t for t in found if t is not None}
    await refresh_thread_insights(db, threads)
    return threads


async def refresh_thread_insights(db: AsyncSession, thread_ids: Collection[uuid.UUID]) -> None:
    """A thread is as important as its most important message; its category is its newest
    triaged message's; it needs a reply when its newest message does (a reply from the user
    after it is a newer message, which never needs one)."""
    if not thread_ids:
        return
    rows = (
        await db.execute(
            select(
                Message.thread_id,
                Message.received_at,
                Message.id,
                MessageInsight.priority,
                MessageInsight.important,
                MessageInsight.category,
                MessageInsight.needs_reply,
                Message.is_draft,
            )
            .outerjoin(MessageInsight, MessageInsight.message_id == Message.id)
            .where(Message.thread_id.in_(list(thread_ids)))
            .order_by(Message.thread_id, Message.received_at, Message.id)
        )
    ).all()
    rolled: dict[uuid.UUID, dict[str, Any]] = {}
    for thread_id, _, _, priority, important, category, needs_reply, is_draft in rows:
        if is_draft or thread_id is None:
            continue
        values = rolled.setdefault(
            thread_id,
            {"id": thread_id, "ai_priority": None, "ai_important": False},
        )
        # Newest last: the category and needs-reply of the newest message win, and a newest
        # message that was not triaged (the user's own reply, not yet looked at) needs none.
        values["ai_category"] = category if category is not None else values.get("ai_category")
        values["ai_needs_reply"] = bool(needs_reply)
        if priority is not None:
            values["ai_priority"] = max(priority, values["ai_priority"] or 0.0)
        values["ai_important"] = values["ai_important"] or bool(important)
    for values in rolled.values():
        values.setdefault("ai_category", None)
    if rolled:
        await db.execute(update(Thread), list(rolled.values()))
