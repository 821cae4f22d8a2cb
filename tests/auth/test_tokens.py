"""Access tokens: exactly one shape is accepted; every forgery and mix-up is refused."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pyotp
import pytest

from postwise.kit.crypto import Keyring
from tests.auth.conftest import API, Harness, bearer
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.backend


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_access_token_claims(h: Harness) -> None:
    await h.signup("claims@example.org")
    tokens = await h.login("claims@example.org")
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert set(claims) >= {"sub", "sid", "jti", "typ", "iat", "exp", "iss", "aud"}
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 15 * 60
    # The key is derived for this purpose: the raw secret does not verify it.
    raw_secret_ok = True
    try:
        jwt.decode(
            tokens["access_token"], TEST_SECRET, algorithms=["HS256"], audience=claims["aud"]
        )
    except jwt.InvalidSignatureError:
        raw_secret_ok = False
    assert raw_secret_ok is False


@pytest.mark.filterwarnings("ignore:The HMAC key")
async def test_every_forgery_and_mix_up_is_refused(h: Harness) -> None:
    await h.signup("forge@example.org")
    tokens = await h.login("forge@example.org")
    access = tokens["access_token"]
    assert (await h.me(access)).status_code == 200
    claims = jwt.decode(access, options={"verify_signature": False})
    key = Keyring(TEST_SECRET).key("jwt:access")
    header, payload, signature = access.split(".")

    def signed(changes: dict[str, object], *, drop: tuple[str, ...] = (), **options: object):
        body = {k: v for k, v in {**claims, **changes}.items() if k not in drop}
        return jwt.encode(body, options.pop("key", key), algorithm=options.pop("alg", "HS256"))

    forged = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "HS512 with the right key": signed({}, alg="HS512"),
        "tampered payload": f"{header}.{_b64({**claims, 'sub': str(uuid.uuid4())})}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "expired": signed({"exp": int(time.time()) - 5}),
        "no exp": signed({}, drop=("exp",)),
        "wrong audience": signed({"aud": "postwise-mfa"}),
        "wrong issuer": signed({"iss": "someone-else"}),
        "wrong typ": signed({"typ": "refresh"}),
        "mfa key": signed({}, key=Keyring(TEST_SECRET).key("jwt:mfa")),
        "raw secret": signed({}, key=TEST_SECRET),
        "no session": signed({}, drop=("sid",)),
        "refresh token": tokens["refresh_token"],
        "garbage": "not-a-token",
    }
    for name, token in forged.items():
        response = await h.me(token)
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer"
    assert (await h.me(access)).status_code == 200


async def test_mfa_reset_and_verification_tokens_are_not_access_tokens(h: Harness) -> None:
    await h.signup("mix@example.org")
    tokens = await h.login("mix@example.org")
    setup = await h.http.post("/api/auth/mfa/totp/setup", headers=bearer(tokens["access_token"]))
    secret = setup.json()["secret"]
    code = pyotp.TOTP(secret).now()
    await h.http.post(
        "/api/auth/mfa/totp/enable", json={"code": code}, headers=bearer(tokens["access_token"])
    )
    step = await h.login("mix@example.org")
    assert step["mfa_required"] is True
    assert (await h.me(step["mfa_token"])).status_code == 401
    await h.http.post("/api/auth/password/forgot", json={"email": "mix@example.org"})
    reset_token = h.token(await h.mail_to("mix@example.org"))
    assert (await h.me(reset_token)).status_code == 401
    assert (await h.me(tokens["refresh_token"])).status_code == 401
    # ...nor is an access token an MFA token.
    wrong = await h.http.post(
        "/api/auth/login/mfa",
        json={"mfa_token": tokens["access_token"], "code": "123456"},
        headers=API,
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_token"


async def test_tokens_signed_with_a_previous_secret_survive_rotation(make_harness) -> None:
    async with make_harness() as h:
        await h.signup("rotate@example.org")
        old = await h.login("rotate@example.org")
    new_secret = "rotated-secret-" + "y" * 40
    async with make_harness(
        secret_key=new_secret, secret_key_previous=[h.settings.secret()]
    ) as rotated:
        assert (await rotated.me(old["access_token"])).status_code == 200
        refreshed = await rotated.http.post(
            "/api/auth/refresh", json={"refresh_token": old["refresh_token"]}, headers=API
        )
        assert refreshed.status_code == 200
        fresh = refreshed.json()["access_token"]
        assert jwt.decode(
            fresh,
            Keyring(new_secret).key("jwt:access"),
            algorithms=["HS256"],
            audience="postwise-api",
        )
    async with make_harness(secret_key=new_secret) as without_previous:
        assert (await without_previous.me(old["access_token"])).status_code == 401
