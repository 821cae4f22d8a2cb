"""TOTP (RFC 6238: 30 s steps, ±1 step of drift, each code accepted once) and recovery codes."""

from __future__ import annotations

import io
import secrets
import time
import uuid

import pyotp
import segno
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from postwise.auth.models import RecoveryCode
from postwise.db import affected_rows, utcnow
from postwise.kit.crypto import Keyring
from postwise.users.models import User

ISSUER = "Postwise"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
SECRET_PURPOSE = "totp-secret"
_RECOVERY_HASH_PURPOSE = "recovery-code"
# Unambiguous lower-case letters and digits for codes people type from paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    """A standalone SVG document (with its namespace, so it also works as an image URL)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer, kind="svg", xmldecl=False, scale=4, border=2, dark="#111", light="#fff"
    )
    return buffer.getvalue().decode()


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step a code belongs to, within the allowed drift, or None."""
    digits = code.strip().replace(" ", "")
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def encrypt_secret(keyring: Keyring, secret: str) -> str:
    return keyring.encrypt(secret, SECRET_PURPOSE)


def decrypt_secret(keyring: Keyring, ciphertext: str) -> str:
    return keyring.decrypt(ciphertext, SECRET_PURPOSE)


async def verify_totp(db: AsyncSession, keyring: Keyring, user: User, code: str) -> bool:
    """True once per code: the step is remembered so a replayed code fails."""
    if user.totp_secret is None:
        return False
    step = matching_step(decrypt_secret(keyring, user.totp_secret), code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    # Compare-and-set in the database, not on the loaded row: of several requests carrying
    # the same code at once (each with its own MFA token), exactly one may use it.
    claimed = await db.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(claimed) != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _normalise_code(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


async def replace_recovery_codes(
    db: AsyncSession, keyring: Keyring, user_id: uuid.UUID
) -> list[str]:
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    for code in codes:
        db.add(
            RecoveryCode(
                user_id=user_id, code_hash=keyring.token_hash(code, _RECOVERY_HASH_PURPOSE)
            )
        )
    await db.flush()
    return [_format_code(code) for code in codes]


async def use_recovery_code(
    db: AsyncSession, keyring: Keyring, user_id: uuid.UUID, code: str
) -> bool:
    normalised = _normalise_code(code)
    if len(normalised) != 12:
        return False
    hashes = keyring.token_hashes(normalised, _RECOVERY_HASH_PURPOSE)
    row = await db.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash.in_(hashes),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    claimed = await db.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return affected_rows(claimed) == 1


async def remaining_recovery_codes(db: AsyncSession, user_id: uuid.UUID) -> int:
    rows = await db.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    )
    return len(rows.all())


async def clear_recovery_codes(db: AsyncSession, user_id: uuid.UUID) -> None:
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
