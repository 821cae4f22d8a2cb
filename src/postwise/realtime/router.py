"""`WS /api/ws`: the endpoint, its Origin check and the lifespan that builds the hub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Final
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from postwise.auth import throttle
from postwise.auth.clientinfo import client_ip
from postwise.auth.kit import AuthKit
from postwise.config import Settings
from postwise.deps import Services
from postwise.kit.errors import ProblemError
from postwise.realtime.auth import Grant
from postwise.realtime.connection import LiveConnection
from postwise.realtime.hub import LiveHub
from postwise.realtime.protocol import Close, CloseCode

log = structlog.get_logger(__name__)

_HUB_STATE: Final = "live_hub"
# A client that stopped reading cannot take our close frame either; give up on it after this.
_CLOSE_TIMEOUT_S: Final = 5.0
_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[dict[str, LiveHub]]:
    # Merged into the app's lifespan by include_router: the hub is per app, like the Services.
    hub = LiveHub()
    try:
        yield {_HUB_STATE: hub}
    finally:
        await hub.close()


router = APIRouter(lifespan=_lifespan)


def _origin_key(url: str, default_scheme: str | None = None) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url if default_scheme is None else f"{default_scheme}://{url}")
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname or scheme not in _DEFAULT_PORTS:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def origin_allowed(headers: Mapping[str, str], settings: Settings) -> bool:
    """Whether a browser page at `Origin` may open the socket (cross-site WebSocket hijacking).

    Tokens arrive in a message, never from cookies, so a foreign page gains nothing it could
    not do with a token of its own; the check keeps it that way should cookies ever be used.
    """
    origin = headers.get("origin")
    if origin is None:
        return True  # not a browser: there is no ambient credential to abuse
    if "*" in settings.cors_origins:
        return True
    key = _origin_key(origin.strip())
    if key is None:
        return False  # "null" (sandboxed frames, file:) and garbage
    allowed = {_origin_key(url) for url in [settings.public_url, *settings.cors_origins]}
    if key in allowed:
        return True
    # Same origin as the address the browser used (the public URL is often not what people
    # type in dev: localhost against 127.0.0.1); the scheme decides the implied port.
    host = headers.get("host")
    return host is not None and _origin_key(host.strip(), key[0]) == key


async def _close(websocket: WebSocket, close: Close) -> None:
    if websocket.application_state is not WebSocketState.CONNECTED:
        return
    # Sending waits while the client's buffer is full; a client too slow to read events will
    # not read this either, and then the server drops the connection when the endpoint returns.
    with contextlib.suppress(TimeoutError, WebSocketDisconnect):
        async with asyncio.timeout(_CLOSE_TIMEOUT_S):
            await websocket.close(code=int(close.code), reason=close.reason)


async def _address_limit(websocket: WebSocket, services: Services, kit: AuthKit) -> Close | None:
    """Count the connect against the client address's limit: past it, how to close the socket.

    Refused with a close code (4429 `rate_limited`) after accepting, like the per-user limit,
    rather than with an HTTP 429 before accepting: a browser sees neither the status nor the
    headers of a refused handshake (only a 1006), and uvicorn's websockets-sansio logs an
    error for every denial response (Kludex/uvicorn#3138). The socket is closed before it
    waits for anything, so a flood still costs only the handshake."""
    peer = websocket.client.host if websocket.client else "unknown"
    forwarded = websocket.headers.get("x-forwarded-for")
    ip = client_ip(peer, forwarded, tuple(services.settings.trusted_proxies))
    try:
        await throttle.check(throttle.LIVE_CONNECT, kit.limiter, services.metrics, ip=ip)
    except ProblemError as refused:
        return Close(CloseCode.TOO_MANY_MESSAGES, refused.code)
    return None


def _user_limit(services: Services, kit: AuthKit) -> Callable[[Grant], Awaitable[Close | None]]:
    async def admit(grant: Grant) -> Close | None:
        # After the auth message, the only place the user is known: browsers cannot send a
        # token with the handshake. 4429 like a flood of messages; clients reconnect with
        # backoff, which outlasts the window.
        try:
            await throttle.check(
                throttle.LIVE_CONNECT, kit.limiter, services.metrics, user_id=grant.user_id
            )
        except ProblemError as refused:
            return Close(CloseCode.TOO_MANY_MESSAGES, refused.code)
        return None

    return admit


@router.websocket("/api/ws")
async def live_events(websocket: WebSocket) -> None:
    services: Services = websocket.state.services
    kit: AuthKit = websocket.state.auth
    hub: LiveHub = getattr(websocket.state, _HUB_STATE)
    if not origin_allowed(websocket.headers, services.settings):
        log.info("live_origin_refused", origin=websocket.headers.get("origin", "")[:200])
        await websocket.close(code=CloseCode.FORBIDDEN)  # before accept: an HTTP 403
        return
    refused = await _address_limit(websocket, services, kit)
    await websocket.accept()
    metrics = hub.metrics(services.metrics.registry)
    metrics.open.inc()
    connection = LiveConnection(
        websocket, services=services, kit=kit, hub=hub, admit=_user_limit(services, kit)
    )
    close: Close | None = None
    try:
        try:
            close = refused or await connection.run()
        except WebSocketDisconnect:
            close = None
        except Exception:
            log.exception("live_socket_failed")
            close = Close(CloseCode.INTERNAL_ERROR, "internal_error")
        if close is not None:
            await _close(websocket, close)
    finally:
        metrics.open.dec()
        reason = "client_left" if close is None else close.reason
        metrics.closed.labels(reason=reason).inc()
        grant = connection.grant
        log.info(
            "live_socket_closed",
            user_id=None if grant is None else str(grant.user_id),
            code=None if close is None else int(close.code),
            reason=reason,
        )
