"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from postwise import db
from postwise.deps import ServicesDep
from postwise.kit.errors import problem_response, problem_responses
from postwise.observability import scrape
from postwise.worker.broker import queued_jobs

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ok"] = "ok"
    checks: dict[str, str]


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health()


async def _check(probe: Awaitable[None], limit: float) -> str:
    try:
        await asyncio.wait_for(probe, limit)
    except TimeoutError:
        return f"timeout after {limit:g}s"
    except Exception as error:
        return f"error: {type(error).__name__}: {error}"[:300]
    return "ok"


@router.get(
    "/readyz",
    summary="Readiness: the database and the store answer",
    response_model=Readiness,
    responses={
        503: {
            **problem_responses(503)[503],
            "description": "A dependency failed; `checks` says which.",
        }
    },
)
async def readyz(services: ServicesDep) -> Readiness | JSONResponse:
    timeout = services.settings.database_timeout
    database, store = await asyncio.gather(
        _check(db.ping(services.engine), timeout),
        _check(services.store.ping(), timeout),
    )
    checks = {"database": database, "store": store}
    failed = sorted(name for name, result in checks.items() if result != "ok")
    if failed:
        return problem_response(
            503,
            "not_ready",
            detail=f"Not ready: {', '.join(failed)} failed.",
            checks=checks,
            headers={"Retry-After": "5"},
        )
    return Readiness(checks=checks)


@router.get("/metrics", include_in_schema=False)
async def metrics(services: ServicesDep) -> Response:
    broker = services.jobs.broker
    await scrape.refresh(
        services.metrics, services.sessionmaker, queue_depth=lambda: queued_jobs(broker)
    )
    body, content_type = services.metrics.render()
    return Response(body, media_type=content_type)
