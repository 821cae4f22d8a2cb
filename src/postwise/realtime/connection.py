"""One socket's life: wait for auth, subscribe, then forward events until someone closes.

After the handshake three tasks share the socket: a reader (pings, re-auth), a writer (the only
one that sends, draining a bounded outbox in order) and a watchdog (heartbeats, session re-check,
token expiry). A fault raised from outside those tasks (the outbox overflowing, the event feed
ending) resolves `_fault`; whichever finishes first decides how the socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Final

import structlog
from starlette.websockets import WebSocket

from postwise.auth.kit import AuthKit
from postwise.db import utcnow
from postwise.deps import Services
from postwise.events import user_channel
from postwise.realtime.auth import AuthRefused, Grant, session_active, verify_token
from postwise.realtime.hub import FeedUnavailableError, LiveHub
from postwise.realtime.protocol import (
    HEARTBEAT_FRAME,
    PONG_FRAME,
    AuthMessage,
    Close,
    CloseCode,
    PingMessage,
    ProtocolError,
    auth_ok_frame,
    parse_client_message,
    ready_frame,
)

log = structlog.get_logger(__name__)

# A client pings every half minute and re-authenticates every few minutes; a burst of 20 with
# 2 more a second is generous for that and keeps a flood from turning into database reads.
_MESSAGE_BURST: Final = 20.0
_MESSAGES_PER_SECOND: Final = 2.0

TOO_SLOW: Final = Close(CloseCode.TRY_AGAIN_LATER, "too_slow")
FEED_LOST: Final = Close(CloseCode.INTERNAL_ERROR, "events_unavailable")


class _MessageBudget:
    """Token bucket over client messages."""

    def __init__(self, burst: float, per_second: float) -> None:
        self._burst = burst
        self._rate = per_second
        self._tokens = burst
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class LiveConnection:
    def __init__(
        self,
        websocket: WebSocket,
        *,
        services: Services,
        kit: AuthKit,
        hub: LiveHub,
        admit: Callable[[Grant], Awaitable[Close | None]] | None = None,
    ) -> None:
        settings = services.settings
        self._ws = websocket
        self._services = services
        self._kit = kit
        self._hub = hub
        self._heartbeat = settings.live_heartbeat_seconds
        self._auth_timeout = settings.live_auth_timeout
        self._outbox: asyncio.Queue[str] = asyncio.Queue(settings.live_queue_size)
        # Typed like the tasks' results so one asyncio.wait can watch them all; never None.
        self._fault: asyncio.Future[Close | None] = asyncio.get_running_loop().create_future()
        self._rearm = asyncio.Event()
        self._budget = _MessageBudget(_MESSAGE_BURST, _MESSAGES_PER_SECOND)
        # Decides, once the user is known, whether this socket may go on (the per-user limit).
        self._admit = admit
        self.grant: Grant | None = None

    async def run(self) -> Close | None:
        """Serve the accepted socket; returns how to close it, or None when the client left.

        Raises WebSocketDisconnect when the client vanishes mid-send.
        """
        first = await self._first_auth()
        if not isinstance(first, Grant):
            return first
        self.grant = first
        channel = user_channel(first.user_id)
        try:
            async with self._hub.listen(self._services.store, channel, self._deliver):
                # Subscribed by now, so every event announced after the client reads `ready`
                # reaches it; events from the meantime are queued behind this frame.
                await self._ws.send_text(
                    ready_frame(
                        user_id=str(first.user_id),
                        expires_at=first.expires_at,
                        heartbeat_seconds=self._heartbeat,
                    )
                )
                return await self._serve()
        except FeedUnavailableError:
            return FEED_LOST

    async def _first_auth(self) -> Grant | Close | None:
        try:
            async with asyncio.timeout(self._auth_timeout):
                message = await self._ws.receive()
        except TimeoutError:
            return Close(CloseCode.AUTH_TIMEOUT, "auth_timeout")
        if message["type"] == "websocket.disconnect":
            return None
        try:
            parsed = parse_client_message(message)
        except ProtocolError as error:
            return error.close
        if not isinstance(parsed, AuthMessage):
            return Close(CloseCode.UNAUTHENTICATED, "auth_required")
        try:
            grant = await verify_token(self._services, self._kit, parsed.token)
        except AuthRefused as refused:
            return Close(CloseCode.UNAUTHENTICATED, refused.code)
        if self._admit is not None and (refused_close := await self._admit(grant)) is not None:
            return refused_close
        return grant

    async def _serve(self) -> Close | None:
        tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._write()),
            asyncio.create_task(self._watch()),
        ]
        try:
            done, _ = await asyncio.wait([*tasks, self._fault], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
        if self._fault.done():
            return self._fault.result()
        finished = next(task for task in tasks if task in done)
        return finished.result()  # re-raises what ended it (WebSocketDisconnect, a bug)

    def _send(self, frame: str) -> None:
        try:
            self._outbox.put_nowait(frame)
        except asyncio.QueueFull:
            # Never wait for a slow client: the publisher (the hub) serves every socket of the
            # user. Dropping one frame silently would leave the client wrong without knowing;
            # closing tells it to reconnect and re-read.
            self._fail(TOO_SLOW)

    def _deliver(self, data: str | None) -> None:
        if data is None:
            self._fail(FEED_LOST)
        else:
            self._send(data)

    def _fail(self, close: Close) -> None:
        if not self._fault.done():
            self._fault.set_result(close)

    async def _write(self) -> Close | None:
        while True:
            frame = await self._outbox.get()
            # Waits while the transport's buffer is full (uvicorn's flow control); the outbox
            # then fills, and a full outbox closes the socket.
            await self._ws.send_text(frame)

    async def _read(self) -> Close | None:
        while True:
            message = await self._ws.receive()
            if message["type"] == "websocket.disconnect":
                return None
            if not self._budget.take():
                return Close(CloseCode.TOO_MANY_MESSAGES, "too_many_messages")
            try:
                parsed = parse_client_message(message)
            except ProtocolError as error:
                return error.close
            if isinstance(parsed, PingMessage):
                self._send(PONG_FRAME)
                continue
            close = await self._reauthenticate(parsed.token)
            if close is not None:
                return close

    async def _reauthenticate(self, token: str) -> Close | None:
        assert self.grant is not None
        try:
            grant = await verify_token(self._services, self._kit, token)
        except AuthRefused as refused:
            return Close(CloseCode.UNAUTHENTICATED, refused.code)
        if grant.user_id != self.grant.user_id:
            # The subscription is the first user's: switching users on one socket would be a
            # second subscription in disguise, and a client doing it by accident has a bug.
            return Close(CloseCode.FORBIDDEN, "user_mismatch")
        self.grant = grant
        self._rearm.set()
        self._send(auth_ok_frame(expires_at=grant.expires_at))
        return None

    async def _watch(self) -> Close | None:
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + self._heartbeat
        while True:
            self._rearm.clear()
            grant = self.grant
            assert grant is not None
            left = (grant.expires_at - utcnow()).total_seconds()
            if left <= 0:
                return Close(CloseCode.UNAUTHENTICATED, "token_expired")
            now = loop.time()
            if now >= next_beat:
                next_beat = now + self._heartbeat
                if not await self._still_active(grant):
                    return Close(CloseCode.UNAUTHENTICATED, "session_revoked")
                self._send(HEARTBEAT_FRAME)
                continue
            # Woken early by a re-auth: the new token's expiry may be earlier or later.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(next_beat - now, left)):
                    await self._rearm.wait()

    async def _still_active(self, grant: Grant) -> bool:
        try:
            return await session_active(self._services, self._kit, grant.session_id)
        except Exception as error:
            # Fail open on an outage: closing every socket at once would have them all
            # reconnect into the same outage, and the token still expires on time.
            log.warning("live_session_check_failed", error=str(error))
            return True
