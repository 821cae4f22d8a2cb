"""Throttling per account and per client IP on every door a guesser knocks on, and the cap on
failed attempts per account that holds whatever the lockout delays allow."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest

import postwise.app
from postwise.auth import ratelimit
from postwise.auth.kit import AuthKit, build_auth_kit
from tests.auth.conftest import API, OTHER_PASSWORD, PASSWORD, Harness, bearer

pytestmark = pytest.mark.backend


@pytest.fixture
async def hp(make_harness) -> AsyncIterator[Harness]:
    """Behind a trusted proxy, so X-Forwarded-For chooses each request's client IP."""
    async with make_harness(trusted_proxies=["127.0.0.1"]) as harness:
        yield harness


def _from(ip: str) -> dict[str, str]:
    return {**API, "X-Forwarded-For": ip}


def _assert_limited(answer: httpx.Response, limit: int) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["code"] == "rate_limited"
    # The per-minute window is the one spent: the client may retry within that minute.
    assert 1 <= int(answer.headers["retry-after"]) <= 60
    assert answer.headers["ratelimit-limit"] == str(limit)
    assert answer.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(answer.headers["ratelimit-reset"]) <= 60


async def _register(h: Harness, email: str, ip: str) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, "name": "Ada"}
    return await h.http.post("/api/auth/register", json=body, headers=_from(ip))


async def test_register_throttled_per_account(hp: Harness) -> None:
    # Spellings of one address are one account: case and spaces buy no extra attempts.
    spellings = ["same@example.org", "Same@Example.org", " SAME@example.org ", "same@EXAMPLE.org"]
    answers = [await _register(hp, email, f"10.2.0.{n}") for n, email in enumerate(spellings)]
    assert [a.status_code for a in answers[:3]] == [202] * 3
    _assert_limited(answers[3], 3)
    # Another address from a fresh client is not held up by it.
    assert (await _register(hp, "other@example.org", "10.2.0.99")).status_code == 202


async def test_register_throttled_per_ip(hp: Harness) -> None:
    answers = [await _register(hp, f"r{n}@example.org", "203.0.113.20") for n in range(11)]
    assert [a.status_code for a in answers[:10]] == [202] * 10
    _assert_limited(answers[10], 10)
    assert (await _register(hp, "r10@example.org", "203.0.113.21")).status_code == 202
    mails = [await hp.mail_to(f"r{n}@example.org") for n in range(11)]
    # The refused attempt did nothing: r10's one mail is its verification, not a warning that
    # someone tried to sign up with a taken address.
    assert "/verify-email/" in hp.link(mails[10])


@pytest.mark.parametrize("path", ["/api/auth/password/forgot", "/api/auth/verify-email/resend"])
async def test_mail_requests_throttled_per_account(hp: Harness, path: str) -> None:
    # An unknown address is throttled exactly like a known one would be (nothing to enumerate).
    answers = [
        await hp.http.post(path, json={"email": "Target@example.org"}, headers=_from(f"10.3.0.{n}"))
        for n in range(4)
    ]
    assert [a.status_code for a in answers[:3]] == [202] * 3
    _assert_limited(answers[3], 3)
    other = await hp.http.post(path, json={"email": "else@example.org"}, headers=_from("10.3.1.1"))
    assert other.status_code == 202


@pytest.mark.parametrize("path", ["/api/auth/password/forgot", "/api/auth/verify-email/resend"])
async def test_mail_requests_throttled_per_ip(hp: Harness, path: str) -> None:
    answers = [
        await hp.http.post(path, json={"email": f"m{n}@example.org"}, headers=_from("203.0.113.30"))
        for n in range(11)
    ]
    assert [a.status_code for a in answers[:10]] == [202] * 10
    _assert_limited(answers[10], 10)
    other = await hp.http.post(path, json={"email": "m10@example.org"}, headers=_from("10.3.2.1"))
    assert other.status_code == 202


async def test_password_reset_throttled_per_ip(hp: Harness) -> None:
    # Reset has no account until its token is read: guessing tokens is held back per client.
    async def reset(n: int, ip: str) -> httpx.Response:
        body = {"token": f"guessed-token-{n:04d}", "new_password": OTHER_PASSWORD}
        return await hp.http.post("/api/auth/password/reset", json=body, headers=_from(ip))

    answers = [await reset(n, "203.0.113.40") for n in range(11)]
    assert [a.json()["code"] for a in answers[:10]] == ["invalid_token"] * 10
    _assert_limited(answers[10], 10)
    assert (await reset(11, "203.0.113.41")).json()["code"] == "invalid_token"


async def _mfa_user(h: Harness, email: str) -> tuple[str, list[str]]:
    """A user with TOTP on: its id and its recovery codes."""
    await h.signup(email)
    access = (await h.login(email))["access_token"]
    user_id = (await h.me(access)).json()["id"]
    setup = await h.http.post("/api/auth/mfa/totp/setup", headers=bearer(access))
    secret = setup.json()["secret"]
    enabled = await h.http.post(
        "/api/auth/mfa/totp/enable",
        json={"code": pyotp.TOTP(secret).now()},
        headers=bearer(access),
    )
    assert enabled.status_code == 200, enabled.text
    return user_id, enabled.json()["recovery_codes"]


async def _mfa(h: Harness, mfa_token: str, code: str, ip: str = "10.4.9.9") -> httpx.Response:
    body = {"mfa_token": mfa_token, "code": code}
    return await h.http.post("/api/auth/login/mfa", json=body, headers=_from(ip))


async def test_mfa_step_throttled_per_account(hp: Harness) -> None:
    await _mfa_user(hp, "twostep@example.org")
    # Two MFA tokens of one account share its budget: a fresh token buys no fresh guesses.
    tokens = [(await hp.login("twostep@example.org"))["mfa_token"] for _ in range(2)]
    answers = [await _mfa(hp, tokens[n % 2], "000000", f"10.4.0.{n}") for n in range(7)]
    assert [a.json()["code"] for a in answers[:6]] == ["invalid_mfa_code"] * 6
    _assert_limited(answers[6], 6)


async def test_mfa_step_throttled_per_ip(hp: Harness) -> None:
    # Counted before the MFA token is even read: spraying made-up tokens is throttled too.
    answers = [await _mfa(hp, f"made-up-{n}", "000000", "203.0.113.50") for n in range(31)]
    assert [a.json()["code"] for a in answers[:30]] == ["invalid_token"] * 30
    _assert_limited(answers[30], 30)
    assert (await _mfa(hp, "made-up", "000000", "203.0.113.51")).json()["code"] == "invalid_token"


@pytest.fixture
async def kit_and_harness(make_harness, monkeypatch) -> AsyncIterator[tuple[AuthKit, Harness]]:
    """The app's own AuthKit, to spend an account's failure budget without 100 argon2 logins."""
    kits: list[AuthKit] = []

    def keep(*args: object) -> AuthKit:
        kits.append(build_auth_kit(*args))  # type: ignore[arg-type]
        return kits[-1]

    monkeypatch.setattr(postwise.app, "build_auth_kit", keep)
    async with make_harness() as harness:
        assert len(kits) == 1
        yield kits[0], harness


async def _fail(kit: AuthKit, user_id: str, times: int) -> None:
    for _ in range(times):
        await kit.limiter.record(ratelimit.FAILURES_ACCOUNT, user_id)


async def test_failure_cap_refuses_even_the_right_password(kit_and_harness) -> None:
    kit, h = kit_and_harness
    await h.signup("capped@example.org")
    user_id = (await h.me((await h.login("capped@example.org"))["access_token"])).json()["id"]
    # 99 failures this hour and no lock in force (failed_logins is 0): one more try is allowed.
    await _fail(kit, user_id, 99)
    await h.login("capped@example.org")
    await _fail(kit, user_id, 1)
    right = await h.http.post(
        "/api/auth/login", json={"email": "capped@example.org", "password": PASSWORD}, headers=API
    )
    wrong = await h.http.post(
        "/api/auth/login",
        json={"email": "capped@example.org", "password": OTHER_PASSWORD},
        headers=API,
    )
    assert right.status_code == 401
    assert right.json()["code"] == "invalid_credentials"
    strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
    assert strip(right) == strip(wrong)  # nothing tells the guesser the cap is reached


async def test_failure_cap_also_refuses_the_mfa_step(kit_and_harness) -> None:
    kit, h = kit_and_harness
    user_id, codes = await _mfa_user(h, "capped-mfa@example.org")
    await _fail(kit, user_id, 99)
    first = (await h.login("capped-mfa@example.org"))["mfa_token"]
    second = (await h.login("capped-mfa@example.org"))["mfa_token"]
    assert (await _mfa(h, first, codes[0])).status_code == 200
    await _fail(kit, user_id, 1)
    # A six-digit code is the easier secret to guess: the cap guards it as well.
    refused = await _mfa(h, second, codes[1])
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_mfa_code"
