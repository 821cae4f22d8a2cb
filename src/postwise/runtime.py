"""What the API process and a worker process both need, built and torn down in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from taskiq import AsyncBroker, InMemoryBroker

from postwise import db
from postwise.ai.services import AiServices, build_ai
from postwise.auth.throttle import rule_names
from postwise.config import Settings
from postwise.events import EventType
from postwise.notify.mailer import Mailer, build_mailer
from postwise.observability.metrics import Metrics, bind_store
from postwise.store import Store, create_store
from postwise.worker.broker import bind_context, build_broker
from postwise.worker.queue import JobQueue
from postwise.worker.registry import JobContext, load_jobs

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    store: Store
    broker: AsyncBroker
    jobs: JobQueue
    mailer: Mailer
    ai: AiServices


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, strict: bool, metrics: Metrics | None = None
) -> AsyncIterator[Runtime]:
    """Engine, store, broker and job queue; jobs get them through their JobContext.

    `strict=False` (the API) keeps serving when the broker cannot start, so /readyz can say
    what is wrong; a worker (`strict=True`) has nothing to do without it and fails.
    """
    engine = db.create_engine(settings)
    sessionmaker = db.create_sessionmaker(engine)
    store = create_store(settings.redis_url, prefix=settings.store_prefix)
    registry = load_jobs()
    broker = build_broker(settings, registry)
    jobs = JobQueue(broker)
    mailer = build_mailer(settings, store)
    ai = build_ai(settings, metrics=metrics)
    if metrics is not None:
        bind_store(store, metrics)
        metrics.prime(
            jobs=sorted(registry.jobs),
            event_types=[event.value for event in EventType],
            rate_limit_rules=rule_names(),
        )
    bind_context(
        broker,
        JobContext(
            settings=settings,
            store=store,
            sessionmaker=sessionmaker,
            jobs=jobs,
            mailer=mailer,
            ai=ai,
            metrics=metrics,
        ),
    )
    try:
        try:
            await broker.startup()
        except Exception as error:
            if strict:
                raise
            log.error("broker_startup_failed", error=str(error))
        yield Runtime(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            store=store,
            broker=broker,
            jobs=jobs,
            mailer=mailer,
            ai=ai,
        )
    finally:
        if isinstance(broker, InMemoryBroker):
            # In-process jobs still running would be lost with the process: let them finish.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(broker.wait_all(), timeout=10)
        await broker.shutdown()
        await ai.aclose()
        await store.close()
        await engine.dispose()
