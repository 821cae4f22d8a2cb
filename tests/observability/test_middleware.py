"""Request ids, access log, log file rotation, metrics, security headers, CORS, gzip, body limit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from postwise.app import create_app
from postwise.config import Settings
from tests.routes import router

pytestmark = [pytest.mark.asyncio, pytest.mark.backend]


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


async def _client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    app.include_router(router)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def _log_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_request_id_generated_echoed_and_accepted(client: httpx.AsyncClient) -> None:
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert len(generated) == 32
    again = (await client.get("/healthz")).headers["x-request-id"]
    assert again != generated
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123.DEF"})
    assert given.headers["x-request-id"] == "abc-123.DEF"
    # Something that could forge log lines or headers is replaced, not echoed.
    hostile = await client.get("/healthz", headers={"X-Request-ID": "a b\tc" + "x" * 200})
    assert hostile.headers["x-request-id"] != "a b\tc" + "x" * 200
    assert len(hostile.headers["x-request-id"]) == 32


async def test_every_log_line_of_a_request_carries_its_id(make_settings, tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "postwise.log"
    settings = make_settings(log_file=log_file, log_format="json")
    inner = structlog.get_logger("tests.inner")

    app = create_app(settings)

    @app.get("/api/test/logs")
    async def logs_something() -> dict[str, bool]:
        inner.info("inside_handler", detail="from the endpoint")
        return {"ok": True}

    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/api/test/logs", headers={"X-Request-ID": "req-77"})
    assert response.status_code == 200
    lines = _log_lines(log_file)
    inside = [line for line in lines if line.get("event") == "inside_handler"]
    access = [line for line in lines if line.get("event") == "request"]
    assert inside and inside[0]["request_id"] == "req-77"
    assert access and access[-1]["request_id"] == "req-77"
    assert access[-1]["route"] == "/api/test/logs"
    assert access[-1]["status"] == 200
    assert isinstance(access[-1]["duration_ms"], float)
    # A line logged outside any request does not inherit a stale id.
    inner.info("outside_request")
    outside = [line for line in _log_lines(log_file) if line.get("event") == "outside_request"]
    assert outside and "request_id" not in outside[0]


async def test_log_file_rotates_by_size_and_count(make_settings, tmp_path: Path) -> None:
    log_file = tmp_path / "rotating.log"
    settings = make_settings(log_file=log_file, log_file_max_bytes=2000, log_file_backups=2)
    async for http in _client_for(settings):
        for number in range(60):
            await http.get(f"/api/test/items/{number}")
    names = sorted(path.name for path in tmp_path.glob("rotating.log*"))
    assert names == ["rotating.log", "rotating.log.1", "rotating.log.2"]
    assert all(path.stat().st_size <= 2000 + 1000 for path in tmp_path.glob("rotating.log*"))


async def test_metrics_use_route_templates_never_raw_paths(client: httpx.AsyncClient) -> None:
    for item in (1, 2, 3):
        assert (await client.get(f"/api/test/items/{item}")).status_code == 200
    await client.get("/api/test/items/oops")
    text = (await client.get("/metrics")).text
    route = 'route="/api/test/items/{item_id}"'
    assert f'http_requests_total{{method="GET",{route},status="200"}} 3.0' in text
    assert f'http_requests_total{{method="GET",{route},status="422"}} 1.0' in text
    assert f'http_request_duration_seconds_count{{method="GET",{route}}} 4.0' in text
    assert "/api/test/items/1" not in text and "items/oops" not in text
    # The scrape itself is in flight while the gauge is read.
    assert "http_requests_in_flight 1.0" in text
    assert "process_resident_memory_bytes" in text


async def test_unknown_paths_share_one_label(client: httpx.AsyncClient) -> None:
    for number in range(5):
        await client.get(f"/api/nothing-{number}")
    text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 5.0' in text


async def test_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]


async def test_cors_from_settings(make_settings) -> None:
    settings = make_settings(cors_origins=["https://mail.example.org"])
    async for http in _client_for(settings):
        allowed = await http.options(
            "/api/test/people",
            headers={
                "Origin": "https://mail.example.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://mail.example.org"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        simple = await http.get("/healthz", headers={"Origin": "https://mail.example.org"})
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
        denied = await http.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in denied.headers


async def test_no_cors_headers_without_configured_origins(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_gzip_for_large_responses_only(client: httpx.AsyncClient) -> None:
    big = await client.get("/api/test/big", headers={"Accept-Encoding": "gzip"})
    assert big.headers["content-encoding"] == "gzip"
    assert big.json()["text"].startswith("postwise")
    small = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


async def test_body_limit(make_settings) -> None:
    settings = make_settings(max_body_bytes=1000)
    async for http in _client_for(settings):
        ok = await http.post("/api/test/upload", content=b"x" * 1000)
        assert ok.status_code == 200 and ok.json() == {"received": 1000}

        declared = await http.post("/api/test/upload", content=b"x" * 1001)
        assert declared.status_code == 413
        assert declared.headers["content-type"] == "application/problem+json"
        assert declared.json()["code"] == "payload_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"y" * 300

        streamed = await http.post("/api/test/upload", content=chunks())
        assert streamed.status_code == 413
        assert streamed.json()["code"] == "payload_too_large"
        assert "x-request-id" in streamed.headers
