"""Sign-up, email verification and invites. The caller owns the transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth import ratelimit
from postwise.auth.clientinfo import ClientInfo
from postwise.auth.errors import invalid_token, weak_password
from postwise.auth.events import record_event
from postwise.auth.kit import AuthKit
from postwise.auth.mail import require_mail_queue, send_mail
from postwise.auth.models import EventType, TokenPurpose
from postwise.auth.onetime import consume_token, issue_token
from postwise.auth.passwords import password_strength
from postwise.db import utcnow
from postwise.instance import service as instance
from postwise.kit.errors import ProblemError
from postwise.users.models import User
from postwise.worker.queue import enqueue_job

VERIFY_PATH = "/verify-email/"
# Any fixed 64-bit number, unique among the app's advisory locks.
_FIRST_USER_LOCK = 0x706F737477697365
INVITE_PATH = "/signup/"


@dataclass(frozen=True)
class Registered:
    """What a sign-up may tell its caller.

    Only the first user of an instance learns more than "accepted", and an empty instance has
    no addresses to enumerate: that it is the admin, and, when it was trusted at once (no SMTP
    to verify it with), the user itself, to be signed in by the password it just chose."""

    admin: bool = False
    ready: User | None = None


async def register(
    db: AsyncSession,
    kit: AuthKit,
    *,
    email: str,
    password: str,
    name: str,
    invite_token: str | None,
    client: ClientInfo,
) -> Registered:
    """Same outcome seen from outside whether or not the address is taken (no enumeration)."""
    await kit.limiter.hit(ratelimit.REGISTER_IP, client.ip)
    await kit.limiter.hit(ratelimit.REGISTER_ACCOUNT, email)
    # A sign-up mails either way (a link, or a note to a taken address's owner); only the
    # first user of an instance without a mail server would not, and is not worth an answer
    # that differs.
    await require_mail_queue(kit)
    strength = password_strength(password, [email, name])
    if not strength.acceptable:
        raise weak_password(strength)
    # Only a first guess: two sign-ups on an empty instance can both see it empty. Who is
    # first is settled after the insert, under a lock (_settle_first_user).
    maybe_first = not await _real_users(db)
    if not maybe_first:
        await _check_registration_open(db, kit, email=email, invite_token=invite_token)
    # Hashed whether or not the address exists, so both paths take the same time.
    password_hash = await kit.hasher.hash(password)
    existing = await db.scalar(select(User).where(User.email == email))
    if existing is not None:
        _signup_attempt_mail(db, kit, existing)
        return Registered()
    user = User(id=uuid.uuid4(), email=email, name=name, password_hash=password_hash)
    try:
        async with db.begin_nested():
            db.add(user)
    except IntegrityError:
        # Someone registered the same address a moment ago: answer as for a taken address.
        taken = await db.scalar(select(User).where(User.email == email))
        if taken is not None:
            _signup_attempt_mail(db, kit, taken)
        return Registered()
    first_user = maybe_first and await _settle_first_user(db)
    if maybe_first and not first_user:
        # Beaten to it by a moment: this sign-up now needs what any later one needs (a refusal
        # rolls the insert back with the rest of the transaction).
        await _check_registration_open(db, kit, email=email, invite_token=invite_token)
    user.is_admin = first_user
    record_event(db, EventType.USER_REGISTERED, user_id=user.id, client=client, admin=first_user)
    if first_user and not kit.settings.smtp_host:
        # Nobody could mail the first user of a fresh instance its link: trust it at once.
        user.email_verified_at = utcnow()
        record_event(db, EventType.EMAIL_VERIFIED, user_id=user.id, client=client, auto=True)
        return Registered(admin=True, ready=user)
    await send_verification(db, kit, user)
    return Registered(admin=first_user)


async def _real_users(db: AsyncSession) -> int:
    # A demo user (`postwise demo`) does not make the instance taken: the first real person
    # to register still becomes its admin.
    return int(
        await db.scalar(select(func.count()).select_from(User).where(User.is_demo.is_(False))) or 0
    )


async def _settle_first_user(db: AsyncSession) -> bool:
    """Whether the user just inserted is the instance's only real one, decided race-free.

    SQLite: the insert holds the database's write lock until commit, so this count sees every
    sign-up committed before and none can commit meanwhile. PostgreSQL: concurrent inserts do
    not see each other, so sign-ups that reach this point take turns on an advisory lock held
    until their commit, and each counts what the ones before it committed."""
    conn = await db.connection()
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FIRST_USER_LOCK})
    return await _real_users(db) == 1


async def _check_registration_open(
    db: AsyncSession, kit: AuthKit, *, email: str, invite_token: str | None
) -> None:
    # The admin's choice (Admin → Registration) wins over POSTWISE_REGISTRATION.
    mode = await instance.registration_mode(db, kit.settings)
    if mode == "closed":
        raise ProblemError(403, "registration_closed", "This instance does not accept sign-ups.")
    if mode == "invite":
        invite = (
            await consume_token(db, kit.keyring, purpose=TokenPurpose.INVITE, token=invite_token)
            if invite_token
            else None
        )
        if invite is None or (invite.email is not None and invite.email != email):
            raise ProblemError(
                403, "invite_required", "Sign-up on this instance needs a valid invitation."
            )


def _signup_attempt_mail(db: AsyncSession, kit: AuthKit, user: User) -> None:
    send_mail(
        db,
        "signup_attempt",
        to=user.email,
        name=user.name,
        signin_link=kit.page("/signin/"),
        forgot_link=kit.page("/forgot-password/"),
    )


async def send_verification(db: AsyncSession, kit: AuthKit, user: User) -> None:
    ttl = timedelta(seconds=kit.settings.verify_token_ttl)
    token = await issue_token(
        db, kit.keyring, purpose=TokenPurpose.VERIFY_EMAIL, ttl=ttl, user_id=user.id
    )
    send_mail(
        db,
        "verify_email",
        to=user.email,
        name=user.name,
        link=kit.link(VERIFY_PATH, token),
        expires_hours=int(ttl.total_seconds() // 3600),
    )


async def verify_email(db: AsyncSession, kit: AuthKit, *, token: str, client: ClientInfo) -> None:
    row = await consume_token(db, kit.keyring, purpose=TokenPurpose.VERIFY_EMAIL, token=token)
    user = await db.get(User, row.user_id) if row is not None and row.user_id else None
    if user is None:
        raise invalid_token()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record_event(db, EventType.EMAIL_VERIFIED, user_id=user.id, client=client)


async def request_verification(
    db: AsyncSession, kit: AuthKit, *, email: str, client: ClientInfo
) -> None:
    """Always accepted; the lookup happens in a job so the answer's timing says nothing."""
    await kit.limiter.hit(ratelimit.RESEND_IP, client.ip)
    await kit.limiter.hit(ratelimit.RESEND_ACCOUNT, email)
    await require_mail_queue(kit)
    enqueue_job(db, "auth.resend_verification", email=email)


async def resend_verification(db: AsyncSession, kit: AuthKit, *, email: str) -> None:
    user = await db.scalar(select(User).where(User.email == email))
    if user is not None and user.is_active and user.email_verified_at is None:
        await send_verification(db, kit, user)


async def create_invite(
    db: AsyncSession, kit: AuthKit, *, inviter: User, email: str | None
) -> tuple[str, str]:
    ttl = timedelta(days=7)
    token = await issue_token(db, kit.keyring, purpose=TokenPurpose.INVITE, ttl=ttl, email=email)
    link = kit.link(INVITE_PATH, token)
    if email:
        send_mail(
            db,
            "invite",
            to=email,
            inviter=inviter.name or inviter.email,
            link=link,
            expires_hours=int(ttl.total_seconds() // 3600),
        )
    return token, link
