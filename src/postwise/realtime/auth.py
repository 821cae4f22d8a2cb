"""Who is on the socket: the access token from an auth message, checked as a request's would be."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from postwise.auth import sessions
from postwise.auth.deps import caller_from_token
from postwise.auth.kit import AuthKit
from postwise.auth.tokens import InvalidTokenError
from postwise.deps import Services
from postwise.kit.errors import ProblemError


@dataclass(frozen=True, slots=True)
class Grant:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


class AuthRefused(Exception):
    """`code` is what the HTTP API would have answered (`invalid_token`, `session_revoked`...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def verify_token(services: Services, kit: AuthKit, token: str) -> Grant:
    try:
        # Decoded here as well only for `exp`, which the socket enforces after the handshake.
        claims = kit.codec.decode("access", token)
    except InvalidTokenError as error:
        expired = str(error) == "ExpiredSignatureError"
        raise AuthRefused("token_expired" if expired else "invalid_token") from error
    async with services.sessionmaker() as db:
        try:
            caller = await caller_from_token(db, kit, token)
        except ProblemError as error:
            raise AuthRefused(error.code) from error
    return Grant(
        user_id=caller.id,
        session_id=caller.session_id,
        expires_at=claims.expires_at,
    )


async def session_active(services: Services, kit: AuthKit, session_id: uuid.UUID) -> bool:
    # The same check every request makes (deactivating a user revokes their sessions); it
    # runs once per heartbeat for every open socket.
    async with services.sessionmaker() as db:
        return await sessions.is_active(db, kit, session_id)
