"""Rate limits on the expensive signed-in routes and the live socket (postwise.auth.throttle).

Each route is called with limits of one a minute (POSTWISE_RATE_LIMITS, through the settings):
the second call of the same user, or from the same address, answers 429 `rate_limited` with
Retry-After, and another user or address is not affected. On the PostgreSQL + Redis pass the
counts live in Redis; one test shares a count between two limiters through Redis whatever the
backend.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from pydantic import ValidationError

from postwise.accounts import router as accounts_router
from postwise.ai import router as ai_router
from postwise.auth import throttle
from postwise.auth.ratelimit import RateLimiter
from postwise.compose import router as compose_router
from postwise.config import Settings
from postwise.db import utcnow
from postwise.imports import router as imports_router
from postwise.imports.demo import demo_account
from postwise.kit.errors import ProblemError
from postwise.observability.metrics import Metrics
from postwise.search import router as search_router
from tests import services
from tests.accounts.conftest import Harness, running
from tests.accounts.servers import closed_port
from tests.realtime.conftest import authenticate, closed_with, run_live_server, send_json

pytestmark = pytest.mark.backend

Call = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Route:
    label: str
    call: Call
    ok: int  # what the first call answers (the limit is counted before the handler runs)
    user_rule: str
    ip_rule: str
    # Run for each user before the calls.
    prepare: Callable[[Harness, uuid.UUID], Awaitable[None]] | None = None


async def _with_demo(h: Harness, user_id: uuid.UUID) -> None:
    """A filled demo mailbox already: asking for it answers 200 and queues no import job."""
    async with h.services.sessionmaker() as db:
        account = await demo_account(db, user_id=user_id, reset=False)
        account.last_synced_at = utcnow()
        await db.commit()


def _dead_port_account() -> dict[str, object]:
    dead = closed_port()
    return {
        "email": "ada@example.com",
        "password": "pw-for-a-dead-port",
        "imap_host": "127.0.0.1",
        "imap_port": dead,
        "smtp_host": "127.0.0.1",
        "smtp_port": dead,
    }


# Cheap calls: each is refused by the handler after the limit was counted (an unknown thread,
# a wrong content type, a closed port) or has nothing to do (a demo mailbox already there).
ROUTES = [
    Route(
        "GET /api/search",
        lambda http, h: http.get("/api/search", params={"q": "hello"}, headers=h),
        200,
        "search-user",
        "search-ip",
    ),
    Route(
        "POST /api/accounts/import",
        lambda http, h: http.post(
            "/api/accounts/import", content=b"x", headers={**h, "content-type": "image/png"}
        ),
        415,
        "import-user",
        "import-ip",
    ),
    Route(
        "POST /api/accounts/demo",
        lambda http, h: http.post("/api/accounts/demo", headers=h),
        200,
        "demo-user",
        "demo-ip",
        prepare=_with_demo,
    ),
    Route(
        "POST /api/accounts",
        lambda http, h: http.post("/api/accounts", json=_dead_port_account(), headers=h),
        422,
        # Per user, the connection tests' own limit (accounts.service).
        "mail-connection-test",
        "account-connect-ip",
    ),
    Route(
        "POST /api/accounts/discover",
        lambda http, h: http.post(
            # A local-only domain: refused without a DNS query.
            "/api/accounts/discover",
            json={"email": "ada@box.local"},
            headers=h,
        ),
        422,
        "mail-discovery",
        "account-discover-ip",
    ),
    Route(
        "GET /api/ai/threads/{id}/summary",
        lambda http, h: http.get(f"/api/ai/threads/{uuid.uuid4()}/summary", headers=h),
        404,
        "ai-user",
        "ai-ip",
    ),
    Route(
        "POST /api/ai/analyze",
        lambda http, h: http.post("/api/ai/analyze", json={"message_id": 1}, headers=h),
        404,
        "ai-user",
        "ai-ip",
    ),
    Route(
        "POST /api/ai/drafts",
        lambda http, h: http.post(
            "/api/ai/drafts", json={"thread_id": str(uuid.uuid4())}, headers=h
        ),
        404,
        "ai-user",
        "ai-ip",
    ),
    Route(
        "POST /api/ai/settings/test",
        lambda http, h: http.post("/api/ai/settings/test", headers=h),
        200,
        "ai-user",
        "ai-ip",
    ),
    Route(
        "POST /api/drafts/{id}/send",
        lambda http, h: http.post(f"/api/drafts/{uuid.uuid4()}/send", headers=h),
        404,
        "send-user",
        "send-ip",
    ),
]
# Many sign-ins from the test client's one address.
ROOMY_LOGINS = {"login-ip": "1000/minute", "login-account": "1000/minute"}


def _settings(make_settings: Callable[..., Settings], limits: dict[str, str]) -> Settings:
    return make_settings(
        rate_limits={**ROOMY_LOGINS, **limits},
        # The test client's address is a proxy, so X-Forwarded-For names the client.
        trusted_proxies=["127.0.0.1"],
        # Connection tests and discovery fail fast and never leave the machine.
        mail_connect_timeout=2,
        discovery_timeout=2,
        autoconfig_urls=[],
        dns_nameservers=[f"127.0.0.1:{closed_port()}"],
    )


def _refusal(response: httpx.Response) -> str | None:
    """What is wrong with `response` as a rate-limit refusal, or None."""
    if response.status_code != 429:
        return f"{response.status_code} {response.text[:200]}"
    if response.headers.get("content-type") != "application/problem+json":
        return f"content-type {response.headers.get('content-type')}"
    if response.json().get("code") != "rate_limited":
        return f"code {response.json().get('code')}"
    retry_after = response.headers.get("retry-after", "")
    if not retry_after.isdigit() or not 1 <= int(retry_after) <= 60:
        return f"Retry-After {retry_after!r}"
    return None


def _rate_limited(metrics: Metrics, rule: str) -> float:
    value = metrics.registry.get_sample_value("postwise_rate_limited_total", {"rule": rule})
    return value or 0.0


async def test_every_limited_route_refuses_past_its_limits(make_settings) -> None:
    limits = {rule: "1/minute" for route in ROUTES for rule in (route.user_rule, route.ip_rule)}
    async with running(_settings(make_settings, limits)) as h:
        # Refused before they are counted: an address's budget is for signed-in calls.
        for _ in range(2):
            anonymous = await h.http.get("/api/search", params={"q": "x"}, headers=_at(1, "x"))
            assert anonymous.status_code == 401
        answers: dict[str, tuple[int, str | None, str | None, int]] = {}
        for n, route in enumerate(ROUTES, start=1):
            # Each route its own users and addresses (the AI routes share their limits).
            user, neighbour, stranger = [await h.sign_in() for _ in range(3)]
            if route.prepare is not None:
                for user_id in h.user_ids[-3:]:
                    await route.prepare(h, user_id)
            first = await route.call(h.http, {**user, **_at(n, "x")})
            # The same user from elsewhere: their own budget is spent.
            same_user = await route.call(h.http, {**user, **_at(n, "y")})
            # Someone else from the same address: the address's budget is spent.
            same_address = await route.call(h.http, {**neighbour, **_at(n, "x")})
            # Someone else from elsewhere: nothing is spent.
            unrelated = await route.call(h.http, {**stranger, **_at(n, "z")})
            answers[route.label] = (
                first.status_code,
                _refusal(same_user),
                _refusal(same_address),
                unrelated.status_code,
            )
        assert answers == {route.label: (route.ok, None, None, route.ok) for route in ROUTES}
        # Each refusal counted by the rule that made it (the AI routes share theirs). The
        # per-user limits of connection tests and look-ups are the accounts service's own.
        throttles = {name for name in limits if not name.startswith("mail-")}
        refused = {rule: _rate_limited(h.services.metrics, rule) for rule in throttles}
        expected = {rule: 1.0 for rule in throttles} | {"ai-user": 4.0, "ai-ip": 4.0}
        assert refused == expected


def _at(n: int, place: str) -> dict[str, str]:
    """A client address of its own for route `n` (the test client is a trusted proxy)."""
    network = {"x": "198.51.100", "y": "203.0.113", "z": "192.0.2"}[place]
    return {"X-Forwarded-For": f"{network}.{n}"}


async def test_a_refused_user_does_not_spend_the_address(make_settings) -> None:
    """Past their own limit, a user's attempts leave the shared address's budget alone."""
    limits = {"search-user": "2/minute", "search-ip": "3/minute"}
    async with running(_settings(make_settings, limits)) as h:
        user, other = await h.sign_in(), await h.sign_in()
        statuses = [(await ROUTES[0].call(h.http, user)).status_code for _ in range(5)]
        assert statuses == [200, 200, 429, 429, 429]
        assert (await ROUTES[0].call(h.http, other)).status_code == 200


def test_the_limited_routes_declare_429() -> None:
    """Every limited operation has the dependency and says 429 in the schema; PATCH
    /api/accounts/{id} (a connection test when the servers change) is not called above."""
    limited = {
        ("GET", "/api/search"),
        ("POST", "/api/accounts/import"),
        ("POST", "/api/accounts/demo"),
        ("POST", "/api/accounts"),
        ("PATCH", "/api/accounts/{account_id}"),
        ("POST", "/api/accounts/discover"),
        ("GET", "/api/ai/threads/{thread_id}/summary"),
        ("POST", "/api/ai/analyze"),
        ("POST", "/api/ai/drafts"),
        ("POST", "/api/ai/settings/test"),
        ("POST", "/api/drafts/{draft_id}/send"),
    }
    found = set()
    routers = [search_router, imports_router, accounts_router, ai_router, compose_router]
    for route in (route for router in routers for route in router.router.routes):
        assert isinstance(route, APIRoute)
        throttled = any(
            getattr(depends.dependency, "__module__", "") == throttle.__name__
            for depends in route.dependencies
        )
        for method in route.methods:
            if throttled:
                found.add((method, route.path))
                assert 429 in route.responses, (method, route.path)
    assert found == limited


async def test_live_sockets_are_refused_past_the_limits(make_settings) -> None:
    limits = {"live-connect-user": "1/minute", "live-connect-ip": "3/minute"}
    async with run_live_server(_settings(make_settings, limits)) as live:
        here = {"X-Forwarded-For": "198.51.100.7"}
        first, second, third = [await live.sign_in() for _ in range(3)]
        async with live.connect(additional_headers=here) as ws:
            await authenticate(ws, first.access_token)
        # The same user again: known only after the auth message, then closed with 4429.
        async with live.connect(additional_headers=here) as ws:
            await send_json(ws, {"type": "auth", "token": first.access_token})
            assert await closed_with(ws) == (4429, "rate_limited")
        # Someone else is let in.
        async with live.connect(additional_headers=here) as ws:
            await authenticate(ws, second.access_token)
        # The address has had its 3: closed at once, before any auth message.
        async with live.connect(additional_headers=here) as ws:
            assert await closed_with(ws) == (4429, "rate_limited")
        # Another address is not.
        async with live.connect(additional_headers={"X-Forwarded-For": "203.0.113.7"}) as ws:
            await authenticate(ws, third.access_token)
        metrics = live.services.metrics
        assert _rate_limited(metrics, "live-connect-user") == 1
        assert _rate_limited(metrics, "live-connect-ip") == 1


async def test_processes_share_the_count_through_redis(make_settings) -> None:
    """Two API processes (two limiters) on one Redis: the second refuses what the first
    counted. Runs on Redis whatever the suite's backend."""
    settings = make_settings(
        redis_url=services.require_redis(), rate_limits={"search-user": "2/minute"}
    )
    first, second = RateLimiter(settings), RateLimiter(settings)
    assert first.shared is not None
    user_id = uuid.uuid4()
    try:
        await throttle.check(throttle.SEARCH, first, None, user_id=user_id)
        await throttle.check(throttle.SEARCH, second, None, user_id=user_id)
        with pytest.raises(ProblemError) as refused:
            await throttle.check(throttle.SEARCH, first, None, user_id=user_id)
        assert refused.value.code == "rate_limited"
        assert refused.value.headers is not None and "Retry-After" in refused.value.headers
        # Nothing was counted in process: the refusal came from Redis.
        (item,) = first.overrides["search-user"].limits
        stats = await first.local.get_window_stats(item, "search-user", str(user_id))
        assert stats.remaining == 2
    finally:
        await first.reset()


def test_the_docs_list_every_rule() -> None:
    text = (Path(__file__).parents[1] / "docs" / "security.md").read_text()
    assert [name for name in throttle.rule_names() if f"`{name}`" not in text] == []


def test_a_malformed_limit_stops_the_start(tmp_path) -> None:
    base = {"env": "test", "secret_key": "k" * 40, "data_dir": tmp_path}
    good = {"search-user": "5/second;10 per minute"}
    assert Settings(**base, rate_limits=good).rate_limits == good
    for bad in ({"search-user": "lots"}, {"Search User": "1/minute"}):
        with pytest.raises(ValidationError, match="POSTWISE_RATE_LIMITS"):
            Settings(**base, rate_limits=bad)
