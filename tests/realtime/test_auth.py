"""Who may hold a socket, for how long: auth message, re-auth, expiry, revocation, Origin."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from websockets.exceptions import InvalidStatus

from postwise.db import utcnow
from postwise.events import EventType
from tests.realtime.conftest import (
    API,
    PASSWORD,
    LiveServer,
    authenticate,
    closed_with,
    next_event,
    send_json,
)

pytestmark = pytest.mark.backend


async def test_a_bad_token_closes_with_4401(live: LiveServer) -> None:
    async with live.connect() as ws:
        await send_json(ws, {"type": "auth", "token": "not.a.jwt"})
        assert await closed_with(ws) == (4401, "invalid_token")


async def test_an_expired_token_closes_with_4401(live: LiveServer) -> None:
    who = await live.sign_in()
    async with live.connect() as ws:
        await send_json(ws, {"type": "auth", "token": live.token(who, timedelta(seconds=-5))})
        assert await closed_with(ws) == (4401, "token_expired")


async def test_a_token_of_a_revoked_session_closes_with_4401(live: LiveServer) -> None:
    who = await live.sign_in()
    logout = await live.http.post(
        "/api/auth/logout", headers={**API, "Authorization": f"Bearer {who.access_token}"}
    )
    assert logout.status_code == 204, logout.text
    async with live.connect() as ws:
        await send_json(ws, {"type": "auth", "token": who.access_token})
        assert await closed_with(ws) == (4401, "session_revoked")


async def test_the_first_message_must_be_auth(live: LiveServer) -> None:
    async with live.connect() as ws:
        await send_json(ws, {"type": "ping"})
        assert await closed_with(ws) == (4401, "auth_required")


async def test_no_auth_message_in_time_closes_with_4408(make_live) -> None:
    async with make_live(live_auth_timeout=0.5) as live, live.connect() as ws:
        started = time.monotonic()
        assert await closed_with(ws) == (4408, "auth_timeout")
        assert 0.4 < time.monotonic() - started < 3


async def test_ready_describes_the_grant_and_an_event_after_it_arrives(live: LiveServer) -> None:
    who = await live.sign_in()
    async with live.connect() as ws:
        ready = await authenticate(ws, who.access_token)
        assert ready["data"]["user_id"] == str(who.user_id)
        assert ready["data"]["heartbeat_seconds"] == live.services.settings.live_heartbeat_seconds
        assert ready["data"]["expires_at"]
        # Announced the instant `ready` is read: the subscription must already be in force.
        await live.announce(who.user_id, EventType.MESSAGE_CREATED, {"message_ids": ["m1"]})
        event = await next_event(ws)
    assert event == {"type": "message.created", "data": {"message_ids": ["m1"]}}


async def test_a_token_expiring_without_refresh_closes_with_4401(make_live) -> None:
    async with make_live() as live:
        who = await live.sign_in()
        async with live.connect() as ws:
            await authenticate(ws, live.token(who, timedelta(seconds=2)))
            started = time.monotonic()
            assert await closed_with(ws, timeout=6) == (4401, "token_expired")
            assert time.monotonic() - started < 4


async def test_a_refreshed_token_keeps_the_socket_open(live: LiveServer) -> None:
    who = await live.sign_in()
    async with live.connect() as ws:
        # Long enough that a loaded machine still refreshes before it runs out (2 s did not,
        # once, in CI); the wait below follows its actual expiry.
        first = await authenticate(ws, live.token(who, timedelta(seconds=6)))
        first_expiry = datetime.fromisoformat(first["data"]["expires_at"])
        # A refresh through the API, then the new access token on the open socket.
        refreshed = await live.http.post(
            "/api/auth/refresh", json={"refresh_token": who.refresh_token}, headers=API
        )
        assert refreshed.status_code == 200, refreshed.text
        await send_json(ws, {"type": "auth", "token": refreshed.json()["access_token"]})
        ack = await next_event(ws)
        assert ack["type"] == "auth.ok"
        renewed = datetime.fromisoformat(ack["data"]["expires_at"])
        assert renewed > utcnow() + timedelta(seconds=60)
        await asyncio.sleep((first_expiry - utcnow()).total_seconds() + 1)  # past its expiry
        await live.announce(who.user_id, EventType.THREAD_UPDATED, {"thread_ids": ["t"]})
        assert (await next_event(ws))["type"] == "thread.updated"


async def test_reauth_as_another_user_closes_with_4403(live: LiveServer) -> None:
    alice = await live.sign_in()
    bob = await live.sign_in()
    async with live.connect() as ws:
        await authenticate(ws, alice.access_token)
        await send_json(ws, {"type": "auth", "token": bob.access_token})
        assert await closed_with(ws) == (4403, "user_mismatch")


async def test_reauth_with_a_bad_token_closes_with_4401(live: LiveServer) -> None:
    who = await live.sign_in()
    async with live.connect() as ws:
        await authenticate(ws, who.access_token)
        await send_json(ws, {"type": "auth", "token": who.access_token + "x"})
        assert await closed_with(ws) == (4401, "invalid_token")


@pytest.mark.parametrize("how", ["logout", "delete_session", "password_change"])
async def test_ending_the_session_closes_the_socket(make_live, how: str) -> None:
    async with make_live(live_heartbeat_seconds=0.3) as live:
        who = await live.sign_in()
        bearer = {**API, "Authorization": f"Bearer {who.access_token}"}
        async with live.connect() as ws:
            await authenticate(ws, who.access_token)
            assert (await next_event(ws, skip=()))["type"] == "heartbeat"  # alive and checked
            if how == "logout":
                response = await live.http.post("/api/auth/logout", headers=bearer)
            elif how == "delete_session":
                response = await live.http.delete(
                    f"/api/auth/sessions/{who.session_id}", headers=bearer
                )
            else:
                # Ends every *other* session: this socket belongs to a second one.
                other = await live.login(who.user_id, who.email)
                response = await live.http.post(
                    "/api/auth/password/change",
                    json={"current_password": PASSWORD, "new_password": "Fresh-" + PASSWORD},
                    headers={**API, "Authorization": f"Bearer {other.access_token}"},
                )
            assert response.status_code in (200, 204), response.text
            started = time.monotonic()
            assert await closed_with(ws) == (4401, "session_revoked")
            assert time.monotonic() - started < 2


async def test_a_cross_site_page_cannot_open_the_socket(make_live) -> None:
    async with make_live(
        public_url="https://mail.example.test", cors_origins=["https://app.example.test"]
    ) as live:
        with pytest.raises(InvalidStatus) as refused:
            async with live.connect(origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        with pytest.raises(InvalidStatus):
            async with live.connect(origin="null"):
                pass
        who = await live.sign_in()
        port = live.base_url.rsplit(":", 1)[1]
        for origin in (
            "https://mail.example.test",  # the public URL (implied port 443)
            "https://app.example.test",  # an allowed CORS origin
            f"http://127.0.0.1:{port}",  # the same origin as the Host the browser used
        ):
            async with live.connect(origin=origin) as ws:
                await authenticate(ws, who.access_token)
        # No Origin at all: not a browser, nothing ambient to abuse.
        async with live.connect() as ws:
            await authenticate(ws, who.access_token)
