"""Gauges read from storage when Prometheus scrapes: mailboxes by sync state, active sessions
and the job backlog. A few COUNT queries per scrape, never on a request's path; readings are
reused for a few seconds so that several scrapers (or a reload storm) cost one reading."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise.accounts.models import AccountKind, MailAccount, SyncState
from postwise.auth.models import AuthSession
from postwise.db import utcnow
from postwise.observability.metrics import Metrics

log = structlog.get_logger(__name__)

# Prometheus scrapes every 15-60 s; two scrapes closer than this share one reading.
REUSE_S = 5.0
QueueDepth = Callable[[], Awaitable[int | None]]


async def refresh(
    metrics: Metrics,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    queue_depth: QueueDepth | None = None,
) -> None:
    """Read the storage gauges into `metrics.snapshot`; a failure leaves them unreported
    rather than stale (and never fails the scrape: the HTTP metrics matter most then)."""
    snap = metrics.snapshot
    now = time.monotonic()
    if snap.read_at and now - snap.read_at < REUSE_S:
        return
    snap.read_at = now
    snap.states = tuple(state.value for state in SyncState)
    try:
        async with sessionmaker() as db:
            rows = await db.execute(
                select(MailAccount.sync_state, func.count())
                .where(MailAccount.kind == AccountKind.IMAP)
                .group_by(MailAccount.sync_state)
            )
            snap.mailboxes_by_state = {str(state): int(count) for state, count in rows.all()}
            moment = utcnow()
            snap.active_sessions = int(
                await db.scalar(
                    select(func.count())
                    .select_from(AuthSession)
                    .where(
                        AuthSession.revoked_at.is_(None),
                        AuthSession.expires_at > moment,
                        AuthSession.idle_expires_at > moment,
                    )
                )
                or 0
            )
    except Exception as error:
        log.warning("metrics_database_read_failed", error=str(error))
        snap.mailboxes_by_state = None
        snap.active_sessions = None
    if queue_depth is not None:
        try:
            snap.jobs_queued = await queue_depth()
        except Exception as error:
            log.warning("metrics_queue_read_failed", error=str(error))
            snap.jobs_queued = None
            return
        if snap.jobs_queued is None and snap.local_jobs_queued is None:
            snap.local_jobs_queued = 0  # the in-process queue, empty so far
