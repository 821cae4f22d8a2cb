"""Registration and email verification: enumeration-proof, normalised, strong passwords only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from postwise.auth.cookies import REFRESH_COOKIE
from postwise.auth.models import OneTimeToken
from postwise.db import utcnow
from postwise.users.models import User
from tests.auth.conftest import API, OTHER_PASSWORD, PASSWORD, PUBLIC_URL, Harness, bearer

pytestmark = pytest.mark.backend

ACCEPTED = {
    "status": "accepted",
    "detail": "If the address can be used, a message is on its way to it.",
    "admin": False,
    "session": None,
}


async def test_sign_up_verify_then_sign_in(h: Harness) -> None:
    response = await h.register("ada@example.org")
    assert response.status_code == 202
    # The first user is told it will be the admin; it still confirms its address first.
    assert response.json() == {**ACCEPTED, "admin": True}
    mail = await h.mail_to("ada@example.org")
    assert "confirm" in mail["Subject"].lower() or "verify" in mail["Subject"].lower()
    html = mail.get_body(preferencelist=("html",))
    assert html is not None and "verify-email" in html.get_content()
    link = h.link(mail)
    assert link.startswith(f"{PUBLIC_URL}/verify-email/?token=")
    token = h.token(mail)
    assert len(token) >= 43  # 32 random bytes, base64url
    before = await h.http.post(
        "/api/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert before.status_code == 403
    assert before.json()["code"] == "email_not_verified"
    verified = await h.http.post("/api/auth/verify-email", json={"token": token})
    assert verified.json() == {"status": "verified"}
    again = await h.http.post("/api/auth/verify-email", json={"token": token})
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"
    tokens = await h.login("ada@example.org")
    me = (await h.me(tokens["access_token"])).json()
    assert me["email"] == "ada@example.org"
    assert me["email_verified"] is True
    assert me["is_admin"] is True  # the first user of an empty instance


async def test_taken_address_looks_the_same_and_warns_its_owner(h: Harness) -> None:
    await h.signup("owner@example.org")
    response = await h.register("owner@example.org", OTHER_PASSWORD, name="Mallory")
    assert response.status_code == 202
    assert response.json() == ACCEPTED
    warning = await h.mail_to("owner@example.org")
    assert "tried to create" in h.text(warning)
    # The existing password still works; the attempt changed nothing.
    await h.login("owner@example.org")
    refused = await h.http.post(
        "/api/auth/login",
        json={"email": "owner@example.org", "password": OTHER_PASSWORD},
        headers=API,
    )
    assert refused.status_code == 401


async def test_address_is_normalised(h: Harness) -> None:
    await h.signup("  Grace.Hopper@Example.ORG ")
    await h.login("grace.hopper@example.org")
    await h.login("GRACE.HOPPER@example.org")
    second = await h.register("grace.hopper@EXAMPLE.org")
    assert second.status_code == 202
    assert "tried to create" in h.text(await h.mail_to("grace.hopper@example.org"))


async def test_password_rules(h: Harness) -> None:
    for number, weak in enumerate(("password123", "qwertyuiop", "ada.lovelace", "iloveyou1")):
        response = await h.register(f"weak{number}@example.org", weak)
        assert response.status_code == 422, weak
        body = response.json()
        assert body["code"] == "weak_password"
        assert body["errors"][0]["field"] == "password"
        assert weak not in response.text
    short = await h.register("short@example.org", "aB3$xY9")
    assert short.status_code == 422
    assert short.json()["code"] == "validation_error"
    too_long = await h.register("too-long@example.org", "x7Q!" * 32 + "a")
    assert too_long.status_code == 422
    # 128 characters is fine, and all of them count: no silent truncation.
    longest = ("Lantern-harbour-" * 8)[:127] + "9"
    await h.signup("long@example.org", longest)
    await h.login("long@example.org", longest)
    truncated = await h.http.post(
        "/api/auth/login",
        json={"email": "long@example.org", "password": longest[:72]},
        headers=API,
    )
    assert truncated.status_code == 401


async def test_privilege_fields_in_the_body_are_ignored(h: Harness) -> None:
    await h.signup("first@example.org")
    response = await h.register(
        "second@example.org", is_admin=True, is_verified=True, email_verified=True
    )
    assert response.status_code == 202
    refused = await h.http.post(
        "/api/auth/login", json={"email": "second@example.org", "password": PASSWORD}
    )
    assert refused.json()["code"] == "email_not_verified"
    token = h.token(await h.mail_to("second@example.org"))
    await h.http.post("/api/auth/verify-email", json={"token": token})
    me = (await h.me((await h.login("second@example.org"))["access_token"])).json()
    assert me["is_admin"] is False


async def test_registration_closed_still_lets_the_first_user_in(make_harness) -> None:
    async with make_harness(registration="closed") as h:
        await h.signup("root@example.org")
        refused = await h.register("late@example.org")
        assert refused.status_code == 403
        assert refused.json()["code"] == "registration_closed"


async def test_invite_only_registration(make_harness) -> None:
    async with make_harness(registration="invite") as h:
        await h.signup("admin@example.org")
        refused = await h.register("guest@example.org")
        assert refused.json()["code"] == "invite_required"
        admin = await h.login("admin@example.org")
        invite = await h.http.post(
            "/api/admin/invites",
            json={"email": "guest@example.org"},
            headers=bearer(admin["access_token"]),
        )
        assert invite.status_code == 201
        invite_mail = await h.mail_to("guest@example.org")
        assert invite.json()["link"] in h.text(invite_mail)
        wrong_person = await h.register("other@example.org", invite_token=invite.json()["token"])
        assert wrong_person.json()["code"] == "invite_required"
        await h.signup("guest@example.org", invite_token=invite.json()["token"])
        reused = await h.register("third@example.org", invite_token=invite.json()["token"])
        assert reused.json()["code"] == "invite_required"


async def test_without_smtp_the_first_user_is_verified_at_once(make_harness) -> None:
    async with make_harness(smtp_host=None) as h:
        # A browser: signed in at once, the refresh token in its cookie as after POST /login.
        first = await h.register("solo@example.org")
        assert first.status_code == 201, first.text
        body = first.json()
        assert (body["status"], body["admin"]) == ("signed_in", True)
        assert "no mail server" in body["detail"]
        assert body["session"]["token_type"] == "bearer" and body["session"]["expires_in"] > 0
        assert body["session"]["refresh_token"] is None
        assert first.cookies.get(REFRESH_COOKIE)
        me = (await h.me(body["session"]["access_token"])).json()
        assert me["email"] == "solo@example.org" and me["is_admin"] and me["email_verified"]
        refreshed = await h.http.post("/api/auth/refresh", headers={"X-Postwise-CSRF": "1"})
        assert refreshed.status_code == 200, refreshed.text
        await h.login("solo@example.org")
        second = await h.register("second@example.org")
        assert (second.status_code, second.json()) == (202, ACCEPTED)
        refused = await h.http.post(
            "/api/auth/login", json={"email": "second@example.org", "password": PASSWORD}
        )
        assert refused.json()["code"] == "email_not_verified"
        events = await h.http.get(
            "/api/auth/events", headers=bearer(body["session"]["access_token"])
        )
        signed_in = [e for e in events.json()["items"] if e["type"] == "login_succeeded"]
        assert [e["data"]["method"] for e in signed_in][-1] == "registration"


async def test_an_api_client_registering_first_gets_its_refresh_token(make_harness) -> None:
    async with make_harness(smtp_host=None) as h:
        response = await h.http.post(
            "/api/auth/register",
            json={"email": "ops@corp.internal", "password": PASSWORD},
            headers=API,
        )
        assert response.status_code == 201, response.text
        session = response.json()["session"]
        assert session["refresh_token"] and REFRESH_COOKIE not in response.cookies
        rotated = await h.http.post(
            "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}, headers=API
        )
        assert rotated.status_code == 200, rotated.text


# Special-use names that self-hosted organisations run mail on (and `postwise demo` uses).
SELF_HOSTED = ["ada@corp.local", "ada@mail.test", "ada@corp.internal", "ada@home.arpa"]


@pytest.mark.parametrize("email", SELF_HOSTED)
async def test_self_hosted_domains_sign_up_and_in(h: Harness, email: str) -> None:
    await h.signup(email)
    tokens = await h.login(email)
    assert (await h.me(tokens["access_token"])).json()["email"] == email
    forgot = await h.http.post("/api/auth/password/forgot", json={"email": email})
    assert forgot.status_code == 202


async def test_localhost_addresses_are_accepted(h: Harness) -> None:
    await h.signup("root@localhost")
    await h.login("ROOT@localhost")


@pytest.mark.parametrize(
    "email",
    ["ada", "ada@", "@corp.local", "ada@@corp.local", "ada@corp..local", "a b@corp.local",
     "ada@-corp.local", "ada@[127.0.0.1]", "ada@corp_x.local"],
)  # fmt: skip
async def test_malformed_addresses_are_refused(h: Harness, email: str) -> None:
    for response in (
        await h.register(email),
        await h.http.post("/api/auth/login", json={"email": email, "password": PASSWORD}),
    ):
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "validation_error"
        assert [error["field"] for error in body["errors"]] == ["email"]
        assert body["errors"][0]["message"]


async def test_wrong_password_before_not_verified(h: Harness) -> None:
    await h.register("pending@example.org")
    wrong = await h.http.post(
        "/api/auth/login", json={"email": "pending@example.org", "password": OTHER_PASSWORD}
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"


async def test_resend_replaces_the_link_and_expiry_is_enforced(h: Harness, app_db) -> None:
    await h.register("slow@example.org")
    first = h.token(await h.mail_to("slow@example.org"))
    unknown = await h.http.post("/api/auth/verify-email/resend", json={"email": "x@example.org"})
    known = await h.http.post("/api/auth/verify-email/resend", json={"email": "slow@example.org"})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    second = h.token(await h.mail_to("slow@example.org"))
    assert first != second
    stale = await h.http.post("/api/auth/verify-email", json={"token": first})
    assert stale.json()["code"] == "invalid_token"
    async with app_db() as db:
        await db.execute(update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    expired = await h.http.post("/api/auth/verify-email", json={"token": second})
    assert expired.json()["code"] == "invalid_token"
    async with app_db() as db:
        user = await db.scalar(select(User).where(User.email == "slow@example.org"))
        assert user is not None and user.email_verified_at is None


async def test_a_demo_user_does_not_take_the_first_users_admin_role(h: Harness, app_db) -> None:
    async with app_db() as db:
        db.add(User(email="demo@postwise.local", password_hash="x", is_demo=True))
        await db.commit()
    await h.signup("ada@example.org")
    tokens = await h.login("ada@example.org")
    assert (await h.me(tokens["access_token"])).json()["is_admin"] is True


async def test_sign_ups_racing_on_an_empty_instance_make_one_admin(h: Harness, app_db) -> None:
    # Each sign-up counts the users before its argon2 hash and inserts after it, so these
    # all start on an empty instance; only one may come out as its admin.
    emails = [f"racer{n}@example.org" for n in range(3)]
    answers = await asyncio.gather(
        *(
            h.http.post(
                "/api/auth/register",
                json={"email": email, "password": PASSWORD},
                headers={**API, "X-Forwarded-For": email},
            )
            for email in emails
        )
    )
    assert [answer.status_code for answer in answers] == [202, 202, 202]
    async with app_db() as db:
        admins = (await db.scalars(select(User.email).where(User.is_admin.is_(True)))).all()
        users = (await db.scalars(select(User.email))).all()
    assert sorted(users) == emails
    assert len(admins) == 1
