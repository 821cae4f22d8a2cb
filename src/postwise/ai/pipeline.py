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
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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
LOCAL_MODEL = "postwise-local-1"


_user_locks: weakref.WeakValueDictionary[
    tuple[asyncio.AbstractEventLoop, uuid.UUID], asyncio.Lock
] = weakref.WeakValueDictionary()


def user_lock(user_id: uuid.UUID) -> asyncio.Lock:
    """One triage of a user's mail at a time in this process: a new-mail job, the backfill and
    a user's feedback may pick the same messages, and the second would ask the provider again
    before the first's answer is stored (a remote call paid twice). After the lock it finds
    them done."""
    key = (asyncio.get_running_loop(), user_id)
    lock = _user_locks.get(key)
    if lock is None:
        lock = _user_locks[key] = asyncio.Lock()
    return lock


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


@dataclass(frozen=True)
class Prepared:
    """The messages to triage, read in one short transaction."""

    message_ids: list[int]
    thread_ids: list[uuid.UUID | None]
    views: list[MailView]
    own: frozenset[str]


SessionOpener = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def prepare(
    db: AsyncSession, *, user_id: uuid.UUID, message_ids: Sequence[int], redo: bool = False
) -> Prepared:
    """The user's messages among `message_ids` (already triaged ones only when `redo`),
    drafts left out."""
    query = select(Message).where(
        Message.id.in_(list(message_ids)),
        Message.user_id == user_id,
        Message.is_draft.is_(False),
    )
    if not redo:
        query = query.where(not_(exists().where(MessageInsight.message_id == Message.id)))
    messages = list((await db.scalars(query.order_by(Message.id))).all())
    own = await learning.user_addresses(db, user_id) if messages else frozenset()
    return Prepared(
        message_ids=[m.id for m in messages],
        thread_ids=[m.thread_id for m in messages],
        views=[learning.view_of_message(m, user_addresses=own) for m in messages],
        own=own,
    )


async def answer(
    assistant: Assistant,
    pool: TriagePool,
    *,
    user_id: uuid.UUID,
    views: Sequence[MailView],
    sessions: SessionOpener,
) -> tuple[list[Triage], list[tuple[str, str]]]:
    """Each message's triage, and which provider and model gave it. Local triage runs in the
    pool; remote calls overlap (a few at a time), each with its own short session for the
    engine's cache and usage rows, so that no write transaction (on SQLite: the one write
    lock) is held while a model thinks."""
    async with sessions() as db:
        effective = await assistant.settings_for(db, user_id)
    metrics = assistant.metrics
    if not effective.remote:
        local = await pool.triage(views, now=utcnow())
        if metrics is not None:
            metrics.ai_calls.labels(provider="local", task=TRIAGE.name, outcome="ok").inc(
                len(views)
            )
            metrics.ai_triaged.inc(len(views))
        return local, [("local", LOCAL_MODEL)] * len(views)
    gate = asyncio.Semaphore(REMOTE_PARALLEL)

    async def one(view: MailView) -> tuple[Triage, tuple[str, str]]:
        async with gate, sessions() as db:
            found = await assistant.structured(db, user_id=user_id, spec=TRIAGE, mails=[view])
        return found.result, (found.provider, found.model)

    answers = await asyncio.gather(*(one(view) for view in views))
    if metrics is not None:
        metrics.ai_triaged.inc(len(views))
    return [a for a, _ in answers], [p for _, p in answers]


async def store(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    prepared: Prepared,
    results: Sequence[Triage],
    origins: Sequence[tuple[str, str]],
    redo: bool = False,
) -> Triaged:
    """Score the answers with the user's learned priority and write the insights."""
    threads = {t for t in prepared.thread_ids if t is not None}
    replied = await _replied_threads(db, threads, prepared.own)
    if not redo:
        await learning.note_arrivals(db, user_id=user_id, mails=prepared.views)
    scored = await learning.score_messages(
        db,
        user_id=user_id,
        items=[
            (view, result, thread_id in replied)
            for view, result, thread_id in zip(
                prepared.views, results, prepared.thread_ids, strict=True
            )
        ],
    )
    values = [
        InsightValues(
            message_id=message_id,
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
        for message_id, result, score, (provider, model) in zip(
            prepared.message_ids, results, scored, origins, strict=True
        )
    ]
    touched = await store_insights(db, user_id, values)
    return Triaged(
        message_ids=[v.message_id for v in values],
        thread_ids=touched,
        important_ids=[v.message_id for v in values if v.important],
    )


async def triage_messages(
    db: AsyncSession,
    assistant: Assistant,
    pool: TriagePool,
    *,
    user_id: uuid.UUID,
    message_ids: Sequence[int],
    redo: bool = False,
) -> Triaged:
    """All three steps in the caller's session (never commits): for local triage and tests.
    The jobs (`ai.tasks`) run them in separate transactions."""
    prepared = await prepare(db, user_id=user_id, message_ids=message_ids, redo=redo)
    if not prepared.message_ids:
        return Triaged([], set(), [])

    @asynccontextmanager
    async def same_session() -> AsyncIterator[AsyncSession]:
        yield db

    # One session cannot run statements concurrently: the remote calls go one at a time here.
    one_at_a_time = asyncio.Lock()

    @asynccontextmanager
    async def serialised() -> AsyncIterator[AsyncSession]:
        async with one_at_a_time, same_session() as session:
            yield session

    results, origins = await answer(
        assistant, pool, user_id=user_id, views=prepared.views, sessions=serialised
    )
    return await store(
        db, user_id=user_id, prepared=prepared, results=results, origins=origins, redo=redo
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
