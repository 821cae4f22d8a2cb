"""Signing in: passwords, the MFA step, lockout with growing delays, new-device notices."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from postwise.auth import mfa, ratelimit, signin_rows
from postwise.auth.clientinfo import ClientInfo
from postwise.auth.errors import invalid_credentials
from postwise.auth.events import insert_event
from postwise.auth.kit import AuthKit
from postwise.auth.mail import send_mail
from postwise.auth.models import EventType
from postwise.auth.sessions import IssuedTokens, start_session
from postwise.auth.signin_rows import Account
from postwise.auth.tokens import MFA_TOKEN_TTL, InvalidTokenError
from postwise.db import utcnow
from postwise.kit.crypto import random_token
from postwise.kit.errors import ProblemError
from postwise.notifications.messages import new_sign_in
from postwise.notifications.tasks import notify_after_commit
from postwise.store import StoreUnavailableError
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
    conn: AsyncConnection, kit: AuthKit, account: Account, client: ClientInfo, *, reason: str
) -> None:
    failures = await signin_rows.count_failure(conn, account.id)
    # Counted as well as locked: whatever the delays, never more than 100 tries an hour.
    await kit.limiter.record(ratelimit.FAILURES_ACCOUNT, str(account.id))
    await insert_event(
        conn, EventType.LOGIN_FAILED, user_id=account.id, client=client, reason=reason
    )
    delay = lock_delay(failures)
    if delay is not None:
        await signin_rows.lock(conn, account.id, utcnow() + delay)
        if kit.metrics is not None:
            kit.metrics.account_lockouts.inc()
        await insert_event(
            conn,
            EventType.ACCOUNT_LOCKED,
            user_id=account.id,
            client=client,
            seconds=int(delay.total_seconds()),
            failures=failures,
        )


async def _hit(kit: AuthKit, rule: ratelimit.Rule, key: str) -> None:
    """Count a sign-in attempt against `rule`; an attempt over the limit is counted too."""
    try:
        await kit.limiter.hit(rule, key)
    except ProblemError as error:
        if error.status == 429:
            kit.count_login("rate_limited")
        raise


async def _blocked(kit: AuthKit, account: Account) -> bool:
    if account.locked_until is not None and account.locked_until > utcnow():
        return True
    return await kit.limiter.exhausted(ratelimit.FAILURES_ACCOUNT, str(account.id))


async def login(
    db: AsyncSession,
    kit: AuthKit,
    *,
    email: str,
    password: str,
    client: ClientInfo,
    device: Device,
) -> LoginResult:
    await _hit(kit, ratelimit.LOGIN_IP, client.ip)
    await _hit(kit, ratelimit.LOGIN_ACCOUNT, email)
    conn = await db.connection()
    account = await signin_rows.account_by_email(conn, email)
    # Verified even for an unknown address (against a dummy hash) or a locked account, so
    # the time taken tells nothing.
    verification = await kit.hasher.verify(account.password_hash if account else None, password)
    if account is None:
        await insert_event(
            conn, EventType.LOGIN_FAILED, user_id=None, client=client, reason="unknown"
        )
        kit.count_login("failed")
        raise invalid_credentials()
    if await _blocked(kit, account):
        await insert_event(
            conn, EventType.LOGIN_FAILED, user_id=account.id, client=client, reason="locked"
        )
        kit.count_login("locked")
        raise invalid_credentials()
    if not verification.ok:
        await _record_failure(conn, kit, account, client, reason="password")
        kit.count_login("failed")
        raise invalid_credentials()
    if not account.is_active:
        await insert_event(
            conn, EventType.LOGIN_FAILED, user_id=account.id, client=client, reason="inactive"
        )
        kit.count_login("failed")
        raise invalid_credentials()
    if verification.needs_rehash:
        await signin_rows.set_password_hash(conn, account.id, await kit.hasher.hash(password))
    if account.email_verified_at is None:
        kit.count_login("unverified")
        raise ProblemError(
            403, "email_not_verified", "Confirm your address with the link we sent first."
        )
    if account.mfa_enabled:
        token, _ = kit.codec.encode("mfa", user_id=account.id, ttl=MFA_TOKEN_TTL)
        kit.count_login("mfa_required")
        return LoginResult(mfa_token=token)
    result = await _complete(
        db, conn, kit, account=account, client=client, device=device, used_mfa=False
    )
    kit.count_login("success")
    return result


async def login_mfa(
    db: AsyncSession,
    kit: AuthKit,
    *,
    mfa_token: str,
    code: str,
    client: ClientInfo,
    device: Device,
) -> LoginResult:
    await _hit(kit, ratelimit.MFA_IP, client.ip)
    try:
        claims = kit.codec.decode("mfa", mfa_token)
    except InvalidTokenError as error:
        kit.count_login("mfa_failed")
        raise ProblemError(401, "invalid_token", "Sign in again: this step expired.") from error
    await _hit(kit, ratelimit.MFA_ACCOUNT, str(claims.user_id))
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active or not user.mfa_enabled:
        raise ProblemError(401, "invalid_token", "Sign in again: this step expired.")
    account = Account.of(user)
    conn = await db.connection()
    if await _blocked(kit, account):
        kit.count_login("locked")
        raise _invalid_code()
    method = "totp" if await mfa.verify_totp(db, kit.keyring, user, code) else None
    if method is None and await mfa.use_recovery_code(db, kit.keyring, user.id, code):
        method = "recovery_code"
    if method is None:
        await _record_failure(conn, kit, account, client, reason="mfa_code")
        kit.count_login("mfa_failed")
        raise _invalid_code()
    # The MFA token itself is single use too: a second exchange of it is refused.
    if not await kit.claim_once(
        f"auth:mfa-token-used:{claims.jti}", ttl=MFA_TOKEN_TTL.total_seconds()
    ):
        raise ProblemError(401, "invalid_token", "Sign in again: this step expired.")
    result = await _complete(
        db, conn, kit, account=account, client=client, device=device, used_mfa=True, method=method
    )
    kit.count_login("success")
    return result


async def sign_in_registered(
    db: AsyncSession, kit: AuthKit, *, user: User, client: ClientInfo, device: Device
) -> LoginResult:
    """A session for a user who proved its password a moment ago by choosing it at sign-up and
    needs no verification (the first user of an instance without SMTP): asking it to type the
    same password again on the next page would add nothing."""
    conn = await db.connection()
    return await _complete(
        db,
        conn,
        kit,
        account=Account.of(user),
        client=client,
        device=device,
        used_mfa=False,
        method="registration",
    )


def _invalid_code() -> ProblemError:
    return ProblemError(401, "invalid_mfa_code", "That code is not valid.", commit=True)


async def _complete(
    db: AsyncSession,
    conn: AsyncConnection,
    kit: AuthKit,
    *,
    account: Account,
    client: ClientInfo,
    device: Device,
    used_mfa: bool,
    method: str = "password",
) -> LoginResult:
    await signin_rows.clear_failures(conn, account)
    device_cookie = device.cookie_id
    if device.is_browser and device_cookie is None:
        device_cookie = random_token(24)
    device_key = device_cookie if device_cookie else f"ua:{client.user_agent}"
    device_hash, *older_hashes = kit.keyring.token_hashes(device_key, _DEVICE_PURPOSE)
    await _note_device(
        db, conn, kit, account=account, device_hash=device_hash, older=older_hashes, client=client
    )
    tokens = await start_session(
        conn, kit, user_id=account.id, client=client, device_hash=device_hash, mfa=used_mfa
    )
    await insert_event(
        conn,
        EventType.LOGIN_SUCCEEDED,
        user_id=account.id,
        client=client,
        session_id=str(tokens.session_id),
        method=method,
    )
    return LoginResult(tokens=tokens, device_cookie=device_cookie)


async def _note_device(
    db: AsyncSession,
    conn: AsyncConnection,
    kit: AuthKit,
    *,
    account: Account,
    device_hash: str,
    older: list[str],
    client: ClientInfo,
) -> None:
    """Notice a sign-in from a device this account has not used before (and mail about it).

    `older` are the device's hashes under previous secrets, still listed during a rotation: a
    device known under one of them is re-keyed, not announced as new."""
    now = utcnow()
    cache_key = f"auth:known-device:{account.id}:{device_hash}"
    # Only a cache: with the Store down, the database says whether the device is known.
    with contextlib.suppress(StoreUnavailableError):
        if await kit.store.get(cache_key) is not None:
            return
    if await signin_rows.touch_device(conn, account.id, device_hash, now):
        # Only a device already in the database is cached: a new one is cached at its next
        # sign-in, once the row surely committed, so a failed commit never hides a new device.
        with contextlib.suppress(StoreUnavailableError):
            await kit.store.set(cache_key, "1", ttl=_KNOWN_DEVICE_CACHE_SECONDS)
        return
    if older and await signin_rows.rekey_device(conn, account.id, older, device_hash, now):
        return
    seen_before = await signin_rows.device_count(conn, account.id)
    await signin_rows.add_device(conn, account.id, device_hash, now)
    if not seen_before:
        return  # the very first sign-in is not news
    await insert_event(conn, EventType.NEW_DEVICE_SIGN_IN, user_id=account.id, client=client)
    notify_after_commit(
        db, new_sign_in(user_id=account.id, ip=client.ip, user_agent=client.user_agent)
    )
    send_mail(
        db,
        "new_sign_in",
        to=account.email,
        name=account.name,
        when=now.strftime("%Y-%m-%d %H:%M UTC"),
        ip=client.ip,
        user_agent=client.user_agent,
        link=kit.page("/settings/security/"),
    )
