"""Live-events harness: the real app served by a real uvicorn on a free port, real WebSockets.

The server runs in the test's event loop with the app's lifespan held by asgi-lifespan, so tests
can reach the very Store and sessionmaker the sockets use (the in-process MemoryStore has no
other way in), while every byte still crosses a TCP socket through uvicorn's WebSocket stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from taskiq import InMemoryBroker
from taskiq.api import run_receiver_task
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from postwise.app import create_app
from postwise.auth.kit import AuthKit
from postwise.db import utcnow
from postwise.deps import Services
from postwise.events import EventType, announce
from postwise.users.models import User
from tests.fixtures.dovecot import free_port

PASSWORD = "Amber-Kettle-orbit-7741"
API = {"X-Postwise-Client": "api"}
# Generous against a loaded machine; the tests that measure latency assert their own bound.
RECV_TIMEOUT = 5.0


@dataclass
class SignedIn:
    user_id: uuid.UUID
    email: str
    access_token: str
    refresh_token: str
    session_id: uuid.UUID


class LiveServer:
    def __init__(self, base_url: str, http: httpx.AsyncClient, state: dict[str, Any]) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://") + "/api/ws"
        self.http = http
        self.services: Services = state["services"]
        self.auth: AuthKit = state["auth"]

    async def add_user(self) -> tuple[uuid.UUID, str]:
        email = f"live-{uuid.uuid4().hex[:12]}@example.com"
        async with self.services.sessionmaker() as db:
            user = User(
                email=email,
                name="Live Reader",
                password_hash=await self.auth.hasher.hash(PASSWORD),
                email_verified_at=utcnow(),
            )
            db.add(user)
            await db.commit()
            return user.id, email

    async def login(self, user_id: uuid.UUID, email: str) -> SignedIn:
        """A real session through POST /api/auth/login."""
        response = await self.http.post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}, headers=API
        )
        assert response.status_code == 200, response.text
        body = response.json()
        claims = self.auth.codec.decode("access", body["access_token"])
        assert claims.session_id is not None
        return SignedIn(
            user_id=user_id,
            email=email,
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            session_id=claims.session_id,
        )

    async def sign_in(self) -> SignedIn:
        return await self.login(*await self.add_user())

    def token(self, who: SignedIn, ttl: timedelta) -> str:
        """An access token for `who`'s session that lives `ttl` (negative: already expired)."""
        token, _ = self.auth.codec.encode(
            "access", user_id=who.user_id, session_id=who.session_id, ttl=ttl
        )
        return token

    def connect(self, **options: Any) -> connect:
        return connect(self.ws_url, open_timeout=RECV_TIMEOUT, **options)

    async def announce(self, user_id: uuid.UUID, event: EventType, data: dict[str, Any]) -> None:
        await announce(self.services.store, user_id, event, data)


async def send_json(ws: ClientConnection, value: dict[str, Any]) -> None:
    await ws.send(json.dumps(value))


async def recv_json(
    ws: ClientConnection,
    *,
    timeout: float = RECV_TIMEOUT,  # noqa: ASYNC109
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        frame = await ws.recv()
    value: dict[str, Any] = json.loads(frame)
    return value


async def next_event(
    ws: ClientConnection,
    *,
    skip: tuple[str, ...] = ("heartbeat",),
    timeout: float = RECV_TIMEOUT,  # noqa: ASYNC109
) -> dict[str, Any]:
    """The next frame whose type is not in `skip`."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await recv_json(ws, timeout=timeout)
            if frame["type"] not in skip:
                return frame


async def authenticate(ws: ClientConnection, token: str) -> dict[str, Any]:
    await send_json(ws, {"type": "auth", "token": token})
    ready = await next_event(ws)
    assert ready["type"] == "ready", ready
    return ready


async def closed_with(
    ws: ClientConnection,
    *,
    timeout: float = RECV_TIMEOUT,  # noqa: ASYNC109
) -> tuple[int, str]:
    """Read until the server closes; returns its close code and reason."""
    async with asyncio.timeout(timeout):
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or ""


async def no_frame_within(ws: ClientConnection, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            frame = await ws.recv()
            raise AssertionError(f"unexpected frame: {frame!r}")


@contextlib.asynccontextmanager
async def run_live_server(settings: Any) -> AsyncIterator[LiveServer]:
    app = create_app(settings)
    async with LifespanManager(app, shutdown_timeout=20) as manager:
        state = manager._state
        broker = state["services"].jobs.broker
        receiver = None
        if not isinstance(broker, InMemoryBroker):
            # What `postwise worker` would do: jobs queued by sign-in must not pile up in Redis.
            receiver = asyncio.create_task(run_receiver_task(broker, run_startup=False))
        port = free_port()
        config = uvicorn.Config(
            manager.app,
            host="127.0.0.1",
            port=port,
            lifespan="off",  # held by LifespanManager above
            ws="websockets-sansio",  # what `postwise serve` runs
            log_config=None,
            access_log=False,
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        try:
            async with asyncio.timeout(10):
                while not server.started:
                    if serving.done():
                        serving.result()
                    await asyncio.sleep(0.01)
            base_url = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base_url) as http:
                yield LiveServer(base_url, http, state)
        finally:
            server.should_exit = True
            await asyncio.wait({serving}, timeout=15)
            if receiver is not None:
                receiver.cancel()
                await asyncio.wait({receiver}, timeout=5)


@pytest.fixture
def make_live(make_settings) -> Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]]:
    """`async with make_live(live_heartbeat_seconds=0.2) as live:` for settings of a test's own."""

    def make(**overrides: object) -> contextlib.AbstractAsyncContextManager[LiveServer]:
        return run_live_server(make_settings(**overrides))

    return make


@pytest.fixture
async def live(make_live) -> AsyncIterator[LiveServer]:
    async with make_live() as server:
        yield server
