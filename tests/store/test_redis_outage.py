"""Redis going away under a running app, and coming back: never a 500.

Each test starts its own `redis-server` (tests/fixtures/redis.py) so it can stop and restart it
without disturbing the suite's shared Redis. What works and what answers 503 is the table in
docs/security.md ("When Redis is down"); these tests hold the code to it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import select

from postwise import db
from postwise.accounts.models import AccountKind
from postwise.app import create_app
from postwise.auth import ratelimit
from postwise.auth.kit import build_auth_kit
from postwise.auth.passwords import PasswordHasher
from postwise.auth.ratelimit import RateLimiter
from postwise.config import Settings
from postwise.kit.errors import ProblemError
from postwise.mail.blobs import BlobStore
from postwise.mail.ingest import IncomingMessage, store_batch
from postwise.mail.models import Folder, Message
from postwise.store import RedisStore, StoreUnavailableError
from postwise.users.models import User
from tests.accounts.servers import closed_port, silent_port
from tests.conftest import serve
from tests.fixtures import redis as redis_fixtures
from tests.fixtures.redis import RedisServer
from tests.mail.factories import new_account
from tests.realtime.conftest import authenticate, closed_with, run_live_server, send_json

pytestmark = pytest.mark.backend
# A fixture of this module's: a Redis of its own, stopped and restarted at will.
redis_server = redis_fixtures.redis_server

PASSWORD = "Quiet-Harbour-lantern-2291"
API = {"X-Postwise-Client": "api"}
# The stable codes a request may answer with while Redis is down (besides its usual ones).
OUTAGE_CODES = {"store_unavailable"}


def raw_message(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Alice <alice@example.com>"
    message["To"] = "Reader <reader@example.com>"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    message.set_content("Shall we meet on Tuesday?\n")
    return bytes(message)


@dataclass(frozen=True)
class Seeded:
    email: str
    thread_id: uuid.UUID
    message_id: int


async def seed_mailbox(settings: Settings) -> Seeded:
    """A verified user with a password and one thread in its inbox, written straight to the
    database (nothing here may need the Redis the test is about to stop)."""
    engine = db.create_engine(settings)
    hasher = PasswordHasher(settings)
    try:
        async with db.create_sessionmaker(engine)() as session:
            account = await new_account(session, kind=AccountKind.IMAP)
            user = await session.get(User, account.user_id)
            assert user is not None
            user.password_hash = await hasher.hash(PASSWORD)
            user.email_verified_at = db.utcnow()
            inbox = Folder(
                user_id=user.id, account_id=account.id, name="INBOX", role="inbox", uidvalidity=7
            )
            session.add(inbox)
            await session.flush()
            stored = await store_batch(
                session,
                folder=inbox,
                incoming=[
                    IncomingMessage(
                        uid=1,
                        raw=raw_message("Plans"),
                        flags=(),
                        internal_date=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
                    )
                ],
                blobs=BlobStore(settings.effective_blob_dir, fsync=False),
                executor=None,
            )
            await session.commit()
            (thread_id,) = stored.thread_ids
            return Seeded(user.email, thread_id, stored.message_ids[0])
    finally:
        hasher.close()
        await engine.dispose()


async def is_read(settings: Settings, message_id: int) -> bool:
    engine = db.create_engine(settings)
    try:
        async with db.create_sessionmaker(engine)() as session:
            value = await session.scalar(select(Message.is_read).where(Message.id == message_id))
            return bool(value)
    finally:
        await engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def never_500(response: httpx.Response) -> httpx.Response:
    """The outage contract for any answer: no 5xx but a 503 with a stable code and Retry-After."""
    assert response.status_code < 500 or response.status_code == 503, response.text
    if response.status_code == 503:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] in OUTAGE_CODES, response.text
        assert int(response.headers["Retry-After"]) >= 1
    return response


async def login(http: httpx.AsyncClient, email: str) -> httpx.Response:
    return never_500(
        await http.post("/api/auth/login", json={"email": email, "password": PASSWORD}, headers=API)
    )


@pytest.fixture
async def outage_app(
    make_settings: Any, redis_server: RedisServer
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    settings = make_settings(redis_url=redis_server.url)
    async with serve(create_app(settings)) as http:
        yield http, settings


async def test_the_api_through_a_redis_outage_and_back(
    outage_app: tuple[httpx.AsyncClient, Settings], redis_server: RedisServer
) -> None:
    http, settings = outage_app
    seeded = await seed_mailbox(settings)
    signed_in = await login(http, seeded.email)
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    listed = await http.get("/api/threads", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert [t["id"] for t in listed.json()["items"]] == [str(seeded.thread_id)]

    redis_server.stop()

    # Signed-in reads: the session is checked in the database when the Store cannot answer.
    listed = never_500(await http.get("/api/threads", headers=bearer(token)))
    assert listed.status_code == 200, listed.text
    assert [t["id"] for t in listed.json()["items"]] == [str(seeded.thread_id)]
    me = never_500(await http.get("/api/users/me", headers=bearer(token)))
    assert me.status_code == 200, me.text

    # Signing in works, its limits counted in this process meanwhile (docs/security.md).
    again = await login(http, seeded.email)
    assert again.status_code == 200, again.text
    second = again.json()["access_token"]
    wrong = never_500(
        await http.post(
            "/api/auth/login", json={"email": seeded.email, "password": "nope" * 3}, headers=API
        )
    )
    assert wrong.status_code == 401, wrong.text

    # Actions commit and answer success; their live events and write-back jobs cannot leave
    # (the broker is the same Redis) and are logged, not turned into an error.
    patched = never_500(
        await http.patch(
            f"/api/messages/{seeded.message_id}", json={"show_images": True}, headers=bearer(token)
        )
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["show_images"] is True
    acted = never_500(
        await http.post(
            "/api/threads/actions",
            json={"action": "read", "thread_ids": [str(seeded.thread_id)]},
            headers=bearer(token),
        )
    )
    assert acted.status_code == 200, acted.text
    assert await is_read(settings, seeded.message_id)

    # What only works through the job queue says so, before anything is committed.
    for path in ("/api/auth/password/forgot", "/api/auth/verify-email/resend"):
        answer = never_500(await http.post(path, json={"email": seeded.email}))
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "store_unavailable"

    # What lives only in the Store answers 503 (an import's progress here).
    progress = never_500(await http.get("/api/accounts/import/abc", headers=bearer(token)))
    assert progress.status_code == 503, progress.text

    # A session ended during the outage is refused at once: the database is the record.
    ended = never_500(await http.post("/api/auth/logout", headers=bearer(second)))
    assert ended.status_code == 204, ended.text
    refused = never_500(await http.get("/api/threads", headers=bearer(second)))
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "session_revoked"

    ready = await http.get("/readyz")
    assert ready.status_code == 503 and "Retry-After" in ready.headers

    redis_server.start()

    # Back without restarting the app (nor its job consumer, which declares the lost consumer
    # group again): the Store and the queue use Redis again (the limits too:
    # test_limits_count_in_process_while_redis_is_down_and_still_refuse).
    forgot = never_500(await http.post("/api/auth/password/forgot", json={"email": seeded.email}))
    assert forgot.status_code == 202, forgot.text
    assert (await http.get("/readyz")).status_code == 200
    listed = await http.get("/api/threads", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert await _cached_session_ids(redis_server, settings), "sessions are cached again"
    assert (await login(http, seeded.email)).status_code == 200
    refused = await http.get("/api/threads", headers=bearer(second))
    assert refused.status_code == 401, refused.text


async def _cached_session_ids(server: RedisServer, settings: Settings) -> list[str]:
    raw = aioredis.Redis.from_url(server.url, decode_responses=True)
    try:
        pattern = f"{settings.store_prefix}auth:session:*"
        return [key async for key in raw.scan_iter(match=pattern)]
    finally:
        await raw.aclose()


async def test_a_live_socket_opened_during_the_outage_is_told_events_are_unavailable(
    make_settings: Any, redis_server: RedisServer
) -> None:
    async with run_live_server(make_settings(redis_url=redis_server.url)) as live:
        who = await live.sign_in()
        redis_server.stop()
        async with live.connect() as ws:
            # The token is checked against the database; only the event feed needs Redis.
            await send_json(ws, {"type": "auth", "token": who.access_token})
            assert await closed_with(ws) == (1011, "events_unavailable")
        redis_server.start()
        async with live.connect() as ws:
            await authenticate(ws, who.access_token)


# The Store on its own.

STORE_CALLS = {
    "get": lambda s: s.get("k"),
    "set": lambda s: s.set("k", "v", ttl=5),
    "delete": lambda s: s.delete("k"),
    "get_and_delete": lambda s: s.get_and_delete("k"),
    "delete_if_equal": lambda s: s.delete_if_equal("k", "v"),
    "incr": lambda s: s.incr("n", ttl=5),
    "ttl": lambda s: s.ttl("k"),
    "expire": lambda s: s.expire("k", 5),
    "sadd": lambda s: s.sadd("s", "a", ttl=5),
    "srem": lambda s: s.srem("s", "a"),
    "smembers": lambda s: s.smembers("s"),
    "sismember": lambda s: s.sismember("s", "a"),
    "publish": lambda s: s.publish("ch", "hello"),
    "ping": lambda s: s.ping(),
}


@pytest.mark.parametrize("call", sorted(STORE_CALLS))
async def test_every_store_call_raises_store_unavailable_when_redis_is_gone(call: str) -> None:
    store = RedisStore(f"redis://127.0.0.1:{closed_port()}/0")
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailableError):
            await STORE_CALLS[call](store)
    finally:
        await store.close()
    assert time.monotonic() - started < 1


async def test_a_subscription_to_a_missing_redis_raises_store_unavailable() -> None:
    store = RedisStore(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        with pytest.raises(StoreUnavailableError):
            async with store.subscribe("ch"):
                pass
    finally:
        await store.close()


async def test_a_silent_redis_costs_one_timeout_then_fails_fast() -> None:
    with silent_port() as port:
        store = RedisStore(f"redis://127.0.0.1:{port}/0", prefix="outage:")
        try:
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError):
                await store.get("k")
            first = time.monotonic() - started
            # Short enough that a request waiting on it still answers in reasonable time.
            assert first < 4
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError):
                await store.get("k")
            # No second wait on the silent server (its command timeout is 2 s); the margin is
            # for a loaded machine, where a runnable process can wait a scheduler slice or two.
            assert time.monotonic() - started < 0.5
        finally:
            await store.close()


async def test_the_store_recovers_on_its_pooled_connections_after_a_restart(
    redis_server: RedisServer,
) -> None:
    store = RedisStore(redis_server.url, prefix=f"outage-{uuid.uuid4().hex}:")
    try:
        await store.set("k", "v")
        redis_server.stop()
        redis_server.start()
        # The pooled connection died with the old server; the next call must not fail on it.
        assert await store.get("k") is None
        assert await store.set("k", "again") is True
    finally:
        await store.close()


# Auth's own fallbacks.


async def test_single_use_marks_hold_in_process_while_the_store_is_down(
    make_settings: Any, redis_server: RedisServer
) -> None:
    store = RedisStore(redis_server.url, prefix=f"outage-{uuid.uuid4().hex}:")
    kit = build_auth_kit(make_settings(redis_url=redis_server.url), store)
    try:
        assert await kit.claim_once("mfa-token:a", ttl=60)
        assert not await kit.claim_once("mfa-token:a", ttl=60)
        redis_server.stop()
        assert await kit.claim_once("mfa-token:b", ttl=60)
        assert not await kit.claim_once("mfa-token:b", ttl=60)
        redis_server.start()
        # Marked in this process during the outage: still used once the Store is back.
        assert not await kit.claim_once("mfa-token:b", ttl=60)
        assert await kit.claim_once("mfa-token:c", ttl=60)
        assert not await kit.claim_once("mfa-token:c", ttl=60)
    finally:
        kit.hasher.close()
        await store.close()


# Rate limits.


async def test_limits_count_in_process_while_redis_is_down_and_still_refuse(
    make_settings: Any, redis_server: RedisServer
) -> None:
    limiter = RateLimiter(make_settings(redis_url=redis_server.url))
    limiter.shared_retry_seconds = 0.0  # try Redis on every call, to see it come back
    key = f"{uuid.uuid4().hex}@example.com"
    await limiter.hit(ratelimit.LOGIN_ACCOUNT, key)
    redis_server.stop()
    # LOGIN_ACCOUNT allows 10 a minute: the in-process count carries the limit meanwhile.
    for _ in range(10):
        await limiter.hit(ratelimit.LOGIN_ACCOUNT, key)
    with pytest.raises(ProblemError) as refused:
        await limiter.hit(ratelimit.LOGIN_ACCOUNT, key)
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert refused.value.headers and int(refused.value.headers["Retry-After"]) >= 1
    assert await limiter.exhausted(ratelimit.LOGIN_ACCOUNT, key)

    redis_server.start()
    other = f"{uuid.uuid4().hex}@example.com"
    await limiter.hit(ratelimit.LOGIN_ACCOUNT, other)
    raw = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        keys = [k async for k in raw.scan_iter(match="*")]
    finally:
        await raw.aclose()
    assert any(other in k for k in keys), keys
