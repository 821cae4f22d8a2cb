"""Jobs are plain async functions registered by name; the broker is built later, in the lifespan.

Taskiq's own `@broker.task` decorator needs a broker at import time, which would make the broker
an import-time global. Collecting jobs here and registering them on whichever broker the lifespan
builds keeps configuration out of import.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise.config import Settings
from postwise.notify.mailer import Mailer
from postwise.observability.metrics import Metrics
from postwise.store import Store

if TYPE_CHECKING:
    from postwise.worker.queue import JobQueue

# Modules that define jobs; importing them fills the registry. Each domain adds its tasks module.
JOB_MODULES: tuple[str, ...] = (
    "postwise.worker.tasks",
    "postwise.notify.tasks",
    "postwise.auth.tasks",
    "postwise.sync.tasks",
    "postwise.imports.router",
    "postwise.mail.tasks",
    "postwise.notifications.tasks",
    "postwise.compose.events",
    "postwise.compose.tasks",
    "postwise.ai.tasks",
    "postwise.backup.tasks",
)


@dataclass(frozen=True)
class JobContext:
    """What a running job may use: injected by the process that runs it, never imported."""

    settings: Settings
    store: Store
    sessionmaker: async_sessionmaker[AsyncSession]
    jobs: JobQueue
    mailer: Mailer
    # The assistant's engine and triage pool (`ai.services.AiServices`; None: built on first
    # use, see `ai.tasks.ai_of`). Untyped here: naming the class would make every domain's
    # jobs import the assistant, which sits above them (the import contract).
    ai: object | None = None
    # This process's Prometheus metrics (None: not measured, as in most tests).
    metrics: Metrics | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The job owns its transaction, exactly as a request does."""
        from postwise.worker.queue import transaction

        async with transaction(self.sessionmaker, self.jobs) as session:
            yield session


# Jobs take the context first and keyword arguments after it; the kwargs travel as JSON.
JobFunction = Callable[..., Awaitable[object]]


@dataclass(frozen=True)
class Schedule:
    """Run every `interval` seconds; one run per interval across all worker processes."""

    interval: int


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: JobFunction
    schedule: Schedule | None = None
    retries: int = 0


@dataclass
class JobRegistry:
    jobs: dict[str, JobSpec] = field(default_factory=dict)

    def job(
        self, name: str, *, schedule: Schedule | None = None, retries: int = 0
    ) -> Callable[[JobFunction], JobFunction]:
        def register(func: JobFunction) -> JobFunction:
            if name in self.jobs and self.jobs[name].func is not func:
                raise ValueError(f"job {name!r} is registered twice")
            self.jobs[name] = JobSpec(name=name, func=func, schedule=schedule, retries=retries)
            return func

        return register


registry = JobRegistry()
job = registry.job


def load_jobs() -> JobRegistry:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return registry
