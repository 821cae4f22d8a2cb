"""What the database keeps: secrets only as hashes, lifetimes from the settings, and a scheduled
purge that removes what has ended and nothing that still works."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from http.cookies import SimpleCookie

import jwt
import pyotp
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskiq import InMemoryBroker

from postwise import db
from postwise.auth.models import AuthSession, OneTimeToken, RecoveryCode, RefreshToken
from postwise.auth.tasks import KEEP_ENDED_SESSIONS, purge_expired
from postwise.config import Settings
from postwise.db import utcnow
from postwise.notify.mailer import build_mailer
from postwise.store import MemoryStore
from postwise.users.models import User
from postwise.worker.broker import SharedScheduleSource, build_broker
from postwise.worker.queue import JobQueue
from postwise.worker.registry import JobContext, load_jobs
from tests.auth.conftest import API, PASSWORD, Harness, bearer

pytestmark = pytest.mark.backend

DAY = timedelta(days=1)


async def _every_value(app_db) -> str:
    """Every column of every row of every table, as one text to search for raw secrets."""
    async with app_db() as session:
        rows = [
            row
            for table in db.Base.metadata.sorted_tables
            for row in (await session.execute(select(table))).all()
        ]
    return "\n".join(repr(value) for row in rows for value in row)


def _about(actual: timedelta, expected: timedelta) -> bool:
    return abs(actual - expected) < timedelta(minutes=1)


def _cookie(response, name: str) -> SimpleCookie:
    cookies = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        cookies.load(header)
    return cookies[name]


async def _browser_login(h: Harness, email: str):
    body = {"email": email, "password": PASSWORD}
    response = await h.http.post("/api/auth/login", json=body)
    assert response.status_code == 200, response.text
    return response


async def test_refresh_tokens_and_device_ids_are_stored_only_as_hashes(h: Harness, app_db) -> None:
    await h.signup("hashed@example.org")
    api = await h.login("hashed@example.org")
    rotated = await h.http.post(
        "/api/auth/refresh", json={"refresh_token": api["refresh_token"]}, headers=API
    )
    browser = await _browser_login(h, "hashed@example.org")
    raw = [
        api["refresh_token"],
        rotated.json()["refresh_token"],
        _cookie(browser, "postwise_refresh").value,
        _cookie(browser, "postwise_device").value,
    ]
    async with app_db() as session:
        assert await session.scalar(select(func.count()).select_from(RefreshToken)) == 3
    stored = await _every_value(app_db)
    assert [token for token in raw if token in stored] == []


async def test_verification_reset_and_invite_tokens_are_stored_only_as_hashes(
    h: Harness, app_db
) -> None:
    await h.signup("admin@example.org")
    access = (await h.login("admin@example.org"))["access_token"]
    await h.register("pending@example.org")
    verification = h.token(await h.mail_to("pending@example.org"))
    await h.http.post("/api/auth/password/forgot", json={"email": "admin@example.org"})
    reset = h.token(await h.mail_to("admin@example.org"))
    invite = (await h.http.post("/api/admin/invites", json={}, headers=bearer(access))).json()
    async with app_db() as session:
        purposes = (await session.scalars(select(OneTimeToken.purpose))).all()
    assert {"verify_email", "reset_password", "invite"} <= set(purposes)
    stored = await _every_value(app_db)
    assert [token for token in (verification, reset, invite["token"]) if token in stored] == []


async def test_recovery_codes_and_the_totp_secret_are_not_stored_in_clear(
    h: Harness, app_db
) -> None:
    await h.signup("codes@example.org")
    access = (await h.login("codes@example.org"))["access_token"]
    secret = (await h.http.post("/api/auth/mfa/totp/setup", headers=bearer(access))).json()[
        "secret"
    ]
    codes = (
        await h.http.post(
            "/api/auth/mfa/totp/enable",
            json={"code": pyotp.TOTP(secret).now()},
            headers=bearer(access),
        )
    ).json()["recovery_codes"]
    async with app_db() as session:
        assert await session.scalar(select(func.count()).select_from(RecoveryCode)) == 10
    stored = await _every_value(app_db)
    # Neither as shown ("abcd-efgh-jkmn") nor as typed without dashes.
    raw = [secret, *codes, *(code.replace("-", "") for code in codes)]
    assert [value for value in raw if value in stored] == []


async def _pending_tokens(app_db) -> dict[str, OneTimeToken]:
    # Unused ones only: the in-process schedule may purge a used one at any moment.
    async with app_db() as session:
        rows = await session.scalars(select(OneTimeToken).where(OneTimeToken.used_at.is_(None)))
        return {row.purpose: row for row in rows}


async def _sessions(app_db) -> list[AuthSession]:
    async with app_db() as session:
        return list((await session.scalars(select(AuthSession))).all())


async def test_default_lifetimes(h: Harness, app_db) -> None:
    await h.signup("life@example.org")
    await h.register("later@example.org")
    h.token(await h.mail_to("later@example.org"))
    await h.http.post("/api/auth/password/forgot", json={"email": "life@example.org"})
    h.token(await h.mail_to("life@example.org"))
    await h.login("life@example.org")
    browser = await _browser_login(h, "life@example.org")
    tokens = await _pending_tokens(app_db)
    verify, reset = tokens["verify_email"], tokens["reset_password"]
    assert _about(verify.expires_at - verify.created_at, timedelta(hours=24))
    assert _about(reset.expires_at - reset.created_at, timedelta(hours=1))
    sessions = await _sessions(app_db)
    assert len(sessions) == 2
    for row in sessions:
        assert _about(row.idle_expires_at - row.created_at, 14 * DAY)
        assert _about(row.expires_at - row.created_at, 30 * DAY)
    # The browser keeps its refresh cookie as long as the session may idle, no longer.
    max_age = int(_cookie(browser, "postwise_refresh")["max-age"])
    assert _about(timedelta(seconds=max_age), 14 * DAY)


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # Not app_db: that starts a second app with default settings, whose job consumer could
    # take this app's jobs (the reset mail is sent by one) and issue tokens by its settings.
    engine = db.create_engine(settings)
    try:
        yield db.create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_lifetimes_follow_the_settings(make_harness) -> None:
    settings = {
        "refresh_idle_ttl": 3600,
        "refresh_absolute_ttl": 5400,
        "verify_token_ttl": 7200,
        "reset_token_ttl": 900,
    }
    async with make_harness(**settings) as h, _database(h.settings) as app_db:
        await h.signup("short@example.org")
        await h.register("later@example.org")
        h.token(await h.mail_to("later@example.org"))
        await h.http.post("/api/auth/password/forgot", json={"email": "short@example.org"})
        h.token(await h.mail_to("short@example.org"))
        browser = await _browser_login(h, "short@example.org")
        tokens = await _pending_tokens(app_db)
        verify, reset = tokens["verify_email"], tokens["reset_password"]
        assert _about(verify.expires_at - verify.created_at, timedelta(hours=2))
        assert _about(reset.expires_at - reset.created_at, timedelta(minutes=15))
        (row,) = await _sessions(app_db)
        assert _about(row.idle_expires_at - row.created_at, timedelta(hours=1))
        assert _about(row.expires_at - row.created_at, timedelta(minutes=90))
        max_age = int(_cookie(browser, "postwise_refresh")["max-age"])
        assert _about(timedelta(seconds=max_age), timedelta(hours=1))
        # Twenty minutes later a refresh slides the idle expiry by the configured hour (the
        # default 14 days would run into the absolute expiry, 70 minutes away, instead).
        async with app_db() as session:
            back = timedelta(minutes=20)
            await session.execute(
                update(AuthSession).values(
                    created_at=row.created_at - back,
                    last_seen_at=row.last_seen_at - back,
                    idle_expires_at=row.idle_expires_at - back,
                    expires_at=row.expires_at - back,
                )
            )
            await session.commit()
        refreshed = await h.http.post("/api/auth/refresh", headers={"X-Postwise-CSRF": "1"})
        assert refreshed.status_code == 200, refreshed.text
        (slid,) = await _sessions(app_db)
        assert _about(slid.idle_expires_at - utcnow(), timedelta(hours=1))
        assert _about(slid.expires_at - utcnow(), timedelta(minutes=70))


async def test_a_verification_link_older_than_a_day_is_refused(h: Harness, app_db) -> None:
    await h.register("day-old@example.org")
    await h.register("almost-day-old@example.org")
    old = h.token(await h.mail_to("day-old@example.org"))
    recent = h.token(await h.mail_to("almost-day-old@example.org"))

    async def issued_ago(email: str, age: timedelta) -> None:
        async with app_db() as session:
            row = await session.scalar(
                select(OneTimeToken)
                .join(User, User.id == OneTimeToken.user_id)
                .where(User.email == email)
            )
            assert row is not None
            lifetime = row.expires_at - row.created_at
            row.created_at = utcnow() - age
            row.expires_at = row.created_at + lifetime
            await session.commit()

    await issued_ago("almost-day-old@example.org", timedelta(hours=23, minutes=50))
    await issued_ago("day-old@example.org", timedelta(hours=24, minutes=1))
    accepted = await h.http.post("/api/auth/verify-email", json={"token": recent})
    assert accepted.status_code == 200
    refused = await h.http.post("/api/auth/verify-email", json={"token": old})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_token"
    async with app_db() as session:
        user = await session.scalar(select(User).where(User.email == "day-old@example.org"))
    assert user is not None and user.email_verified_at is None


async def test_the_purge_runs_hourly_on_the_shared_schedule(make_settings) -> None:
    # What the scheduler of every process (the API's in embedded mode, `postwise worker`
    # otherwise) reads from the broker's registered jobs.
    broker = build_broker(make_settings(redis_url=None), load_jobs())
    source = SharedScheduleSource(broker, MemoryStore())
    await source.startup()
    schedules = {task.task_name: task for task in await source.get_schedules()}
    assert "auth.purge_expired" in schedules
    assert schedules["auth.purge_expired"].interval == 3600
    assert schedules["auth.purge_expired"].cron is None


async def _purge(h: Harness, app_db) -> None:
    store = MemoryStore()
    await purge_expired(
        JobContext(
            settings=h.settings,
            store=store,
            sessionmaker=app_db,
            jobs=JobQueue(InMemoryBroker()),
            mailer=build_mailer(h.settings, store),
        )
    )


def _sid(tokens: dict) -> uuid.UUID:
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    return uuid.UUID(claims["sid"])


async def test_purge_keeps_what_still_works_and_what_ended_lately(h: Harness, app_db) -> None:
    await h.signup("keeper@example.org")
    access = (await h.login("keeper@example.org"))["access_token"]
    ended = [await h.login("keeper@example.org") for _ in range(5)]
    await h.register("waiting@example.org")
    waiting = h.token(await h.mail_to("waiting@example.org"))
    invited = await h.http.post("/api/admin/invites", json={}, headers=bearer(access))
    assert invited.status_code == 201
    await h.http.post("/api/auth/password/forgot", json={"email": "keeper@example.org"})
    h.token(await h.mail_to("keeper@example.org"))
    long_ago = utcnow() - KEEP_ENDED_SESSIONS - DAY
    lately = utcnow() - DAY
    endings: list[dict[str, datetime]] = [
        {"expires_at": long_ago},
        {"idle_expires_at": long_ago},
        {"revoked_at": long_ago},
        {"revoked_at": lately},
        {"expires_at": lately},
    ]
    async with app_db() as session:
        for tokens, ending in zip(ended, endings, strict=True):
            await session.execute(
                update(AuthSession).where(AuthSession.id == _sid(tokens)).values(**ending)
            )
        # The reset link ran out unused; the verification link and the invite are still good.
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.purpose == "reset_password")
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await session.commit()
    await _purge(h, app_db)
    async with app_db() as session:
        left = set((await session.scalars(select(AuthSession.id))).all())
        tokens_left = (await session.scalars(select(RefreshToken.session_id))).all()
        purposes = sorted((await session.scalars(select(OneTimeToken.purpose))).all())
    # The live session and the two that ended a day ago stay (for audits), with their tokens.
    assert left == {_sid({"access_token": access}), _sid(ended[3]), _sid(ended[4])}
    assert set(tokens_left) == left
    assert purposes == ["invite", "verify_email"]
    assert (await h.me(access)).status_code == 200
    assert (await h.http.post("/api/auth/verify-email", json={"token": waiting})).status_code == 200
