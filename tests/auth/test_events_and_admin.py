"""Security events, the new-device notice, the profile and the admin's user management."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from postwise.auth.models import AuthSession, RefreshToken, SecurityEvent
from postwise.db import utcnow
from postwise.users.models import User
from tests.auth.conftest import API, OTHER_PASSWORD, PASSWORD, Harness, bearer

pytestmark = pytest.mark.backend


async def _events(h: Harness, access: str) -> list[dict]:
    page = await h.http.get("/api/auth/events?limit=200", headers=bearer(access))
    assert page.status_code == 200
    return page.json()["items"]


async def test_the_flows_leave_their_events(h: Harness, app_db) -> None:
    await h.signup("events@example.org")
    await h.http.post(
        "/api/auth/login",
        json={"email": "events@example.org", "password": OTHER_PASSWORD},
        headers=API,
    )
    first = await h.login("events@example.org", headers={**API, "User-Agent": "Desk/1"})
    access = first["access_token"]
    second = await h.login("events@example.org", headers={**API, "User-Agent": "Tablet/9"})
    listing = await h.http.get("/api/auth/sessions", headers=bearer(access))
    desk = next(item for item in listing.json()["items"] if item["current"])
    revoked = await h.http.delete(
        f"/api/auth/sessions/{desk['id']}", headers=bearer(second["access_token"])
    )
    assert revoked.status_code == 204
    await h.http.post(
        "/api/auth/password/change",
        json={"current_password": PASSWORD, "new_password": OTHER_PASSWORD},
        headers=bearer(second["access_token"]),
    )
    setup = await h.http.post("/api/auth/mfa/totp/setup", headers=bearer(second["access_token"]))
    secret = setup.json()["secret"]
    codes = (
        await h.http.post(
            "/api/auth/mfa/totp/enable",
            json={"code": pyotp.TOTP(secret).now()},
            headers=bearer(second["access_token"]),
        )
    ).json()["recovery_codes"]
    await h.http.post(
        "/api/auth/mfa/totp/disable",
        json={"password": OTHER_PASSWORD, "code": codes[0]},
        headers=bearer(second["access_token"]),
    )
    third = await h.login("events@example.org", OTHER_PASSWORD)
    await _reuse(h, third, app_db)
    fourth = await h.login("events@example.org", OTHER_PASSWORD)
    await h.http.post("/api/auth/logout", headers=bearer(fourth["access_token"]))
    fifth = await h.login("events@example.org", OTHER_PASSWORD)
    types = {event["type"] for event in await _events(h, fifth["access_token"])}
    assert {
        "user_registered",
        "email_verified",
        "login_failed",
        "login_succeeded",
        "new_device_sign_in",
        "session_revoked",
        "password_changed",
        "mfa_enabled",
        "mfa_disabled",
        "refresh_token_reuse",
        "logout",
    } <= types


async def _reuse(h: Harness, tokens: dict, app_db) -> None:
    await h.http.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=API
    )
    async with app_db() as db:  # past the grace period for a lost answer
        await db.execute(update(RefreshToken).values(used_at=utcnow() - timedelta(seconds=16)))
        await db.commit()
    replay = await h.http.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=API
    )
    assert replay.status_code == 401


async def test_a_new_device_gets_a_mail(h: Harness) -> None:
    await h.signup("device@example.org")
    await h.login("device@example.org", headers={**API, "User-Agent": "Laptop/1"})
    await h.login("device@example.org", headers={**API, "User-Agent": "Laptop/1"})
    assert h.no_new_mail("device@example.org")  # first sign-in and a known device: no news
    await h.login("device@example.org", headers={**API, "User-Agent": "Unknown-Phone/3"})
    notice = await h.mail_to("device@example.org")
    assert "sign-in" in notice["Subject"].lower() or "sign in" in notice["Subject"].lower()
    assert "Unknown-Phone/3" in h.text(notice)


async def test_browser_device_cookie_recognises_the_browser(h: Harness) -> None:
    await h.signup("cookie-device@example.org")
    body = {"email": "cookie-device@example.org", "password": PASSWORD}
    first = await h.http.post("/api/auth/login", json=body, headers={"User-Agent": "Firefox"})
    assert "postwise_device" in first.headers["set-cookie"]
    # The same browser after an update: new user agent, same device cookie, no notice.
    await h.http.post("/api/auth/login", json=body, headers={"User-Agent": "Firefox 2"})
    assert h.no_new_mail("cookie-device@example.org")


async def test_profile(h: Harness) -> None:
    await h.signup("me@example.org")
    access = (await h.login("me@example.org"))["access_token"]
    me = (await h.me(access)).json()
    assert set(me) == {
        "id",
        "email",
        "name",
        "is_admin",
        "email_verified",
        "mfa_enabled",
        "created_at",
        "new_mail_notifications",
        "send_undo_seconds",
    }
    assert me["send_undo_seconds"] == 10
    patched = await h.http.patch(
        "/api/users/me", json={"name": "  Ada King  ", "is_admin": False}, headers=bearer(access)
    )
    assert patched.json()["name"] == "Ada King"
    for bad in (31, -1, False, "5"):
        refused = await h.http.patch(
            "/api/users/me", json={"send_undo_seconds": bad}, headers=bearer(access)
        )
        assert refused.status_code == 422, bad
    undo = await h.http.patch(
        "/api/users/me", json={"send_undo_seconds": 0}, headers=bearer(access)
    )
    assert undo.json()["send_undo_seconds"] == 0
    assert (await h.http.get("/api/users/me")).status_code == 401


async def test_admin_manages_users(h: Harness) -> None:
    await h.signup("boss@example.org", name="Boss")
    await h.signup("worker@example.org", name="Willa Worker")
    await h.signup("other@example.org", name="Otto")
    boss = (await h.login("boss@example.org"))["access_token"]
    worker = await h.login("worker@example.org")
    forbidden = await h.http.get("/api/admin/users", headers=bearer(worker["access_token"]))
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "admin_required"
    page = (await h.http.get("/api/admin/users?limit=2", headers=bearer(boss))).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    found = (await h.http.get("/api/admin/users?q=willa", headers=bearer(boss))).json()
    assert [item["email"] for item in found["items"]] == ["worker@example.org"]
    wildcard = (await h.http.get("/api/admin/users?q=%25", headers=bearer(boss))).json()
    assert wildcard["total"] == 0
    worker_id = found["items"][0]["id"]
    off = await h.http.patch(
        f"/api/admin/users/{worker_id}", json={"is_active": False}, headers=bearer(boss)
    )
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert (await h.me(worker["access_token"])).status_code == 401
    refresh = await h.http.post(
        "/api/auth/refresh", json={"refresh_token": worker["refresh_token"]}, headers=API
    )
    assert refresh.status_code == 401
    denied = await h.http.post(
        "/api/auth/login", json={"email": "worker@example.org", "password": PASSWORD}, headers=API
    )
    assert denied.json()["code"] == "invalid_credentials"
    promoted = await h.http.patch(
        f"/api/admin/users/{worker_id}",
        json={"is_admin": True, "is_active": True},
        headers=bearer(boss),
    )
    assert promoted.json()["is_admin"] is True
    me = (await h.me(boss)).json()
    self_demote = await h.http.patch(
        f"/api/admin/users/{me['id']}", json={"is_admin": False}, headers=bearer(boss)
    )
    assert self_demote.status_code == 409
    missing = await h.http.patch(
        "/api/admin/users/00000000-0000-0000-0000-000000000000",
        json={"is_active": False},
        headers=bearer(boss),
    )
    assert missing.status_code == 404
    events = (
        await h.http.get("/api/admin/events?type=user_updated_by_admin", headers=bearer(boss))
    ).json()
    assert len(events["items"]) == 2
    worker_events = (
        await h.http.get(f"/api/admin/events?user_id={worker_id}&limit=1", headers=bearer(boss))
    ).json()
    assert len(worker_events["items"]) == 1 and worker_events["next_cursor"]
    more = await h.http.get(
        f"/api/admin/events?user_id={worker_id}&limit=1&cursor={worker_events['next_cursor']}",
        headers=bearer(boss),
    )
    assert more.json()["items"][0]["id"] != worker_events["items"][0]["id"]


async def test_deactivation_revokes_sessions_for_good(h: Harness, app_db) -> None:
    await h.signup("boss@example.org")
    await h.signup("leaver@example.org")
    boss = bearer((await h.login("boss@example.org"))["access_token"])
    old = await h.login("leaver@example.org")
    leaver_id = uuid.UUID((await h.me(old["access_token"])).json()["id"])
    for active in (False, True):
        changed = await h.http.patch(
            f"/api/admin/users/{leaver_id}", json={"is_active": active}, headers=boss
        )
        assert changed.status_code == 200
    # Active again, yet the old session stays ended: deactivation revoked it, it did not
    # merely hide it behind the is_active check.
    assert (await h.me(old["access_token"])).status_code == 401
    refresh = await h.http.post(
        "/api/auth/refresh", json={"refresh_token": old["refresh_token"]}, headers=API
    )
    assert refresh.status_code == 401
    async with app_db() as db:
        reasons = (
            await db.scalars(
                select(AuthSession.revoked_reason).where(AuthSession.user_id == leaver_id)
            )
        ).all()
    assert reasons == ["deactivated"]
    fresh = await h.login("leaver@example.org")
    assert (await h.me(fresh["access_token"])).status_code == 200


async def test_profile_update_ignores_privileged_fields(h: Harness, app_db) -> None:
    await h.signup("first@example.org")  # the first user is the admin; the next one is not
    await h.signup("plain@example.org")
    access = (await h.login("plain@example.org"))["access_token"]
    columns = ("email", "is_admin", "is_active", "email_verified_at", "password_hash")

    async def row() -> dict[str, object]:
        async with app_db() as db:
            user = await db.scalar(select(User).where(User.email == "plain@example.org"))
        assert user is not None
        return {column: getattr(user, column) for column in columns}

    before = await row()
    patched = await h.http.patch(
        "/api/users/me",
        json={
            "name": "Plain Jane",
            "is_admin": True,
            "is_active": False,
            "email_verified_at": None,
            "email": "taken-over@example.org",
            "password_hash": "x",
        },
        headers=bearer(access),
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Plain Jane"  # the allowed field did apply
    assert patched.json()["is_admin"] is False
    assert patched.json()["email"] == "plain@example.org"
    assert await row() == before
    assert (await h.me(access)).status_code == 200
    admin_only = await h.http.get("/api/admin/users", headers=bearer(access))
    assert admin_only.status_code == 403


async def test_the_lock_after_an_expired_one_is_twice_as_long(h: Harness, app_db) -> None:
    await h.signup("again@example.org")

    async def fail() -> None:
        wrong = await h.http.post(
            "/api/auth/login",
            json={"email": "again@example.org", "password": OTHER_PASSWORD},
            headers=API,
        )
        assert wrong.json()["code"] == "invalid_credentials"

    for _ in range(5):
        await fail()
    async with app_db() as db:
        await db.execute(
            update(User)
            .where(User.email == "again@example.org")
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    await fail()
    async with app_db() as db:
        user = await db.scalar(select(User).where(User.email == "again@example.org"))
        locks = (
            await db.scalars(
                select(SecurityEvent)
                .where(SecurityEvent.type == "account_locked")
                .order_by(SecurityEvent.created_at)
            )
        ).all()
    assert [(lock.data["seconds"], lock.data["failures"]) for lock in locks] == [(60, 5), (120, 6)]
    assert user is not None and user.locked_until is not None
    left = user.locked_until - utcnow()
    assert timedelta(seconds=110) < left <= timedelta(seconds=120)
