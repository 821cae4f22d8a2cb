"""Who is calling: bearer access token → live session → active user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth import sessions
from postwise.auth.clientinfo import ClientInfo, client_info
from postwise.auth.errors import BEARER, not_authenticated
from postwise.auth.kit import AuthKit, AuthKitDep
from postwise.auth.tokens import InvalidTokenError
from postwise.deps import SessionDep
from postwise.kit.errors import ProblemError
from postwise.users.models import User


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request comes from: a valid access token of a session that still stands, of an
    active user. `id` is the user's. Most routes need no more than that, and it costs no
    database statement while the session's status is cached (auth.sessions.is_active)."""

    id: uuid.UUID
    session_id: uuid.UUID


@dataclass(frozen=True)
class Principal:
    """The caller with the user's row, for the routes that read or change the account."""

    user: User
    session_id: uuid.UUID


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _session_ended() -> ProblemError:
    return ProblemError(401, "session_revoked", "This session has ended.", headers=BEARER)


async def caller_from_token(db: AsyncSession, kit: AuthKit, token: str) -> Caller:
    """The one definition of a valid access token (signature, expiry, live session, active
    user), for requests and for the WebSocket, whose token arrives in a message."""
    try:
        claims = kit.codec.decode("access", token)
    except InvalidTokenError as error:
        raise ProblemError(
            401, "invalid_token", "The access token is invalid or expired.", headers=BEARER
        ) from error
    assert claims.session_id is not None
    if not await sessions.is_active(db, kit, claims.session_id):
        raise _session_ended()
    return Caller(id=claims.user_id, session_id=claims.session_id)


async def get_caller(request: Request, db: SessionDep, kit: AuthKitDep) -> Caller:
    token = bearer_token(request)
    if token is None:
        raise not_authenticated()
    return await caller_from_token(db, kit, token)


# `user: SignedIn` in a route: `user.id` is the signed-in user's id.
SignedIn = Annotated[Caller, Depends(get_caller)]


async def get_principal(caller: SignedIn, db: SessionDep) -> Principal:
    user = await db.get(User, caller.id)
    if user is None or not user.is_active:  # deactivated since the status was cached
        raise _session_ended()
    return Principal(user=user, session_id=caller.session_id)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: PrincipalDep) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise ProblemError(403, "admin_required", "Only an administrator can do this.")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


async def get_client(request: Request, kit: AuthKitDep) -> ClientInfo:
    # Through the kit, which auth routes resolve anyway: one dependency less per request.
    return client_info(request, kit.settings.trusted_proxies)


ClientDep = Annotated[ClientInfo, Depends(get_client)]
