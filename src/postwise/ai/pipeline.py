"""Triage: from stored messages to insights (category, needs-reply, priority, summary, action
items), for new mail as it lands and for the mail that was there before (the backfill).

The provider answers what it can read from one message; the per-user learner
(`ai.learning`) adds the priority, since only it knows how this user treats this sender. The
results are written through `mail.insights` (mail owns message rows) in the caller's
transaction; the caller announces them after the commit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.ai import learning
from postwise.ai.engine import Assistant
from postwise.ai.mailview import MailView
from postwise.ai.pool import TriagePool
from postwise.ai.results import Triage
from postwise.ai.specs import TRIAGE
from postwise.db import utcnow
from postwise.mail.insights import InsightValues, store_insights
from postwise.mail.models import Message, MessageInsight

# Remote triage of one message at a time, this many at once (the engine bounds remote calls
# further, across everything this process asks).
REMOTE_PARALLEL = 4


@dataclass(frozen=True)
class Triaged:
    message_ids: list[int]
    thread_ids: set[uuid.UUID]
    important_ids: list[int]


async def _replied_threads(
    db: AsyncSession, thread_ids: set[uuid.UUID], own: frozenset[str]
) -> set[uuid.UUID]:
    if not thread_ids or not own:
        return set()
    rows = await db.scalars(
        select(Message.thread_id)
        .where(Message.thread_id.in_(list(thread_ids)), Message.from_address.in_(list(own)))
        .distinct()
    )
    return {t for t in rows.all() if t is not None}


async def _provider_answers(
    db: AsyncSession,
    assistant: Assistant,
    pool: TriagePool,
    *,
    user_id: uuid.UUID,
    views: Sequence[MailView],
) -> tuple[list[Triage], list[tuple[str, str]]]:
    """Each message's triage, and which provider and model gave it."""
    effective = await assistant.settings_for(db, user_id)
    if not effective.remote:
        local = await pool.triage(views, now=utcnow())
        return local, [("local", "postwise-local-1")] * len(views)
    gate = asyncio.Semaphore(REMOTE_PARALLEL)

    async def one(view: MailView) -> tuple[Triage, tuple[str, str]]:
        async with gate:
            answer = await assistant.structured(db, user_id=user_id, spec=TRIAGE, mails=[view])
        return answer.result, (answer.provider, answer.model)

    # One session is not safe for concurrent statements: the engine's cache and usage writes
    # go one message after the other, while the remote calls themselves overlap.
    answers = [await one(view) for view in views]
    return [a for a, _ in answers], [p for _, p in answers]


async def triage_messages(
    db: AsyncSession,
    assistant: Assistant,
    pool: TriagePool,
    *,
    user_id: uuid.UUID,
    message_ids: Sequence[int],
    redo: bool = False,
) -> Triaged:
    """Triage the user's messages among `message_ids` (already triaged ones only when `redo`);
    drafts are skipped. Never commits."""
    query = select(Message).where(
        Message.id.in_(list(message_ids)),
        Message.user_id == user_id,
        Message.is_draft.is_(False),
    )
    if not redo:
        query = query.where(not_(exists().where(MessageInsight.message_id == Message.id)))
    messages = list((await db.scalars(query.order_by(Message.id))).all())
    if not messages:
        return Triaged([], set(), [])
    own = await learning.user_addresses(db, user_id)
    views = [learning.view_of_message(m, user_addresses=own) for m in messages]
    results, origins = await _provider_answers(db, assistant, pool, user_id=user_id, views=views)
    replied = await _replied_threads(db, {m.thread_id for m in messages if m.thread_id}, own)
    if not redo:
        await learning.note_arrivals(db, user_id=user_id, mails=views)
    scored = await learning.score_messages(
        db,
        user_id=user_id,
        items=[
            (view, result, message.thread_id in replied)
            for view, result, message in zip(views, results, messages, strict=True)
        ],
    )
    values = [
        InsightValues(
            message_id=message.id,
            category=result.category.value,
            needs_reply=result.needs_reply,
            needs_reply_confidence=result.needs_reply_confidence,
            priority=score.priority,
            priority_bucket=score.bucket,
            important=score.important,
            reasons=list(score.reasons),
            summary=result.summary,
            action_items=[item.model_dump(mode="json") for item in result.action_items],
            provider=provider,
            model=model,
        )
        for message, result, score, (provider, model) in zip(
            messages, results, scored, origins, strict=True
        )
    ]
    threads = await store_insights(db, user_id, values)
    return Triaged(
        message_ids=[v.message_id for v in values],
        thread_ids=threads,
        important_ids=[v.message_id for v in values if v.important],
    )


async def untriaged_ids(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    before_id: int | None,
    limit: int,
) -> list[int]:
    """The newest messages with no insight yet, below `before_id` (the backfill's cursor)."""
    query = select(Message.id).where(
        Message.user_id == user_id,
        Message.is_draft.is_(False),
        not_(exists().where(MessageInsight.message_id == Message.id)),
    )
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return list((await db.scalars(query.order_by(Message.id.desc()).limit(limit))).all())


async def recent_untriaged_ids(
    db: AsyncSession, user_id: uuid.UUID, *, within: timedelta, limit: int
) -> list[int]:
    """Mail that arrived lately and was not triaged: its job was lost (a restart, a Redis
    outage). The backfill picks these up first."""
    since = utcnow() - within
    query = (
        select(Message.id)
        .where(
            Message.user_id == user_id,
            Message.received_at >= since,
            Message.is_draft.is_(False),
            not_(exists().where(MessageInsight.message_id == Message.id)),
        )
        .order_by(Message.received_at.desc())
        .limit(limit)
    )
    return list((await db.scalars(query)).all())
