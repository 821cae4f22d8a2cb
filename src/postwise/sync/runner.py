"""Starting and stopping the sync engine inside a process (API lifespan or `postwise worker`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise.config import Settings
from postwise.mail.parsing import parse_pool
from postwise.observability.metrics import Metrics
from postwise.store import Store
from postwise.sync.context import build_sync_context
from postwise.sync.owner import owner_identity
from postwise.sync.supervisor import Supervisor
from postwise.worker.queue import JobQueue

log = structlog.get_logger(__name__)
STOP_TIMEOUT_S = 15.0


@asynccontextmanager
async def sync_engine(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: Store,
    worker_id: str | None = None,
    role: str = "serve",
    jobs: JobQueue | None = None,
    metrics: Metrics | None = None,
) -> AsyncIterator[Supervisor]:
    """The engine for this process. Its leases are held under the process's slot name for
    `role` ("serve": the embedded engine of `postwise serve`; "worker": `postwise worker`), so a
    restart resumes them at once (`owner.py`); `worker_id` overrides it (tests)."""
    with contextlib.ExitStack() as stack:
        if worker_id is None:
            worker_id = stack.enter_context(owner_identity(settings.data_dir, role))
        executor = stack.enter_context(parse_pool(settings))
        ctx = build_sync_context(
            settings,
            sessionmaker=sessionmaker,
            store=store,
            executor=executor,
            jobs=jobs,
            metrics=metrics,
        )
        supervisor = Supervisor(ctx, worker_id=worker_id)
        task = asyncio.create_task(supervisor.run())
        log.info("sync_engine_started", worker=supervisor.worker_id)
        try:
            yield supervisor
        finally:
            task.cancel()
            _, lingering = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
            if lingering:
                log.warning("sync_engine_stop_timeout")
            log.info("sync_engine_stopped", worker=supervisor.worker_id)
