"""TOTP: 30 s steps, ±1 step, each code once; recovery codes hashed and single use."""

from __future__ import annotations

import asyncio
import time

import pyotp
import pytest
from sqlalchemy import select, update

from postwise.auth.models import RecoveryCode
from postwise.users.models import User
from tests.auth.conftest import API, PASSWORD, Harness, bearer, remember

pytestmark = pytest.mark.backend


async def _enable(h: Harness, email: str) -> tuple[str, list[str], dict]:
    await h.signup(email)
    tokens = await h.login(email)
    setup = await h.http.post("/api/auth/mfa/totp/setup", headers=bearer(tokens["access_token"]))
    assert setup.status_code == 200
    body = setup.json()
    secret = body["secret"]
    remember(secret)
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert body["qr_svg"].startswith("<svg") and "xmlns" in body["qr_svg"]
    wrong = await h.http.post(
        "/api/auth/mfa/totp/enable", json={"code": "000000"}, headers=bearer(tokens["access_token"])
    )
    assert wrong.status_code == 400
    enabled = await h.http.post(
        "/api/auth/mfa/totp/enable",
        json={"code": pyotp.TOTP(secret).now()},
        headers=bearer(tokens["access_token"]),
    )
    assert enabled.status_code == 200, enabled.text
    codes = enabled.json()["recovery_codes"]
    remember(*codes)
    return secret, codes, tokens


async def _second_step(h: Harness, email: str, code: str):
    step = await h.login(email)
    assert step["mfa_required"] is True
    assert "access_token" not in step
    return await h.http.post(
        "/api/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": code}, headers=API
    )


async def test_totp_enrolment_and_sign_in(h: Harness, app_db) -> None:
    secret, codes, _ = await _enable(h, "totp@example.org")
    assert len(codes) == 10 and len(set(codes)) == 10
    async with app_db() as db:
        user = await db.scalar(select(User).where(User.email == "totp@example.org"))
        stored = (await db.scalars(select(RecoveryCode.code_hash))).all()
    assert user is not None and user.totp_secret is not None
    assert secret not in user.totp_secret  # encrypted at rest
    assert not set(codes) & set(stored)  # hashed
    wrong = await _second_step(h, "totp@example.org", "123456")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_mfa_code"
    totp = pyotp.TOTP(secret)
    # The enrolment code's step is used up; take the next step's code (allowed drift +1).
    future = totp.at(time.time() + 30)
    ok = await _second_step(h, "totp@example.org", future)
    assert ok.status_code == 200, ok.text
    assert (await h.me(ok.json()["access_token"])).status_code == 200
    replay = await _second_step(h, "totp@example.org", future)
    assert replay.status_code == 401


async def test_drift_of_one_step_only(h: Harness) -> None:
    secret, _, _ = await _enable(h, "drift@example.org")
    totp = pyotp.TOTP(secret)
    too_old = await _second_step(h, "drift@example.org", totp.at(time.time() - 65))
    assert too_old.status_code == 401
    too_new = await _second_step(h, "drift@example.org", totp.at(time.time() + 65))
    assert too_new.status_code == 401
    ahead = await _second_step(h, "drift@example.org", totp.at(time.time() + 30))
    assert ahead.status_code == 200


async def test_a_code_one_step_old_is_accepted(h: Harness, app_db) -> None:
    secret, _, _ = await _enable(h, "behind@example.org")
    # Enrolment used up the current step; pretend the last code was used minutes ago.
    async with app_db() as db:
        await db.execute(
            update(User)
            .where(User.email == "behind@example.org")
            .values(totp_last_step=int(time.time() // 30) - 10)
        )
        await db.commit()
    behind = await _second_step(h, "behind@example.org", pyotp.TOTP(secret).at(time.time() - 30))
    assert behind.status_code == 200, behind.text


async def test_one_code_sent_at_once_with_several_mfa_tokens_works_once(h: Harness) -> None:
    secret, _, _ = await _enable(h, "race@example.org")
    steps = [await h.login("race@example.org") for _ in range(5)]
    code = pyotp.TOTP(secret).at(time.time() + 30)
    answers = await asyncio.gather(
        *(
            h.http.post(
                "/api/auth/login/mfa",
                json={"mfa_token": step["mfa_token"], "code": code},
                headers=API,
            )
            for step in steps
        )
    )
    assert sorted(answer.status_code for answer in answers) == [200, 401, 401, 401, 401]


async def test_recovery_codes_work_once(h: Harness) -> None:
    _, codes, _ = await _enable(h, "recover@example.org")
    first = await _second_step(h, "recover@example.org", codes[0])
    assert first.status_code == 200
    again = await _second_step(h, "recover@example.org", codes[0])
    assert again.status_code == 401
    spaced = codes[1].upper().replace("-", " ")
    assert (await _second_step(h, "recover@example.org", spaced)).status_code == 200


async def test_mfa_token_is_single_use_and_bound_to_its_user(h: Harness) -> None:
    secret, _, _ = await _enable(h, "single@example.org")
    step = await h.login("single@example.org")
    code = pyotp.TOTP(secret).at(time.time() + 30)
    ok = await h.http.post(
        "/api/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": code}, headers=API
    )
    assert ok.status_code == 200
    reused = await h.http.post(
        "/api/auth/login/mfa",
        json={"mfa_token": step["mfa_token"], "code": pyotp.TOTP(secret).now()},
        headers=API,
    )
    assert reused.status_code == 401


async def test_disable_needs_password_and_code(h: Harness) -> None:
    secret, codes, _ = await _enable(h, "off@example.org")
    signed_in = await _second_step(h, "off@example.org", codes[0])
    access = signed_in.json()["access_token"]
    refused = await h.http.post(
        "/api/auth/mfa/totp/disable",
        json={"password": "wrong-password-here", "code": codes[1]},
        headers=bearer(access),
    )
    assert refused.status_code == 401
    off = await h.http.post(
        "/api/auth/mfa/totp/disable",
        json={"password": PASSWORD, "code": codes[1]},
        headers=bearer(access),
    )
    assert off.status_code == 204
    plain = await h.login("off@example.org")
    assert "access_token" in plain
    assert secret
