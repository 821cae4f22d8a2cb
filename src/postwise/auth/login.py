"""Signing in: passwords, the MFA step, lockout with growing delays, new-device notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth import mfa, ratelimit
from postwise.auth.clientinfo import ClientInfo
from postwise.auth.errors import invalid_credentials
from postwise.auth.events import record_event
from postwise.auth.kit import AuthKit
from postwise.auth.mail import send_mail
from postwise.auth.models import EventType, KnownDevice
from postwise.auth.sessions import IssuedTokens, start_session
from postwise.auth.tokens import MFA_TOKEN_TTL, InvalidTokenError
from postwise.db import utcnow
from postwise.kit.crypto import random_token
from postwise.kit.errors import ProblemError
from postwise.users.models import User

# Failures allowed before the first lock; each further failure doubles the delay.
FREE_FAILURES = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)
_DEVICE_PURPOSE = "device"
# A device seen in the database is remembered in the Store this long, so signing in again
# from it costs no SELECT and UPDATE; its last_seen_at is then refreshed about once a day.
_KNOWN_DEVICE_CACHE_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Device:
    """A browser's device id (kept in a long-lived cookie) or, for API clients, none."""

    cookie_id: str | None
    is_browser: bool


@dataclass(frozen=True)
class LoginResult:
    tokens: IssuedTokens | None = None
    mfa_token: str | None = None
    device_cookie: str | None = None


def lock_delay(failures: int) -> timedelta | None:
    if failures < FREE_FAILURES:
        return None
    doublings = min(failures - FREE_FAILURES, 12)
    delay: timedelta = FIRST_LOCK * (1 << doublings)
    return min(delay, LONGEST_LOCK)


async def _record_failure(
    db: AsyncSession, kit: AuthKit, user: User, client: ClientInfo, *, reason: str
) -> None:
    user.failed_logins += 1
    # Counted as well as locked: whatever the delays, never more than 100 tries an hour.
    await kit.limiter.record(ratelimit.FAILURES_ACCOUNT, str(user.id))
    record_event(db, EventType.LOGIN_FAILED, user_id=user.id, client=client, reason=reason)
    delay = lock_delay(user.failed_logins)
    if delay is not None:
        user.locked_until = utcnow() + delay
        record_event(
            db,
            EventType.ACCOUNT_LOCKED,
            user_id=user.id,
            client=client,
            seconds=int(delay.total_seconds()),
            failures=user.failed_logins,
        )


async def _blocked(kit: AuthKit, user: User) -> bool:
    if user.locked_until is not None and user.locked_until > utcnow():
        return True
    return await kit.limiter.exhausted(ratelimit.FAILURES_ACCOUNT, str(user.id))


async def login(
    db: AsyncSession,
    kit: AuthKit,
    *,
    email: str,
    password: str,
    client: ClientInfo,
    device: Device,
) -> LoginResult:
    await kit.limiter.hit(ratelimit.LOGIN_IP, client.ip)
    await kit.limiter.hit(ratelimit.LOGIN_ACCOUNT, email)
    user = await db.scalar(select(User).where(User.email == email))
    # Verified even for an unknown address (against a dummy hash) or a locked account, so
    # the time taken tells nothing.
    verification = await kit.hasher.verify(user.password_hash if user else None, password)
    if user is None:
        record_event(db, EventType.LOGIN_FAILED, user_id=None, client=client, reason="unknown")
        raise invalid_credentials()
    if await _blocked(kit, user):
        record_event(db, EventType.LOGIN_FAILED, user_id=user.id, client=client, reason="locked")
        raise invalid_credentials()
    if not verification.ok:
        await _record_failure(db, kit, user, client, reason="password")
        raise invalid_credentials()
    if not user.is_active:
        record_event(db, EventType.LOGIN_FAILED, user_id=user.id, client=client, reason="inactive")
        raise invalid_credentials()
    if verification.needs_rehash:
        user.password_hash = await kit.hasher.hash(password)
    if user.email_verified_at is None:
        raise ProblemError(
            403, "email_not_verified", "Confirm your address with the link we sent first."
        )
    if user.mfa_enabled:
        token, _ = kit.codec.encode("mfa", user_id=user.id, ttl=MFA_TOKEN_TTL)
        return LoginResult(mfa_token=token)
    return await _complete(db, kit, user=user, client=client, device=device, used_mfa=False)


async def login_mfa(
    db: AsyncSession,
    kit: AuthKit,
    *,
    mfa_token: str,
    code: str,
    client: ClientInfo,
    device: Device,
) -> LoginResult:
    await kit.limiter.hit(ratelimit.MFA_IP, client.ip)
    try:
        claims = kit.codec.decode("mfa", mfa_token)
    except InvalidTokenError as error:
        raise ProblemError(401, "invalid_token", "Sign in again: this step expired.") from error
    await kit.limiter.hit(ratelimit.MFA_ACCOUNT, str(claims.user_id))
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active or not user.mfa_enabled:
        raise ProblemError(401, "invalid_token", "Sign in again: this step expired.")
    if await _blocked(kit, user):
        raise _invalid_code()
    method = "totp" if mfa.verify_totp(kit.keyring, user, code) else None
    if method is None and await mfa.use_recovery_code(db, kit.keyring, user.id, code):
        method = "recovery_code"
    if method is None:
        await _record_failure(db, kit, user, client, reason="mfa_code")
        raise _invalid_code()
    # The MFA token itself is single use too: a second exchange of it is refused.
    if not await kit.store.set(
        f"auth:mfa-token-used:{claims.jti}",
        "1",
        ttl=MFA_TOKEN_TTL.total_seconds(),
        only_if_absent=True,
    ):
        raise ProblemError(401, "invalid_token", "Sign in again: this step expired.")
    return await _complete(
        db, kit, user=user, client=client, device=device, used_mfa=True, method=method
    )


def _invalid_code() -> ProblemError:
    return ProblemError(401, "invalid_mfa_code", "That code is not valid.", commit=True)


async def _complete(
    db: AsyncSession,
    kit: AuthKit,
    *,
    user: User,
    client: ClientInfo,
    device: Device,
    used_mfa: bool,
    method: str = "password",
) -> LoginResult:
    user.failed_logins = 0
    user.locked_until = None
    device_cookie = device.cookie_id
    if device.is_browser and device_cookie is None:
        device_cookie = random_token(24)
    device_key = device_cookie if device_cookie else f"ua:{client.user_agent}"
    device_hash = kit.keyring.token_hash(device_key, _DEVICE_PURPOSE)
    await _note_device(db, kit, user=user, device_hash=device_hash, client=client)
    tokens = await start_session(
        db, kit, user=user, client=client, device_hash=device_hash, mfa=used_mfa
    )
    record_event(
        db,
        EventType.LOGIN_SUCCEEDED,
        user_id=user.id,
        client=client,
        session_id=str(tokens.session_id),
        method=method,
    )
    return LoginResult(tokens=tokens, device_cookie=device_cookie)


async def _note_device(
    db: AsyncSession, kit: AuthKit, *, user: User, device_hash: str, client: ClientInfo
) -> None:
    now = utcnow()
    cache_key = f"auth:known-device:{user.id}:{device_hash}"
    if await kit.store.get(cache_key) is not None:
        return
    known = await db.get(KnownDevice, (user.id, device_hash))
    if known is not None:
        known.last_seen_at = now
        # Only a device already in the database is cached: a new one is cached at its next
        # sign-in, once the row surely committed, so a failed commit never hides a new device.
        await kit.store.set(cache_key, "1", ttl=_KNOWN_DEVICE_CACHE_SECONDS)
        return
    seen_before = await db.scalar(
        select(func.count()).select_from(KnownDevice).where(KnownDevice.user_id == user.id)
    )
    db.add(KnownDevice(user_id=user.id, device_hash=device_hash, first_seen_at=now))
    if not seen_before:
        return  # the very first sign-in is not news
    record_event(db, EventType.NEW_DEVICE_SIGN_IN, user_id=user.id, client=client)
    send_mail(
        db,
        "new_sign_in",
        to=user.email,
        name=user.name,
        when=now.strftime("%Y-%m-%d %H:%M UTC"),
        ip=client.ip,
        user_agent=client.user_agent,
        link=kit.page("/settings/security/"),
    )
