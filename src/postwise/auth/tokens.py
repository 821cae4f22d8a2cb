"""Signed JWTs for access and for the MFA step; everything else is an opaque random token.

Each token type has its own derived key, audience and `typ`, so no token can stand in for
another: an MFA token is not an access token even though both are JWTs.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from postwise.db import utcnow
from postwise.kit.crypto import Keyring

ALGORITHM = "HS256"
ISSUER = "postwise"
TokenType = Literal["access", "mfa"]
_AUDIENCE: dict[TokenType, str] = {"access": "postwise-api", "mfa": "postwise-mfa"}
_REQUIRED = ["exp", "iat", "sub", "jti", "typ", "iss", "aud"]
MFA_TOKEN_TTL = timedelta(minutes=5)


class InvalidTokenError(Exception):
    pass


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID | None
    jti: str
    expires_at: datetime


# Access tokens already verified, by their text: every request of a signed-in client carries
# the same token for its lifetime, and PyJWT's verification (base64, JSON, HMAC, the claims)
# was a tenth of a thread page's server CPU. Only tokens that passed are kept, so garbage
# cannot fill it; the expiry is still checked on every use. Oldest entry out when full.
_VERIFIED_CAPACITY = 4096


class TokenCodec:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._verified: dict[tuple[TokenType, str], TokenClaims] = {}

    def encode(
        self,
        typ: TokenType,
        *,
        user_id: uuid.UUID,
        ttl: timedelta,
        session_id: uuid.UUID | None = None,
    ) -> tuple[str, TokenClaims]:
        now = utcnow()
        claims = TokenClaims(
            user_id=user_id, session_id=session_id, jti=uuid.uuid4().hex, expires_at=now + ttl
        )
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "jti": claims.jti,
            "typ": typ,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "iss": ISSUER,
            "aud": _AUDIENCE[typ],
        }
        if session_id is not None:
            payload["sid"] = str(session_id)
        token = jwt.encode(payload, self.keyring.key(f"jwt:{typ}"), algorithm=ALGORITHM)
        return token, claims

    def decode(self, typ: TokenType, token: str) -> TokenClaims:
        known = self._verified.get((typ, token))
        if known is not None:
            # PyJWT's rule: expired once `exp` (whole seconds) is not in the future.
            if known.expires_at.timestamp() <= time.time():
                raise InvalidTokenError("ExpiredSignatureError")
            return known
        claims = self._verify(typ, token)
        if len(self._verified) >= _VERIFIED_CAPACITY:
            del self._verified[next(iter(self._verified))]
        self._verified[(typ, token)] = claims
        return claims

    def _verify(self, typ: TokenType, token: str) -> TokenClaims:
        last_error: Exception | None = None
        for key in self.keyring.keys(f"jwt:{typ}"):
            try:
                payload = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    audience=_AUDIENCE[typ],
                    issuer=ISSUER,
                    options={"require": _REQUIRED},
                )
            except jwt.InvalidSignatureError as error:
                last_error = error
                continue
            except jwt.PyJWTError as error:
                raise InvalidTokenError(type(error).__name__) from error
            return self._claims(typ, payload)
        raise InvalidTokenError(type(last_error).__name__ if last_error else "invalid")

    @staticmethod
    def _claims(typ: TokenType, payload: dict[str, Any]) -> TokenClaims:
        if payload.get("typ") != typ:
            raise InvalidTokenError("wrong token type")
        try:
            user_id = uuid.UUID(str(payload["sub"]))
            sid = payload.get("sid")
            session_id = uuid.UUID(str(sid)) if sid is not None else None
        except ValueError as error:
            raise InvalidTokenError("malformed subject") from error
        if typ == "access" and session_id is None:
            raise InvalidTokenError("access token without a session")
        return TokenClaims(
            user_id=user_id,
            session_id=session_id,
            jti=str(payload["jti"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=utcnow().tzinfo),
        )
