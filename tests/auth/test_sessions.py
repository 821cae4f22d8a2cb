"""Refresh-token rotation and reuse detection, cookies and CSRF, revocation that bites at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select, update

from postwise.auth.models import AuthSession, OneTimeToken, RefreshToken, SecurityEvent
from postwise.auth.tasks import purge_expired
from postwise.db import utcnow
from postwise.users.models import User
from tests.auth.conftest import API, PASSWORD, Harness, bearer

pytestmark = pytest.mark.backend

CSRF = {"X-Postwise-CSRF": "1"}


async def _refresh(h: Harness, token: str):
    return await h.http.post("/api/auth/refresh", json={"refresh_token": token}, headers=API)


async def test_rotation_on_every_use(h: Harness) -> None:
    await h.signup("rot@example.org")
    first = await h.login("rot@example.org")
    assert len(first["refresh_token"]) >= 43  # ≥ 256 bits, base64url
    second = (await _refresh(h, first["refresh_token"])).json()
    third = (await _refresh(h, second["refresh_token"])).json()
    assert len({first["refresh_token"], second["refresh_token"], third["refresh_token"]}) == 3
    assert (await h.me(third["access_token"])).status_code == 200


async def test_reuse_revokes_the_whole_session(h: Harness, app_db) -> None:
    await h.signup("reuse@example.org")
    first = await h.login("reuse@example.org")
    second = (await _refresh(h, first["refresh_token"])).json()
    third = (await _refresh(h, second["refresh_token"])).json()
    # The client moved on (it used its new token): the old one again is a replay.
    replay = await _refresh(h, first["refresh_token"])
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_refresh_token"
    # The newest token and the newest access token die with the family.
    assert (await _refresh(h, third["refresh_token"])).status_code == 401
    assert (await h.me(third["access_token"])).status_code == 401
    assert (await h.me(first["access_token"])).status_code == 401
    async with app_db() as db:
        types = (await db.scalars(select(SecurityEvent.type))).all()
    assert "refresh_token_reuse" in types
    # Other sessions of the same user are untouched.
    other = await h.login("reuse@example.org")
    assert (await h.me(other["access_token"])).status_code == 200


async def test_reuse_after_the_grace_period_revokes(h: Harness, app_db) -> None:
    await h.signup("late@example.org")
    first = await h.login("late@example.org")
    second = (await _refresh(h, first["refresh_token"])).json()
    async with app_db() as db:
        await db.execute(update(RefreshToken).values(used_at=utcnow() - timedelta(seconds=16)))
        await db.commit()
    assert (await _refresh(h, first["refresh_token"])).status_code == 401
    assert (await h.me(second["access_token"])).status_code == 401


async def test_a_refresh_whose_answer_was_lost_can_be_retried(h: Harness, app_db) -> None:
    # A page reloaded while its refresh was in flight: the rotated cookie never arrived, and
    # the new page sends the old one. That is not theft: it gets tokens, the session lives.
    await h.signup("reload@example.org")
    first = await h.login("reload@example.org")
    lost = (await _refresh(h, first["refresh_token"])).json()
    retried = await _refresh(h, first["refresh_token"])
    assert retried.status_code == 200, retried.text
    again = await _refresh(h, first["refresh_token"])  # reloaded twice in a row
    assert again.status_code == 200, again.text
    async with app_db() as db:
        assert await db.scalar(select(func.count()).where(AuthSession.revoked_at.is_not(None))) == 0
        # The grace period passes.
        past = timedelta(seconds=16)
        for token in (await db.scalars(select(RefreshToken))).all():
            token.created_at -= past
            if token.used_at is not None:
                token.used_at -= past
        await db.commit()
    # One live token per session: the answers never received were retired.
    assert (await _refresh(h, again.json()["refresh_token"])).status_code == 200
    assert (await _refresh(h, lost["refresh_token"])).status_code == 401


async def test_a_retired_token_after_a_newer_one_was_used_is_reuse(h: Harness) -> None:
    # A thief replays the old token inside the grace period and uses what it got; the
    # legitimate client then refreshes with its own (retired) token: reuse, session ends.
    await h.signup("thief@example.org")
    first = await h.login("thief@example.org")
    mine = (await _refresh(h, first["refresh_token"])).json()
    stolen = (await _refresh(h, first["refresh_token"])).json()
    thief = (await _refresh(h, stolen["refresh_token"])).json()
    assert (await _refresh(h, mine["refresh_token"])).status_code == 401
    assert (await h.me(thief["access_token"])).status_code == 401
    assert (await _refresh(h, thief["refresh_token"])).status_code == 401


async def test_parallel_refreshes_keep_one_live_token(h: Harness) -> None:
    await h.signup("race@example.org")
    tokens = await h.login("race@example.org")
    answers = await asyncio.gather(*(_refresh(h, tokens["refresh_token"]) for _ in range(8)))
    assert "revoked" not in str([a.json() for a in answers])
    # Two tabs (or retries) at once with the same token: none is turned away...
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    fresh = [answer.json()["refresh_token"] for answer in answers]
    assert len(set(fresh)) == 8
    # ...and the session goes on with any of them.
    assert (await _refresh(h, fresh[-1])).status_code == 200


async def test_idle_and_absolute_expiry(h: Harness, app_db) -> None:
    await h.signup("idle@example.org")
    idle = await h.login("idle@example.org")
    absolute = await h.login("idle@example.org")
    async with app_db() as db:
        sessions = (await db.scalars(select(AuthSession).order_by(AuthSession.created_at))).all()
        sessions[-2].idle_expires_at = utcnow() - timedelta(seconds=1)
        sessions[-1].expires_at = utcnow() - timedelta(seconds=1)
        await db.commit()
    assert (await _refresh(h, idle["refresh_token"])).status_code == 401
    assert (await _refresh(h, absolute["refresh_token"])).status_code == 401


async def test_idle_expiry_slides_but_never_past_the_absolute_one(h: Harness, app_db) -> None:
    await h.signup("slide@example.org")
    tokens = await h.login("slide@example.org")
    async with app_db() as db:
        row = await db.scalar(select(AuthSession))
        assert row is not None
        row.expires_at = utcnow() + timedelta(days=1)
        await db.commit()
    await _refresh(h, tokens["refresh_token"])
    async with app_db() as db:
        row = await db.scalar(select(AuthSession))
        assert row is not None
        assert row.idle_expires_at <= row.expires_at


async def test_browser_cookie_flags_and_csrf(h: Harness) -> None:
    await h.signup("cookie@example.org")
    login = await h.http.post(
        "/api/auth/login", json={"email": "cookie@example.org", "password": PASSWORD}
    )
    assert "refresh_token" not in login.json() or login.json()["refresh_token"] is None
    cookies = SimpleCookie()
    for header in login.headers.get_list("set-cookie"):
        cookies.load(header)
    refresh = cookies["postwise_refresh"]
    assert refresh["httponly"] is True
    assert refresh["samesite"].lower() == "strict"
    assert refresh["path"] == "/api/auth"
    assert not refresh["secure"]  # the public URL here is http
    missing_csrf = await h.http.post("/api/auth/refresh")
    assert missing_csrf.status_code == 403
    assert missing_csrf.json()["code"] == "csrf_required"
    refreshed = await h.http.post("/api/auth/refresh", headers=CSRF)
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] is None
    assert "postwise_refresh" in refreshed.headers["set-cookie"]
    assert (await h.http.post("/api/auth/logout")).status_code == 403
    out = await h.http.post("/api/auth/logout", headers=CSRF)
    assert out.status_code == 204
    assert (await h.http.post("/api/auth/refresh", headers=CSRF)).status_code == 401


async def test_secure_cookie_with_an_https_public_url(make_harness) -> None:
    async with make_harness(public_url="https://mail.example.test") as h:
        await h.signup("secure@example.org")
        login = await h.http.post(
            "/api/auth/login", json={"email": "secure@example.org", "password": PASSWORD}
        )
        cookies = SimpleCookie()
        for header in login.headers.get_list("set-cookie"):
            cookies.load(header)
        assert cookies["postwise_refresh"]["secure"] is True


async def test_logout_and_logout_all_end_access_at_once(h: Harness) -> None:
    await h.signup("out@example.org")
    one = await h.login("out@example.org")
    two = await h.login("out@example.org")
    three = await h.login("out@example.org")
    assert (
        await h.http.post("/api/auth/logout", headers=bearer(one["access_token"]))
    ).status_code == 204
    assert (await h.me(one["access_token"])).status_code == 401
    assert (await h.me(two["access_token"])).status_code == 200
    all_out = await h.http.post("/api/auth/logout-all", headers=bearer(two["access_token"]))
    assert all_out.status_code == 204
    for tokens in (two, three):
        assert (await h.me(tokens["access_token"])).status_code == 401
        assert (await _refresh(h, tokens["refresh_token"])).status_code == 401


async def test_session_list_and_delete(h: Harness) -> None:
    await h.signup("list@example.org")
    await h.signup("stranger@example.org")
    mine = await h.login("list@example.org", headers={**API, "User-Agent": "Laptop/1.0"})
    other = await h.login("list@example.org", headers={**API, "User-Agent": "Phone/2.0"})
    stranger = await h.login("stranger@example.org")
    listing = (await h.http.get("/api/auth/sessions", headers=bearer(mine["access_token"]))).json()
    assert len(listing["items"]) == 2
    current = [item for item in listing["items"] if item["current"]]
    assert len(current) == 1 and current[0]["user_agent"] == "Laptop/1.0"
    phone = next(item for item in listing["items"] if not item["current"])
    assert phone["user_agent"] == "Phone/2.0" and phone["ip"]
    # Someone else's session answers like one that does not exist.
    theirs = await h.http.delete(
        f"/api/auth/sessions/{phone['id']}", headers=bearer(stranger["access_token"])
    )
    assert theirs.status_code == 404
    assert (await h.me(other["access_token"])).status_code == 200
    deleted = await h.http.delete(
        f"/api/auth/sessions/{phone['id']}", headers=bearer(mine["access_token"])
    )
    assert deleted.status_code == 204
    assert (await h.me(other["access_token"])).status_code == 401
    assert (await h.me(mine["access_token"])).status_code == 200
    again = await h.http.delete(
        f"/api/auth/sessions/{phone['id']}", headers=bearer(mine["access_token"])
    )
    assert again.status_code == 404


async def test_sessions_survive_a_restart(make_harness) -> None:
    async with make_harness() as h:
        await h.signup("durable@example.org")
        tokens = await h.login("durable@example.org")
    async with make_harness() as restarted:
        assert (await restarted.me(tokens["access_token"])).status_code == 200
        assert (await _refresh(restarted, tokens["refresh_token"])).status_code == 200


async def test_purge_removes_ended_sessions_and_used_tokens(h: Harness, app_db) -> None:
    await h.signup("purge@example.org")
    keep = await h.login("purge@example.org")
    await h.login("purge@example.org")
    async with app_db() as db:
        newest = await db.scalar(select(AuthSession).order_by(AuthSession.created_at.desc()))
        assert newest is not None
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == newest.id)
            .values(expires_at=utcnow() - timedelta(days=30))
        )
        await db.commit()
    from taskiq import InMemoryBroker

    from postwise.notify.mailer import build_mailer
    from postwise.store import MemoryStore
    from postwise.worker.queue import JobQueue
    from postwise.worker.registry import JobContext

    store = MemoryStore()
    counts = await purge_expired(
        JobContext(
            settings=h.settings,
            store=store,
            sessionmaker=app_db,
            jobs=JobQueue(InMemoryBroker()),
            mailer=build_mailer(h.settings, store),
        )
    )
    # The in-process scheduler may already have purged the used token; the result is what counts.
    assert counts["sessions"] == 1
    async with app_db() as db:
        assert await db.scalar(select(func.count()).select_from(OneTimeToken)) == 0
        assert await db.scalar(select(func.count()).select_from(AuthSession)) == 1
        assert await db.scalar(select(func.count()).select_from(RefreshToken)) == 1
    assert (await h.me(keep["access_token"])).status_code == 200


async def test_a_session_of_a_user_deactivated_behind_the_apps_back_does_not_stand(
    h: Harness, app_db
) -> None:
    """Routes that need only the caller's id read no user row: the session check itself
    requires the user to be active. (Deactivation through the API also revokes the sessions;
    this is the database saying so without that, e.g. an operator's UPDATE.)"""
    await h.signup("quiet@example.org")
    tokens = await h.login("quiet@example.org")
    async with app_db() as db:
        await db.execute(
            update(User).where(User.email == "quiet@example.org").values(is_active=False)
        )
        await db.commit()
    for path in ("/api/threads", "/api/users/me"):
        response = await h.http.get(path, headers={**API, **bearer(tokens["access_token"])})
        assert response.status_code == 401, (path, response.text)
        assert response.json()["code"] == "session_revoked"
