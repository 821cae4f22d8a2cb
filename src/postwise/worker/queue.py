"""Enqueue jobs inside a transaction; they leave only after it commits.

A job enqueued by a request that then fails must not run (it would act on rows that were never
written), so jobs wait in the session until the owner of the transaction has committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskiq import AsyncBroker

_PENDING = "postwise_pending_jobs"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PendingJob:
    name: str
    kwargs: dict[str, Any]


def enqueue_job(session: AsyncSession, name: str, /, **kwargs: Any) -> None:
    """Queue `name` to run once the session's transaction commits; dropped on rollback."""
    pending: list[PendingJob] = session.info.setdefault(_PENDING, [])
    pending.append(PendingJob(name=name, kwargs=kwargs))


def _take_pending(session: AsyncSession) -> list[PendingJob]:
    return cast(list[PendingJob], session.info.pop(_PENDING, []))


class JobQueue:
    """Sends jobs to the broker: in-process by default, Redis streams in production."""

    def __init__(self, broker: AsyncBroker) -> None:
        self.broker = broker

    async def send(self, name: str, /, **kwargs: Any) -> str:
        task = self.broker.find_task(name)
        if task is None:
            raise LookupError(f"unknown job {name!r}")
        sent = await task.kiq(**kwargs)
        return sent.task_id

    async def dispatch(self, jobs: list[PendingJob]) -> None:
        for pending in jobs:
            try:
                await self.send(pending.name, **pending.kwargs)
            except Exception:
                # The transaction is already committed; failing the request now would tell the
                # client its change was lost when it was not. Log loudly instead.
                log.exception("job_dispatch_failed", job=pending.name)


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession], jobs: JobQueue
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on error, then send the queued jobs."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException as error:
            if getattr(error, "commit", False) is True:
                await session.commit()
                await jobs.dispatch(_take_pending(session))
            else:
                _take_pending(session)
                await session.rollback()
            raise
        await session.commit()
        await jobs.dispatch(_take_pending(session))
