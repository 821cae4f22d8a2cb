"""The assistant's jobs (docs/ai.md).

- `ai.triage` {user_id, message_ids}: new mail, right after the sync or an import committed it
  (`events.request_triage`). The sync never waits for it, and while a mailbox is mirrored for
  the first time its user's mail is left to the backfill, which runs once the mirror is done.
- `ai.observe` {user_id, message_ids, action, value}: something the user did (read, replied,
  archived unread, starred, ...): the learner updates the sender's counts and the user's model.
- `ai.tune` (every 10 minutes): per user, learns from mail left alone (`learning.
  learn_from_inaction`) and moves the Important threshold to keep the user's target share.
- `ai.backfill` (every 20 s): mail with no insight yet, newest first, in small transactions and
  within a time budget per run, so that the app stays responsive while 100,000 messages are
  looked at; recent mail whose triage job was lost is taken first.
"""

from __future__ import annotations

import time
import uuid
import weakref
from datetime import timedelta

import structlog
from sqlalchemy import select

from postwise.accounts.models import MailAccount, SyncState
from postwise.ai import learning, pipeline
from postwise.ai.engine import DEFAULT_IMPORTANT_SHARE as DEFAULT_SHARE
from postwise.ai.models import AiSettings
from postwise.ai.pipeline import Triaged, recent_untriaged_ids, untriaged_ids, user_lock
from postwise.ai.services import AiServices, build_ai
from postwise.db import bulk_transaction
from postwise.events import AI_OBSERVE_JOB, AI_TRIAGE_JOB, EventType, announce
from postwise.worker.registry import JobContext, Schedule, job

log = structlog.get_logger(__name__)

BACKFILL_JOB = "ai.backfill"
BACKFILL_INTERVAL = 20
# Messages per transaction, and the share of each interval a run may spend triaging.
CHUNK = 100
RUN_BUDGET_SECONDS = 8.0
RECENT = timedelta(hours=6)

# Jobs run by a process whose lifespan built no assistant (tests that make their own
# JobContext) get one per context, built once.
_fallback: weakref.WeakKeyDictionary[object, AiServices] = weakref.WeakKeyDictionary()


def ai_of(ctx: JobContext) -> AiServices:
    if isinstance(ctx.ai, AiServices):
        return ctx.ai
    found = _fallback.get(ctx.store)
    if found is None:
        found = _fallback[ctx.store] = build_ai(ctx.settings, metrics=ctx.metrics)
    return found


async def _announce(ctx: JobContext, user_id: uuid.UUID, triaged: Triaged) -> None:
    if not triaged.message_ids:
        return
    await announce(
        ctx.store,
        user_id,
        EventType.MESSAGE_TRIAGED,
        {
            "message_ids": triaged.message_ids,
            "thread_ids": sorted(str(t) for t in triaged.thread_ids),
            "important_message_ids": triaged.important_ids,
        },
    )


async def _triage(
    ctx: JobContext, user_id: uuid.UUID, message_ids: list[int], *, redo: bool = False
) -> Triaged:
    """Read, ask, write: three transactions, so that a remote model's answer is never awaited
    with a write transaction open (on SQLite that would hold the only write lock)."""
    ai = ai_of(ctx)
    async with user_lock(user_id):
        async with ctx.sessionmaker() as db:
            prepared = await pipeline.prepare(
                db, user_id=user_id, message_ids=message_ids, redo=redo
            )
        if not prepared.message_ids:
            return Triaged([], set(), [])
        results, origins = await pipeline.answer(
            ai.assistant, ai.pool, user_id=user_id, views=prepared.views, sessions=ctx.transaction
        )
        async with ctx.transaction() as db:
            # Background work: on SQLite, interactive writes go first.
            await bulk_transaction(db)
            triaged = await pipeline.store(
                db, user_id=user_id, prepared=prepared, results=results, origins=origins, redo=redo
            )
    await _announce(ctx, user_id, triaged)
    return triaged


async def _mirroring(ctx: JobContext, user_id: uuid.UUID) -> bool:
    """Whether one of the user's mailboxes is being mirrored for the first time. Its mail is
    left to the backfill until that ends: on a machine whose cores the first sync already
    keeps busy (parsing), triaging alongside made the sync 1.6x slower (docs/benchmarks.md,
    "Sync with triage on and off"), and a first sync is when people wait for their mail."""
    async with ctx.sessionmaker() as db:
        found = await db.scalar(
            select(MailAccount.id)
            .where(MailAccount.user_id == user_id, MailAccount.sync_state == SyncState.INITIAL)
            .limit(1)
        )
    return found is not None


@job(AI_TRIAGE_JOB)
async def triage_new_mail(ctx: JobContext, *, user_id: str, message_ids: list[int]) -> int:
    if not ctx.settings.ai_triage:
        return 0
    owner = uuid.UUID(user_id)
    if await _mirroring(ctx, owner):
        # Left to the backfill, which may have finished with the user's other mail: it must
        # walk again once the mirror is done (a second mailbox's mail lies above its cursor).
        await _move_cursor(ctx, owner, None, done=False)
        return 0
    done = 0
    for start in range(0, len(message_ids), CHUNK):
        done += len((await _triage(ctx, owner, message_ids[start : start + CHUNK])).message_ids)
    return done


@job(AI_OBSERVE_JOB)
async def observe(
    ctx: JobContext,
    *,
    user_id: str,
    message_ids: list[int],
    action: str,
    value: str | None = None,
) -> None:
    async with ctx.transaction() as db:
        await learning.record_actions(
            db, user_id=uuid.UUID(user_id), message_ids=message_ids, action=action, value=value
        )


async def _backfill_user(ctx: JobContext, user_id: uuid.UUID, deadline: float) -> int:
    """Triage this user's untriaged mail until `deadline`: recent mail first (lost jobs),
    then the rest from the cursor down. Returns how many were triaged."""
    recent, count = True, 0
    while time.monotonic() < deadline:
        async with ctx.sessionmaker() as db:
            state = await db.get(AiSettings, user_id)
            if recent:
                ids = await recent_untriaged_ids(db, user_id, within=RECENT, limit=CHUNK)
            elif state is not None and state.backfill_done:
                return count
            else:
                cursor = state.backfill_before_id if state is not None else None
                ids = await untriaged_ids(db, user_id, before_id=cursor, limit=CHUNK)
        if not ids and recent:
            recent = False
            continue
        if not ids:
            await _move_cursor(ctx, user_id, None, done=True)
            return count
        count += len((await _triage(ctx, user_id, ids)).message_ids)
        if not recent:
            await _move_cursor(ctx, user_id, min(ids), done=False)
    return count


async def _move_cursor(
    ctx: JobContext, user_id: uuid.UUID, before_id: int | None, *, done: bool
) -> None:
    async with ctx.transaction() as db:
        state = await db.get(AiSettings, user_id)
        if state is None:
            state = AiSettings(user_id=user_id)
            db.add(state)
        state.backfill_before_id = before_id
        state.backfill_done = done


@job(BACKFILL_JOB, schedule=Schedule(interval=BACKFILL_INTERVAL))
async def backfill(ctx: JobContext) -> int:
    """Every user with mailboxes whose mail is not all triaged yet, or whose recent mail is
    waiting (a lost triage job), one after the other within the run's budget."""
    if not ctx.settings.ai_triage:
        return 0
    deadline = time.monotonic() + RUN_BUDGET_SECONDS
    async with ctx.sessionmaker() as db:
        users = list((await db.scalars(select(MailAccount.user_id).distinct())).all())
    triaged = 0
    for user_id in users:
        if time.monotonic() >= deadline:
            break
        try:
            if await _mirroring(ctx, user_id):
                continue
            triaged += await _backfill_user(ctx, user_id, deadline)
        except Exception:
            # One user's bad mail must not stop everyone else's triage.
            log.exception("ai_backfill_failed", user_id=str(user_id))
    return triaged


TUNE_JOB = "ai.tune"
TUNE_INTERVAL = 600


@job(TUNE_JOB, schedule=Schedule(interval=TUNE_INTERVAL))
async def tune(ctx: JobContext) -> int:
    """Mail nobody acted on in Postwise still teaches the learner (unread for days: ignored;
    read: opened elsewhere), and the threshold follows the scores so Important stays near the
    user's share of the inbox."""
    if not ctx.settings.ai_triage:
        return 0
    async with ctx.sessionmaker() as db:
        users = list((await db.scalars(select(MailAccount.user_id).distinct())).all())
    tuned = 0
    for user_id in users:
        try:
            async with ctx.transaction() as db:
                await bulk_transaction(db)
                await learning.learn_from_inaction(db, user_id=user_id)
                state = await db.get(AiSettings, user_id)
                share = state.important_share if state is not None else DEFAULT_SHARE
                await learning.refresh_threshold(db, user_id=user_id, share=share)
            tuned += 1
        except Exception:
            log.exception("ai_tune_failed", user_id=str(user_id))
    return tuned
