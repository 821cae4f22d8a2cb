"""A request the client abandons (a reload mid-request cancels it) is not a server error: it
is recorded as 499, so the 5xx error-rate alert never counts a user's reload."""

from __future__ import annotations

import asyncio

from prometheus_client import generate_latest
from starlette.types import Receive, Scope, Send

from postwise.observability.metrics import Metrics
from postwise.observability.middleware import RequestContextMiddleware


async def test_a_cancelled_request_counts_as_499_not_500() -> None:
    entered = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        entered.set()
        await asyncio.sleep(60)

    metrics = Metrics()
    app = RequestContextMiddleware(slow, metrics=metrics)
    scope: Scope = {"type": "http", "method": "GET", "path": "/favicon.ico", "headers": []}

    async def receive() -> dict[str, object]:
        return {"type": "http.request"}

    async def send(message: dict[str, object]) -> None:
        raise AssertionError("nothing is sent for an abandoned request")

    task = asyncio.create_task(app(scope, receive, send))
    await entered.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    exposition = generate_latest(metrics.registry).decode()
    assert 'status="499"' in exposition
    assert 'status="500"' not in exposition
