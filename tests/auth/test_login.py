"""Passwords at rest, lockout, throttling, client IPs and enumeration resistance."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest
from argon2 import PasswordHasher as Argon2
from argon2 import extract_parameters
from sqlalchemy import func, select, update

from postwise.auth.models import SecurityEvent
from postwise.users.models import User
from tests.auth.conftest import API, OTHER_PASSWORD, PASSWORD, Harness
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.backend


async def _try(h: Harness, email: str, password: str, **headers: str):
    return await h.http.post(
        "/api/auth/login", json={"email": email, "password": password}, headers={**API, **headers}
    )


@pytest.mark.owasp_argon2
async def test_argon2id_with_owasp_parameters(h: Harness, app_db) -> None:
    await h.signup("hash@example.org")
    async with app_db() as db:
        user = await db.scalar(select(User).where(User.email == "hash@example.org"))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in user.password_hash


@pytest.mark.owasp_argon2
async def test_old_parameters_are_upgraded_at_login(h: Harness, app_db) -> None:
    await h.signup("old@example.org")
    weak = Argon2(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with app_db() as db:
        await db.execute(update(User).values(password_hash=weak))
        await db.commit()
    await h.login("old@example.org")
    async with app_db() as db:
        user = await db.scalar(select(User).where(User.email == "old@example.org"))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    await h.login("old@example.org")


@pytest.mark.owasp_argon2
async def test_unknown_addresses_cost_as_much_as_known_ones(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cost of a login is its argon2 verifications: counted, with the parameters of the hash
    # each one checked, rather than timed (a timing comparison broke when the machine's load
    # changed between the two halves). A shortcut for unknown addresses would verify nothing.
    await h.signup("timing@example.org")
    verified: list[tuple[int, int, int]] = []
    original = Argon2.verify

    def counting(self: Argon2, password_hash: str | bytes, password: str | bytes) -> Literal[True]:
        parameters = extract_parameters(
            password_hash if isinstance(password_hash, str) else password_hash.decode()
        )
        verified.append((parameters.time_cost, parameters.memory_cost, parameters.parallelism))
        return original(self, password_hash, password)

    monkeypatch.setattr(Argon2, "verify", counting)

    async def cost(email: str) -> list[tuple[int, int, int]]:
        verified.clear()
        response = await _try(h, email, OTHER_PASSWORD, **{"X-Forwarded-For": email})
        assert response.status_code == 401, response.text
        return list(verified)

    known = [await cost("timing@example.org") for _ in range(2)]
    unknown = [await cost(f"nobody{n}@example.org") for n in range(2)]
    owasp = (2, 19456, 1)
    assert known == [[owasp], [owasp]]
    assert unknown == known


async def test_consecutive_failures_lock_with_growing_delays(h: Harness, app_db) -> None:
    await h.signup("locked@example.org")
    for _ in range(5):
        assert (await _try(h, "locked@example.org", OTHER_PASSWORD)).status_code == 401
    wrong = await _try(h, "locked@example.org", OTHER_PASSWORD)
    right_but_locked = await _try(h, "locked@example.org", PASSWORD)
    assert right_but_locked.status_code == 401
    assert right_but_locked.json() == wrong.json()  # the same generic answer
    async with app_db() as db:
        user = await db.scalar(select(User).where(User.email == "locked@example.org"))
        events = (
            await db.scalars(select(SecurityEvent).where(SecurityEvent.type == "account_locked"))
        ).all()
    assert user is not None and user.locked_until is not None
    seconds = [event.data["seconds"] for event in events]
    assert seconds == sorted(seconds) and seconds[0] == 60 and len(seconds) >= 1
    # The reset path still works while locked, and it unlocks.
    await h.http.post("/api/auth/password/forgot", json={"email": "locked@example.org"})
    token = h.token(await h.mail_to("locked@example.org"))
    reset = await h.http.post(
        "/api/auth/password/reset", json={"token": token, "new_password": OTHER_PASSWORD}
    )
    assert reset.status_code == 200
    await h.login("locked@example.org", OTHER_PASSWORD)


async def test_failures_arriving_together_all_count(h: Harness, app_db) -> None:
    # Each attempt reads the account before its argon2 verification and writes after it, so
    # concurrent attempts overlap; a read-modify-write counter would record a single failure
    # here and never lock.
    await h.signup("stuffed@example.org")
    answers = await asyncio.gather(
        *(_try(h, "stuffed@example.org", OTHER_PASSWORD) for _ in range(5))
    )
    assert [answer.status_code for answer in answers] == [401] * 5
    async with app_db() as db:
        user = await db.scalar(select(User).where(User.email == "stuffed@example.org"))
        failed = await db.scalar(
            select(func.count())
            .select_from(SecurityEvent)
            .where(SecurityEvent.type == "login_failed", SecurityEvent.user_id == user.id)
        )
    assert user is not None
    assert user.failed_logins == 5
    assert failed == 5
    assert user.locked_until is not None  # the fifth failure locks
    assert (await _try(h, "stuffed@example.org", PASSWORD)).status_code == 401


async def test_lock_delays_double_up_to_an_hour() -> None:
    from datetime import timedelta

    from postwise.auth.login import lock_delay

    assert lock_delay(4) is None
    assert lock_delay(5) == timedelta(minutes=1)
    assert lock_delay(6) == timedelta(minutes=2)
    assert lock_delay(8) == timedelta(minutes=8)
    assert lock_delay(50) == timedelta(hours=1)
    # Worst case: 5 free tries, then one per delay — far below 100 an hour.
    assert (
        5
        + sum(
            1
            for n in range(5, 200)
            if sum((lock_delay(k) or timedelta()).total_seconds() for k in range(5, n)) < 3600
        )
        < 100
    )


async def test_throttled_per_account_with_retry_after(h: Harness) -> None:
    await h.signup("busy@example.org")
    answers = [
        await _try(h, "busy@example.org", PASSWORD, **{"X-Forwarded-For": f"10.1.0.{n}"})
        for n in range(11)
    ]
    assert [a.status_code for a in answers[:10]] == [200] * 10
    limited = answers[10]
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["ratelimit-limit"] == "10"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert "ratelimit-reset" in limited.headers


async def test_throttled_per_ip(make_harness) -> None:
    async with make_harness(trusted_proxies=["127.0.0.1"]) as h:
        statuses = [
            (
                await _try(
                    h, f"user{n}@example.org", PASSWORD, **{"X-Forwarded-For": "203.0.113.9"}
                )
            ).status_code
            for n in range(31)
        ]
        assert statuses[:30] == [401] * 30
        assert statuses[30] == 429
        # Another client address is not affected.
        other = await _try(h, "user0@example.org", PASSWORD, **{"X-Forwarded-For": "203.0.113.10"})
        assert other.status_code == 401


async def test_forwarded_for_only_from_trusted_proxies(make_harness, app_db) -> None:
    async with make_harness(trusted_proxies=["127.0.0.1/32"]) as h:
        await h.signup("proxy@example.org")
        await _try(h, "proxy@example.org", PASSWORD, **{"X-Forwarded-For": "198.51.100.7"})
    async with make_harness() as h:
        await _try(h, "proxy@example.org", PASSWORD, **{"X-Forwarded-For": "198.51.100.8"})
    async with app_db() as db:
        ips = (
            await db.scalars(
                select(SecurityEvent.ip).where(SecurityEvent.type == "login_succeeded")
            )
        ).all()
    assert "198.51.100.7" in ips
    assert "198.51.100.8" not in ips
    assert "127.0.0.1" in ips


async def test_no_enumeration(h: Harness) -> None:
    await h.signup("known@example.org")

    async def pair(path: str, body_for) -> None:
        known = await h.http.post(path, json=body_for("known@example.org"), headers=API)
        unknown = await h.http.post(path, json=body_for("unknown@example.org"), headers=API)
        assert known.status_code == unknown.status_code, path
        strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
        assert strip(known) == strip(unknown), path

    await pair("/api/auth/login", lambda e: {"email": e, "password": OTHER_PASSWORD})
    await pair("/api/auth/password/forgot", lambda e: {"email": e})
    await pair("/api/auth/verify-email/resend", lambda e: {"email": e})
    await pair("/api/auth/register", lambda e: {"email": e, "password": OTHER_PASSWORD})


async def test_known_devices_survive_a_secret_rotation(make_harness, app_db) -> None:
    laptop = {**API, "User-Agent": "Rotating-Laptop/1"}
    new_secret, other_secret = "rotated-secret-" + "r" * 32, "another-secret-" + "a" * 32

    async def announced() -> int:
        async with app_db() as db:
            return int(
                await db.scalar(
                    select(func.count())
                    .select_from(SecurityEvent)
                    .where(SecurityEvent.type == "new_device_sign_in")
                )
                or 0
            )

    async with make_harness() as h:
        await h.signup("rotate@example.org")
        await h.login("rotate@example.org", headers=laptop)
    # Rotating: the device's hash under the old secret is found and re-keyed.
    async with make_harness(secret_key=new_secret, secret_key_previous=[TEST_SECRET]) as h:
        await h.login("rotate@example.org", headers=laptop)
    # The old secret removed: the re-keyed device is still known.
    async with make_harness(secret_key=new_secret) as h:
        await h.login("rotate@example.org", headers=laptop)
    assert await announced() == 0
    # Without the previous secret listed, the same laptop would have been news.
    async with make_harness(secret_key=other_secret) as h:
        await h.login("rotate@example.org", headers=laptop)
    assert await announced() == 1
