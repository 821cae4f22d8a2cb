"""Liveness, readiness (and which dependency failed), and the metrics endpoint."""

from __future__ import annotations

import time

import httpx
import pytest
from asgi_lifespan import LifespanManager

from postwise.app import create_app

pytestmark = [pytest.mark.asyncio, pytest.mark.backend]


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_everything_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "store": "ok"}}


async def _get(settings, path: str) -> httpx.Response:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.get(path)


async def test_readyz_names_the_failed_store(make_settings) -> None:
    # Port 9 (discard) has nothing listening here: the Redis store cannot answer.
    response = await _get(make_settings(redis_url="redis://127.0.0.1:9/0"), "/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["store"] != "ok"
    assert "store" in body["detail"] and "database" not in body["detail"]


async def test_readyz_names_the_failed_database(make_settings) -> None:
    settings = make_settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:9/none", database_timeout=2
    )
    started = time.monotonic()
    response = await _get(settings, "/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["store"] == "ok"
    assert body["checks"]["database"].startswith("error")


async def test_metrics_show_the_requests_just_made(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in response.text
