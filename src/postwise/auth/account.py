"""Password forgot/reset/change and MFA enrolment. The caller owns the transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth import mfa, ratelimit
from postwise.auth.clientinfo import ClientInfo
from postwise.auth.errors import invalid_credentials, invalid_token, weak_password
from postwise.auth.events import record_event
from postwise.auth.kit import AuthKit
from postwise.auth.mail import require_mail_queue, send_mail
from postwise.auth.models import EventType, TokenPurpose
from postwise.auth.onetime import consume_token, issue_token, revoke_tokens
from postwise.auth.passwords import password_strength
from postwise.auth.sessions import revoke_user_sessions
from postwise.db import utcnow
from postwise.kit.errors import ProblemError
from postwise.users.models import User
from postwise.worker.queue import enqueue_job

RESET_PATH = "/reset-password/"


async def request_reset(db: AsyncSession, kit: AuthKit, *, email: str, client: ClientInfo) -> None:
    """Always accepted; the lookup happens in a job so the answer's timing says nothing."""
    await kit.limiter.hit(ratelimit.FORGOT_IP, client.ip)
    await kit.limiter.hit(ratelimit.FORGOT_ACCOUNT, email)
    await require_mail_queue(kit)
    enqueue_job(db, "auth.send_password_reset", email=email)


async def send_reset(db: AsyncSession, kit: AuthKit, *, email: str) -> None:
    user = await db.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return
    ttl = timedelta(seconds=kit.settings.reset_token_ttl)
    token = await issue_token(
        db, kit.keyring, purpose=TokenPurpose.RESET_PASSWORD, ttl=ttl, user_id=user.id
    )
    send_mail(
        db,
        "password_reset",
        to=user.email,
        name=user.name,
        link=kit.link(RESET_PATH, token),
        expires_minutes=int(ttl.total_seconds() // 60),
    )


async def _set_password(db: AsyncSession, kit: AuthKit, user: User, password: str) -> None:
    strength = password_strength(password, [user.email, user.name])
    if not strength.acceptable:
        raise weak_password(strength, field="new_password")
    user.password_hash = await kit.hasher.hash(password)
    user.password_changed_at = utcnow()
    # A password change kills every outstanding reset link.
    await revoke_tokens(db, user_id=user.id, purpose=TokenPurpose.RESET_PASSWORD)


def _password_changed_mail(db: AsyncSession, kit: AuthKit, user: User, client: ClientInfo) -> None:
    send_mail(
        db,
        "password_changed",
        to=user.email,
        name=user.name,
        when=utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        ip=client.ip,
        link=kit.page("/forgot-password/"),
    )


async def reset_password(
    db: AsyncSession, kit: AuthKit, *, token: str, new_password: str, client: ClientInfo
) -> None:
    """Sets the password and signs out every session; it does not sign in (no auto-login)."""
    await kit.limiter.hit(ratelimit.RESET_IP, client.ip)
    row = await consume_token(db, kit.keyring, purpose=TokenPurpose.RESET_PASSWORD, token=token)
    user = await db.get(User, row.user_id) if row is not None and row.user_id else None
    if user is None or not user.is_active:
        raise invalid_token()
    await _set_password(db, kit, user, new_password)
    user.failed_logins = 0
    user.locked_until = None
    if user.email_verified_at is None:
        # Following the emailed link proves the address as well as a verification link does.
        user.email_verified_at = utcnow()
    await revoke_user_sessions(db, kit, user_id=user.id, reason="password_reset")
    record_event(db, EventType.PASSWORD_RESET, user_id=user.id, client=client)
    _password_changed_mail(db, kit, user, client)


async def change_password(
    db: AsyncSession,
    kit: AuthKit,
    *,
    user: User,
    session_id: uuid.UUID,
    current_password: str,
    new_password: str,
    client: ClientInfo,
) -> None:
    """Keeps this session, signs out the others."""
    verification = await kit.hasher.verify(user.password_hash, current_password)
    if not verification.ok:
        record_event(
            db, EventType.LOGIN_FAILED, user_id=user.id, client=client, reason="password_change"
        )
        raise invalid_credentials()
    await _set_password(db, kit, user, new_password)
    await revoke_user_sessions(db, kit, user_id=user.id, reason="password_changed", keep=session_id)
    record_event(db, EventType.PASSWORD_CHANGED, user_id=user.id, client=client)
    _password_changed_mail(db, kit, user, client)


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_svg: str


def _mfa_conflict() -> ProblemError:
    return ProblemError(409, "mfa_already_enabled", "Two-step sign-in is already on.")


def start_totp(kit: AuthKit, user: User) -> TotpSetup:
    if user.mfa_enabled:
        raise _mfa_conflict()
    secret = mfa.new_secret()
    user.totp_pending_secret = mfa.encrypt_secret(kit.keyring, secret)
    uri = mfa.provisioning_uri(secret, user.email)
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=mfa.qr_svg(uri))


async def enable_totp(
    db: AsyncSession, kit: AuthKit, *, user: User, code: str, client: ClientInfo
) -> list[str]:
    if user.mfa_enabled:
        raise _mfa_conflict()
    if user.totp_pending_secret is None:
        raise ProblemError(409, "mfa_setup_required", "Start the set-up first.")
    secret = mfa.decrypt_secret(kit.keyring, user.totp_pending_secret)
    step = mfa.matching_step(secret, code)
    if step is None:
        raise ProblemError(400, "invalid_mfa_code", "That code is not valid.")
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    # The confirming code is used up: it cannot also sign in.
    user.totp_last_step = step
    user.mfa_enabled_at = utcnow()
    codes = await mfa.replace_recovery_codes(db, kit.keyring, user.id)
    record_event(db, EventType.MFA_ENABLED, user_id=user.id, client=client)
    return codes


async def disable_totp(
    db: AsyncSession,
    kit: AuthKit,
    *,
    user: User,
    password: str,
    code: str,
    client: ClientInfo,
) -> None:
    if not user.mfa_enabled:
        raise ProblemError(409, "mfa_not_enabled", "Two-step sign-in is not on.")
    verification = await kit.hasher.verify(user.password_hash, password)
    # The password first: a wrong one must not use up the recovery code given with it.
    code_ok = verification.ok and (
        await mfa.verify_totp(db, kit.keyring, user, code)
        or await mfa.use_recovery_code(db, kit.keyring, user.id, code)
    )
    if not code_ok:
        raise ProblemError(
            401, "invalid_credentials", "The password or the code is incorrect.", commit=True
        )
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    user.mfa_enabled_at = None
    await mfa.clear_recovery_codes(db, user.id)
    record_event(db, EventType.MFA_DISABLED, user_id=user.id, client=client)
