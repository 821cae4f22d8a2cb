"""Forgot, reset and change: hashed single-use tokens, links from the public URL, no auto-login."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from postwise.auth.models import OneTimeToken
from postwise.auth.passwords import PasswordHasher
from postwise.db import utcnow
from tests.auth.conftest import API, OTHER_PASSWORD, PASSWORD, PUBLIC_URL, Harness, bearer

pytestmark = pytest.mark.backend

THIRD_PASSWORD = "amber-Meadow-thunder-pocket-71"


async def _forgot(h: Harness, email: str, **headers: str):
    return await h.http.post("/api/auth/password/forgot", json={"email": email}, headers=headers)


async def test_reset_flow(h: Harness) -> None:
    await h.signup("reset@example.org")
    before = await h.login("reset@example.org")
    answer = await _forgot(h, "reset@example.org", Host="evil.example")
    assert answer.status_code == 202
    mail = await h.mail_to("reset@example.org")
    link = h.link(mail)
    assert link.startswith(f"{PUBLIC_URL}/reset-password/?token=")
    assert "evil.example" not in h.text(mail)
    token = h.token(mail)
    assert len(token) >= 22  # ≥ 128 bits
    reset = await h.http.post(
        "/api/auth/password/reset", json={"token": token, "new_password": OTHER_PASSWORD}
    )
    assert reset.status_code == 200
    assert reset.json() == {"status": "reset"}
    assert "set-cookie" not in reset.headers  # no auto-login
    assert "access_token" not in reset.text
    # Every session ended; the old password is gone; the token is spent.
    assert (await h.me(before["access_token"])).status_code == 401
    assert (
        await h.http.post(
            "/api/auth/login",
            json={"email": "reset@example.org", "password": PASSWORD},
            headers=API,
        )
    ).status_code == 401
    after = await h.login("reset@example.org", OTHER_PASSWORD)
    events = await h.http.get("/api/auth/events", headers=bearer(after["access_token"]))
    types = [event["type"] for event in events.json()["items"]]
    assert "password_reset" in types
    sign_ins = [e for e in events.json()["items"] if e["type"] == "login_succeeded"]
    assert len(sign_ins) == 2
    spent = await h.http.post(
        "/api/auth/password/reset", json={"token": token, "new_password": THIRD_PASSWORD}
    )
    assert spent.json()["code"] == "invalid_token"
    changed_mail = await h.mail_to("reset@example.org")
    assert "password" in changed_mail["Subject"].lower()


async def test_newer_token_kills_older_and_purposes_do_not_mix(h: Harness) -> None:
    await h.signup("two@example.org")
    await _forgot(h, "two@example.org")
    first = h.token(await h.mail_to("two@example.org"))
    await _forgot(h, "two@example.org")
    second = h.token(await h.mail_to("two@example.org"))
    old = await h.http.post(
        "/api/auth/password/reset", json={"token": first, "new_password": OTHER_PASSWORD}
    )
    assert old.json()["code"] == "invalid_token"
    # A verification token is no reset token.
    await h.register("fresh@example.org")
    verify_token = h.token(await h.mail_to("fresh@example.org"))
    mixed = await h.http.post(
        "/api/auth/password/reset", json={"token": verify_token, "new_password": OTHER_PASSWORD}
    )
    assert mixed.json()["code"] == "invalid_token"
    ok = await h.http.post(
        "/api/auth/password/reset", json={"token": second, "new_password": OTHER_PASSWORD}
    )
    assert ok.status_code == 200


async def test_reset_link_expires_after_an_hour(h: Harness, app_db) -> None:
    await h.signup("late@example.org")
    await _forgot(h, "late@example.org")
    token = h.token(await h.mail_to("late@example.org"))
    async with app_db() as db:
        await db.execute(
            update(OneTimeToken)
            .where(OneTimeToken.purpose == "reset_password")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    expired = await h.http.post(
        "/api/auth/password/reset", json={"token": token, "new_password": OTHER_PASSWORD}
    )
    assert expired.json()["code"] == "invalid_token"


async def test_weak_new_password_keeps_the_token(h: Harness) -> None:
    await h.signup("weaknew@example.org")
    await _forgot(h, "weaknew@example.org")
    token = h.token(await h.mail_to("weaknew@example.org"))
    weak = await h.http.post(
        "/api/auth/password/reset", json={"token": token, "new_password": "password1"}
    )
    assert weak.status_code == 422
    assert weak.json()["code"] == "weak_password"
    ok = await h.http.post(
        "/api/auth/password/reset", json={"token": token, "new_password": OTHER_PASSWORD}
    )
    assert ok.status_code == 200


async def test_change_password_signs_out_the_others_and_kills_reset_links(h: Harness) -> None:
    await h.signup("change@example.org")
    here = await h.login("change@example.org")
    elsewhere = await h.login("change@example.org")
    await _forgot(h, "change@example.org")
    pending_reset = h.token(await h.mail_to("change@example.org"))
    wrong = await h.http.post(
        "/api/auth/password/change",
        json={"current_password": "not-my-password", "new_password": OTHER_PASSWORD},
        headers=bearer(here["access_token"]),
    )
    assert wrong.status_code == 401
    changed = await h.http.post(
        "/api/auth/password/change",
        json={"current_password": PASSWORD, "new_password": OTHER_PASSWORD},
        headers=bearer(here["access_token"]),
    )
    assert changed.status_code == 200
    assert (await h.me(here["access_token"])).status_code == 200
    assert (await h.me(elsewhere["access_token"])).status_code == 401
    stale = await h.http.post(
        "/api/auth/password/reset", json={"token": pending_reset, "new_password": THIRD_PASSWORD}
    )
    assert stale.json()["code"] == "invalid_token"
    notice = await h.mail_to("change@example.org")
    assert "password" in notice["Subject"].lower()


async def test_forgot_for_unknown_address_sends_nothing(h: Harness) -> None:
    answer = await _forgot(h, "ghost@example.org")
    assert answer.status_code == 202
    await h.signup("real@example.org")  # a mail that does arrive, to know the jobs ran
    assert h.no_new_mail("ghost@example.org")


async def test_hashing_and_verifying_run_off_the_event_loop(settings) -> None:
    # A 20-30 ms hash on the event loop would stall every other request with it.
    hasher = PasswordHasher(settings)
    threads: list[int] = []
    argon2 = hasher._hasher

    class Spy(type(argon2)):
        def hash(self, *args, **kwargs):
            threads.append(threading.get_ident())
            return super().hash(*args, **kwargs)

        def verify(self, *args, **kwargs):
            threads.append(threading.get_ident())
            return super().verify(*args, **kwargs)

    hasher._hasher = Spy.from_parameters(argon2._parameters)
    try:
        stored = await hasher.hash(PASSWORD)
        assert (await hasher.verify(stored, PASSWORD)).ok
        assert not (await hasher.verify(None, PASSWORD)).ok  # the dummy hash for unknown users
    finally:
        hasher.close()
    assert len(threads) == 4  # hash, verify, dummy hash, dummy verify
    assert threading.get_ident() not in threads
