"""Shared dependencies: everything a request needs is built in the lifespan and injected here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from postwise.config import Settings
from postwise.observability.metrics import Metrics
from postwise.store import Store
from postwise.worker.queue import JobQueue, transaction


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    store: Store
    jobs: JobQueue
    metrics: Metrics
    # `ai.services.AiServices`, typed where it is used (`ai.deps`): naming it here would make
    # every domain that takes a dependency import the assistant (the import contract).
    ai: object


# The trivial dependencies are `async def` on purpose: FastAPI runs plain `def` ones in a thread
# pool, a thread hop per request each (bench/auth saw it in the event loop's profile).
async def get_services(request: Request) -> Services:
    services: Services = request.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_store(services: ServicesDep) -> Store:
    return services.store


async def get_jobs(services: ServicesDep) -> JobQueue:
    return services.jobs


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: committed after the handler, jobs sent after that."""
    async with transaction(services.sessionmaker, services.jobs) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
JobsDep = Annotated[JobQueue, Depends(get_jobs)]
# scope="function": the commit happens when the handler returns, before the response is sent.
# With FastAPI's default ("request") it would run after the response went out, so a client could
# hold a token for a session not yet saved, and a failed commit would still answer 200.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
