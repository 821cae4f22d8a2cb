"""What the API's /metrics says: sign-ins by outcome, lockouts, refresh-token reuse, active
sessions, mailboxes by state, the build and the disk, with label values from bounded sets; and
the client address every layer sees through the one trusted-proxy rule."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from postwise.accounts.models import SyncState
from postwise.app import create_app
from postwise.config import Settings
from postwise.events import EventType
from postwise.observability.metrics import LOGIN_OUTCOMES
from tests.conftest import serve
from tests.observability.promtext import label_values, value

pytestmark = pytest.mark.backend

API = {"X-Postwise-Client": "api"}
PASSWORD = "correct-Horse-battery-staple-93"


@pytest.fixture
async def running(
    make_settings: Callable[..., Settings], empty_database: None
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(make_settings(rate_limits={"login-account": "1000/minute"}))
    async with serve(app) as http:
        yield http, app


async def _login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=API
    )


async def test_sign_ins_lockouts_and_reuse_are_counted(running: Any) -> None:
    http, app = running
    before = await http.get("/metrics")
    assert before.status_code == 200
    base = before.text
    for outcome in LOGIN_OUTCOMES:  # pre-created: alerts see a zero, not nothing
        assert f'postwise_logins_total{{outcome="{outcome}"}}' in base

    registered = await http.post(
        "/api/auth/register",
        json={"email": "metrics@example.org", "password": PASSWORD, "name": "Ada"},
    )
    assert registered.status_code in (200, 201, 202), registered.text

    assert (await _login(http, "metrics@example.org", "wrong-password-1")).status_code == 401
    assert (await _login(http, "nobody@example.org", "wrong-password-1")).status_code == 401
    ok = await _login(http, "metrics@example.org", PASSWORD)
    assert ok.status_code == 200, ok.text
    tokens = ok.json()

    text = (await http.get("/metrics")).text
    assert (
        value(text, "postwise_logins_total", outcome="failed")
        - value(base, "postwise_logins_total", outcome="failed")
        == 2
    )
    assert (
        value(text, "postwise_logins_total", outcome="success")
        - value(base, "postwise_logins_total", outcome="success")
        == 1
    )

    # Enough failures lock the account: every lock is counted, and a try while locked too.
    for _ in range(6):
        await _login(http, "metrics@example.org", "wrong-password-2")
    text = (await http.get("/metrics")).text
    assert value(text, "postwise_account_lockouts_total") >= 1
    assert value(text, "postwise_logins_total", outcome="locked") >= 1

    # A refresh token used twice (outside the grace period's narrow case) is reuse.
    first = await http.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=API
    )
    assert first.status_code == 200, first.text
    second = await http.post(
        "/api/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}, headers=API
    )
    assert second.status_code == 200, second.text
    again = await http.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=API
    )
    assert again.status_code == 401
    text = (await http.get("/metrics")).text
    assert value(text, "postwise_refresh_token_reuse_total") == 1
    assert label_values(text, "postwise_logins_total", "outcome") <= set(LOGIN_OUTCOMES)
    del app


async def test_storage_gauges_build_and_disk(running: Any) -> None:
    http, app = running
    registered = await http.post(
        "/api/auth/register",
        json={"email": "gauges@example.org", "password": PASSWORD, "name": "Ada"},
    )
    assert registered.status_code in (200, 201, 202), registered.text
    assert (await _login(http, "gauges@example.org", PASSWORD)).status_code == 200
    text = (await http.get("/metrics")).text
    # Signing up the first user and signing in: two live sessions.
    assert value(text, "postwise_active_sessions") >= 1
    states = label_values(text, "postwise_sync_mailboxes", "state")
    assert states == {state.value for state in SyncState}
    assert value(text, "postwise_sync_mailboxes") == 0
    assert value(text, "postwise_data_dir_free_bytes") > 0
    assert value(text, "postwise_build_info") == 1
    assert label_values(text, "postwise_build_info", "version")
    assert "postwise_jobs_queued" in text
    # Counted live events carry only the event type enum.
    assert label_values(text, "postwise_live_events_total", "type") <= {e.value for e in EventType}
    del app


# --- one trusted-proxy rule ----------------------------------------------------------------


def _access_clients(log_file: Path, route: str) -> list[str]:
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    return [
        str(line["client"])
        for line in lines
        if line.get("event") == "request" and line.get("route") == route
    ]


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted-proxy", "untrusted-peer"])
async def test_client_address_comes_from_the_trusted_proxy_walk(
    make_settings: Callable[..., Settings], tmp_path: Path, trusted: bool
) -> None:
    log_file = tmp_path / "logs" / f"access-{trusted}.log"
    settings = make_settings(
        # httpx's ASGI transport connects from 127.0.0.1: that is the proxy here.
        trusted_proxies=["127.0.0.0/8"] if trusted else ["10.0.0.0/8"],
        rate_limits={"login-ip": "2/minute", "login-account": "1000/minute"},
        log_file=log_file,
        log_format="json",
    )
    app = create_app(settings)
    async with serve(app) as http:

        async def attempt(client: str) -> int:
            response = await http.post(
                "/api/auth/login",
                json={"email": "nobody@example.org", "password": "not-the-password"},
                headers={**API, "X-Forwarded-For": f"198.51.100.9, {client}"},
            )
            return response.status_code

        first = [await attempt("203.0.113.7") for _ in range(3)]
        other = await attempt("203.0.113.8")
    clients = _access_clients(log_file, "/api/auth/login")
    assert first[:2] == [401, 401] and first[2] == 429
    if trusted:
        # The client behind the proxy is logged and limited: another client is not blocked.
        assert clients == ["203.0.113.7"] * 3 + ["203.0.113.8"]
        assert other == 401
    else:
        # Headers from an untrusted peer are the client's own words: the peer counts.
        assert clients == ["127.0.0.1"] * 4
        assert other == 429
