"""What flows over an authenticated socket: events, isolation, heartbeats, pings, bad input."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from postwise.events import EventType
from tests.realtime.conftest import (
    LiveServer,
    authenticate,
    closed_with,
    next_event,
    no_frame_within,
    recv_json,
    send_json,
)

pytestmark = pytest.mark.backend


async def test_every_event_type_is_forwarded_as_announced(live: LiveServer) -> None:
    who = await live.sign_in()
    async with live.connect() as ws:
        await authenticate(ws, who.access_token)
        for n, kind in enumerate(EventType):
            await live.announce(who.user_id, kind, {"n": n})
        received = [await next_event(ws) for _ in EventType]
    assert received == [{"type": kind.value, "data": {"n": n}} for n, kind in enumerate(EventType)]


async def test_a_user_never_receives_another_users_events(live: LiveServer) -> None:
    alice = await live.sign_in()
    bob = await live.sign_in()
    async with live.connect() as for_alice, live.connect() as for_bob:
        await authenticate(for_alice, alice.access_token)
        await authenticate(for_bob, bob.access_token)
        await live.announce(bob.user_id, EventType.MESSAGE_CREATED, {"owner": "bob"})
        await live.announce(alice.user_id, EventType.MESSAGE_CREATED, {"owner": "alice"})
        # Bob's event was really out there: his own socket got it.
        assert (await next_event(for_bob))["data"] == {"owner": "bob"}
        assert (await next_event(for_alice))["data"] == {"owner": "alice"}
        # And nothing else arrives for Alice, before or after (a pong marks the end of the line).
        await send_json(for_alice, {"type": "ping"})
        assert await next_event(for_alice) == {"type": "pong"}


async def test_sockets_of_one_user_share_the_feed_and_outlive_each_other(
    live: LiveServer,
) -> None:
    who = await live.sign_in()
    async with live.connect() as first:
        await authenticate(first, who.access_token)
        async with live.connect() as second:
            await authenticate(second, who.access_token)
            await live.announce(who.user_id, EventType.FOLDER_COUNTS, {"n": 1})
            assert (await next_event(first))["data"] == {"n": 1}
            assert (await next_event(second))["data"] == {"n": 1}
            assert _gauge(live) == 2
        # The second socket leaving must not end the subscription the first one relies on.
        await asyncio.sleep(0.1)
        await live.announce(who.user_id, EventType.FOLDER_COUNTS, {"n": 2})
        assert (await next_event(first))["data"] == {"n": 2}
        assert _gauge(live) == 1
    # A new socket after every other one closed opens the feed afresh.
    async with live.connect() as third:
        await authenticate(third, who.access_token)
        await live.announce(who.user_id, EventType.FOLDER_COUNTS, {"n": 3})
        assert (await next_event(third))["data"] == {"n": 3}


def _gauge(live: LiveServer) -> float | None:
    registry = live.services.metrics.registry
    return registry.get_sample_value("websocket_connections_open")


async def test_heartbeats_arrive_and_pings_are_answered(make_live) -> None:
    async with make_live(live_heartbeat_seconds=0.2) as live:
        who = await live.sign_in()
        async with live.connect() as ws:
            ready = await authenticate(ws, who.access_token)
            assert ready["data"]["heartbeat_seconds"] == 0.2
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert await recv_json(ws, timeout=2) == {"type": "heartbeat"}
            assert await recv_json(ws, timeout=2) == {"type": "heartbeat"}
            assert loop.time() - started >= 0.3  # paced, not a burst
            await send_json(ws, {"type": "ping"})
            assert await next_event(ws) == {"type": "pong"}


async def test_no_heartbeat_before_its_time(live: LiveServer) -> None:
    who = await live.sign_in()
    async with live.connect() as ws:
        await authenticate(ws, who.access_token)
        await no_frame_within(ws, 0.5)  # the default interval is 25 s


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("{not json", (4400, "malformed_json")),
        ('["auth"]', (4400, "bad_message")),
        ('{"type": "auth"}', (4400, "bad_message")),
        ('{"type": "subscribe", "channel": "events:user:someone-else"}', (4400, "unknown_type")),
        (b"\x00binary", (4400, "binary_not_supported")),
        ('{"type": "ping", "pad": "' + "x" * 20_000 + '"}', (1009, "message_too_big")),
    ],
)
async def test_malformed_messages_close_the_socket(
    live: LiveServer, frame: str | bytes, expected: tuple[int, str]
) -> None:
    who = await live.sign_in()
    # Before auth as after it: both paths read the same way.
    async with live.connect() as early:
        await early.send(frame)
        assert await closed_with(early) == expected
    async with live.connect() as ws:
        await authenticate(ws, who.access_token)
        await ws.send(frame)
        assert await closed_with(ws) == expected


async def test_a_flood_of_client_messages_closes_with_4429(live: LiveServer) -> None:
    who = await live.sign_in()
    async with live.connect() as ws:
        await authenticate(ws, who.access_token)
        for _ in range(60):
            try:
                await send_json(ws, {"type": "ping"})
            except ConnectionClosed:
                break
        assert await closed_with(ws) == (4429, "too_many_messages")


async def test_a_client_that_stops_reading_is_dropped_with_1013(make_live) -> None:
    async with make_live(live_queue_size=4) as live:
        who = await live.sign_in()
        async with live.connect() as reading, await _stalled_socket(live) as stalled:
            await authenticate(reading, who.access_token)
            await authenticate(stalled, who.access_token)
            published = 400
            got: list[int] = []

            async def read_all() -> None:
                while len(got) < published:
                    got.append((await next_event(reading))["data"]["n"])

            reader = asyncio.create_task(read_all())
            for n in range(published):
                # Random and fresh each time, because the socket is compressed
                # (permessage-deflate): 400 such frames of 32 KiB are more than the kernel's
                # and the transport's buffers hold.
                pad = secrets.token_urlsafe(24 * 1024)
                await live.announce(who.user_id, EventType.MESSAGE_UPDATED, {"n": n, "pad": pad})
                await asyncio.sleep(0.001)  # paced: a client that reads keeps up
            async with asyncio.timeout(20):
                await reader
            # The reading socket got everything, in order, with the same tiny outbox.
            assert got == list(range(published))
            await send_json(reading, {"type": "ping"})
            assert await next_event(reading) == {"type": "pong"}
            # The stalled one was cut off; it learns why once it reads what was in flight.
            await asyncio.sleep(0.5)
            received = 0
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(20):
                    while True:
                        json.loads(await stalled.recv())
                        received += 1
            assert (stalled.close_code, stalled.close_reason) == (1013, "too_slow")
            assert received < published
    registry = live.services.metrics.registry
    closed = registry.get_sample_value("websocket_connections_closed_total", {"reason": "too_slow"})
    assert closed == 1


async def _stalled_socket(live: LiveServer) -> connect:
    """A client that never reads beyond one frame, on a socket with a small receive window.

    The small SO_RCVBUF (set before connecting, so the window is scaled for it) keeps the
    kernel from absorbing megabytes on the client's behalf over loopback.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    port = int(live.base_url.rsplit(":", 1)[1])
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return live.connect(sock=sock, max_queue=1)


async def test_losing_the_event_feed_closes_with_1011(live: LiveServer) -> None:
    who = await live.sign_in()
    async with live.connect() as ws:
        await authenticate(ws, who.access_token)
        # Every subscription ends, as when the Store goes away: events could be missed from
        # here on, so the client must reconnect and re-read rather than sit on a silent socket.
        await live.services.store.close()
        assert await closed_with(ws) == (1011, "events_unavailable")
