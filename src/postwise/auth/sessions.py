"""Sessions and their refresh-token families: start, rotate, detect reuse, revoke.

The database is the record; the Store caches "active" briefly and holds "revoked" for as long
as an access token can live, so a revoked session's access tokens fail at once in every process.
When the Store cannot answer, every check goes to the database: never "active" on a guess.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import structlog
from sqlalchemy import Table, Uuid, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from postwise.auth import signin_rows
from postwise.auth.clientinfo import ClientInfo
from postwise.auth.events import record_event
from postwise.auth.kit import AuthKit
from postwise.auth.models import AuthSession, EventType, RefreshToken
from postwise.db import UtcDateTime, affected_rows, utcnow
from postwise.kit.crypto import random_token
from postwise.store import StoreUnavailableError
from postwise.users.models import User

log = structlog.get_logger(__name__)
_REFRESH_HASH_PURPOSE = "refresh-token"
_ACTIVE_CACHE_SECONDS = 30.0
ACTIVE = "active"
REVOKED = "revoked"


def _status_key(session_id: uuid.UUID) -> str:
    return f"auth:session:{session_id}"


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    session_id: uuid.UUID
    refresh_expires_at: datetime


class RefreshError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _new_refresh_token(db: AsyncSession, kit: AuthKit, session_id: uuid.UUID) -> str:
    # 32 random bytes: 256 bits, as opaque as a token can be.
    token = random_token(32)
    db.add(
        RefreshToken(
            session_id=session_id,
            token_hash=kit.keyring.token_hash(token, _REFRESH_HASH_PURPOSE),
        )
    )
    return token


def _issue(
    kit: AuthKit,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    refresh_token: str,
    refresh_expires_at: datetime,
) -> IssuedTokens:
    access, _ = kit.codec.encode(
        "access", user_id=user_id, session_id=session_id, ttl=kit.access_ttl
    )
    return IssuedTokens(
        access_token=access,
        expires_in=int(kit.access_ttl.total_seconds()),
        refresh_token=refresh_token,
        session_id=session_id,
        refresh_expires_at=refresh_expires_at,
    )


async def start_session(
    conn: AsyncConnection,
    kit: AuthKit,
    *,
    user_id: uuid.UUID,
    client: ClientInfo,
    device_hash: str | None,
    mfa: bool,
) -> IssuedTokens:
    """A new session and its first refresh token, written through Core (see signin_rows)."""
    now = utcnow()
    session_id = uuid.uuid4()
    idle_expires_at = now + kit.idle_ttl
    expires_at = now + kit.absolute_ttl
    await signin_rows.add_session(
        conn,
        {
            "id": session_id,
            "user_id": user_id,
            "created_at": now,
            "last_seen_at": now,
            "idle_expires_at": idle_expires_at,
            "expires_at": expires_at,
            "ip": client.ip,
            "user_agent": client.user_agent,
            "device_hash": device_hash,
            "mfa": mfa,
        },
    )
    refresh = random_token(32)
    await signin_rows.add_refresh_token(
        conn, session_id, kit.keyring.token_hash(refresh, _REFRESH_HASH_PURPOSE)
    )
    return _issue(
        kit,
        user_id=user_id,
        session_id=session_id,
        refresh_token=refresh,
        refresh_expires_at=min(idle_expires_at, expires_at),
    )


async def rotate(
    db: AsyncSession, kit: AuthKit, *, refresh_token: str, client: ClientInfo
) -> IssuedTokens:
    """Trade a refresh token for new tokens. A token seen twice revokes its whole session."""
    if not refresh_token or len(refresh_token) > 200:
        raise RefreshError("invalid")
    hashes = kit.keyring.token_hashes(refresh_token, _REFRESH_HASH_PURPOSE)
    row = await db.scalar(select(RefreshToken).where(RefreshToken.token_hash.in_(hashes)))
    if row is None:
        raise RefreshError("invalid")
    auth_session = await db.get(AuthSession, row.session_id)
    if auth_session is None:
        raise RefreshError("invalid")
    now = utcnow()
    if row.used_at is None:
        # Compare-and-set: of any number of concurrent refreshes with this token, one wins.
        claimed = await db.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        won = affected_rows(claimed) == 1
        if not won:
            await db.refresh(row)
    else:
        won = False
    if not won and await _lost_response(db, kit, row, now):
        # The successor the client never received is retired: a session keeps one live
        # token, so a thief's retry inside the grace period cannot keep a branch of its own.
        # A retired token's used_at is its created_at, which no token used for a refresh has:
        # it tells "retired" from "used" below (the legitimate client presenting it after a
        # thief used the newer one is reuse; a third reload in a row is not).
        await db.execute(
            update(RefreshToken)
            .where(RefreshToken.session_id == row.session_id, RefreshToken.used_at.is_(None))
            .values(used_at=RefreshToken.created_at)
            .execution_options(synchronize_session=False)
        )
        won = True
        log.info("refresh_token_retried", session_id=str(row.session_id))
    if not won:
        if kit.metrics is not None:
            kit.metrics.refresh_token_reuse.inc()
        if auth_session.revoked_at is None:
            await revoke_session(db, kit, auth_session, reason="refresh_token_reuse")
            record_event(
                db,
                EventType.REFRESH_TOKEN_REUSE,
                user_id=auth_session.user_id,
                client=client,
                session_id=str(auth_session.id),
            )
        raise RefreshError("reused")
    if auth_session.revoked_at is not None:
        raise RefreshError("revoked")
    if auth_session.expires_at <= now or auth_session.idle_expires_at <= now:
        raise RefreshError("expired")
    user = await db.get(User, auth_session.user_id)
    if user is None or not user.is_active:
        raise RefreshError("inactive")
    auth_session.last_seen_at = now
    auth_session.idle_expires_at = min(now + kit.idle_ttl, auth_session.expires_at)
    auth_session.ip = client.ip
    auth_session.user_agent = client.user_agent
    refresh = await _new_refresh_token(db, kit, auth_session.id)
    await db.flush()
    return _issue(
        kit,
        user_id=auth_session.user_id,
        session_id=auth_session.id,
        refresh_token=refresh,
        refresh_expires_at=min(auth_session.idle_expires_at, auth_session.expires_at),
    )


async def _lost_response(db: AsyncSession, kit: AuthKit, row: RefreshToken, now: datetime) -> bool:
    """Whether a used token is a client retrying a refresh whose answer it never got: a page
    reloaded while the refresh was in flight sends the old cookie again, as do two tabs
    refreshing at once. It is, within the grace period and while no newer token of the
    session has been used; after that, the token is stolen or replayed. (Okta's and Auth0's
    reuse interval, narrowed: once the legitimate client uses its new token the grace ends.)"""
    grace = kit.settings.refresh_reuse_grace_seconds
    if not grace or row.used_at is None or (now - row.used_at).total_seconds() > grace:
        return False
    newer_used = await db.scalar(
        select(RefreshToken.id)
        .where(
            RefreshToken.session_id == row.session_id,
            RefreshToken.id != row.id,
            RefreshToken.created_at >= row.created_at,
            RefreshToken.used_at > RefreshToken.created_at,
        )
        .limit(1)
    )
    return newer_used is None


async def revoke_session(
    db: AsyncSession, kit: AuthKit, auth_session: AuthSession, *, reason: str
) -> None:
    if auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        auth_session.revoked_reason = reason
    await db.flush()
    # Written before the commit on purpose: if the commit then fails, the session is merely
    # revoked in the cache for a few minutes — the safe direction.
    try:
        await kit.store.set(
            _status_key(auth_session.id), REVOKED, ttl=kit.settings.access_token_ttl
        )
    except StoreUnavailableError as error:
        # The revocation stands in the database, which every check reads while the Store is
        # down. What it cannot do is overwrite an "active" cached before the outage: a
        # process still reaching that Redis accepts the session for at most
        # _ACTIVE_CACHE_SECONDS more. Refusing the sign-out would be worse.
        log.warning(
            "session_revocation_not_cached", session_id=str(auth_session.id), error=str(error)
        )


async def revoke_user_sessions(
    db: AsyncSession,
    kit: AuthKit,
    *,
    user_id: uuid.UUID,
    reason: str,
    keep: uuid.UUID | None = None,
) -> int:
    rows = await db.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    )
    count = 0
    for auth_session in rows.all():
        if auth_session.id == keep:
            continue
        await revoke_session(db, kit, auth_session, reason=reason)
        count += 1
    return count


async def find_refresh_session(
    db: AsyncSession, kit: AuthKit, refresh_token: str
) -> AuthSession | None:
    if not refresh_token or len(refresh_token) > 200:
        return None
    hashes = kit.keyring.token_hashes(refresh_token, _REFRESH_HASH_PURPOSE)
    row = await db.scalar(select(RefreshToken).where(RefreshToken.token_hash.in_(hashes)))
    return None if row is None else await db.get(AuthSession, row.session_id)


async def is_active(db: AsyncSession, kit: AuthKit, session_id: uuid.UUID) -> bool:
    """Whether an access token's session still stands, its user active included: the Store
    first, then the database. Deactivating a user revokes their sessions (users.service), so
    a cached "active" never outlives the user's own standing by more than a revocation."""
    try:
        cached = await kit.store.get(_status_key(session_id))
    except StoreUnavailableError:
        # The database answers alone, as for any session not cached; nothing is cached until
        # the Store is back.
        return await _active_in_database(db, session_id)
    if cached == REVOKED:
        return False
    if cached == ACTIVE:
        return True
    if not await _active_in_database(db, session_id):
        return False
    # only_if_absent: never overwrite a "revoked" written meanwhile by another request.
    with contextlib.suppress(StoreUnavailableError):  # only a cache: the answer stands
        await kit.store.set(
            _status_key(session_id), ACTIVE, ttl=_ACTIVE_CACHE_SECONDS, only_if_absent=True
        )
    return True


async def _active_in_database(db: AsyncSession, session_id: uuid.UUID) -> bool:
    row = await db.execute(_STANDING, {"session_id": session_id, "now": utcnow()})
    return row.first() is not None


_sessions, _users = cast(Table, AuthSession.__table__), cast(Table, User.__table__)
# One Core statement, built once: neither row is needed, only whether both stand.
_STANDING = (
    select(_sessions.c.id)
    .join_from(_sessions, _users, _users.c.id == _sessions.c.user_id)
    .where(
        _sessions.c.id == bindparam("session_id", type_=Uuid()),
        _sessions.c.revoked_at.is_(None),
        _sessions.c.expires_at > bindparam("now", type_=UtcDateTime()),
        _sessions.c.idle_expires_at > bindparam("now", type_=UtcDateTime()),
        _users.c.is_active.is_(True),
    )
)
