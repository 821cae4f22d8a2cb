"""Re-encrypt what is sealed under an old secret with the current one (`postwise reseal`).

The last step of a secret rotation (docs/security.md): TOTP secrets and mailbox passwords are
Fernet tokens under keys derived from the secret, readable with any secret still listed in
POSTWISE_SECRET_KEY_PREVIOUS. Once they are resealed, the old secret can be removed without
locking anyone out of two-step sign-in or a mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts import credentials
from postwise.accounts.models import MailAccount
from postwise.ai.engine import KEY_PURPOSE as AI_KEY_PURPOSE
from postwise.ai.models import AiSettings
from postwise.auth import mfa
from postwise.auth.models import RecoveryCode
from postwise.kit.crypto import DecryptionError, Keyring
from postwise.users.models import User


@dataclass
class ResealReport:
    resealed: int = 0
    already_current: int = 0
    # "<table> <id> <column>" for values no known secret opens: they stay as they are.
    unreadable: list[str] = field(default_factory=list)
    # Recovery codes are keyed hashes, not ciphertext: they cannot be moved to the new secret.
    users_with_recovery_codes: int = 0


def _reseal_value(
    keyring: Keyring, report: ResealReport, value: str | None, purpose: str, where: str
) -> str | None:
    """The value to store: resealed, or unchanged (already current, unreadable or empty)."""
    if value is None:
        return None
    try:
        sealed = keyring.reseal(value, purpose)
    except DecryptionError:
        report.unreadable.append(where)
        return value
    if sealed is None:
        report.already_current += 1
        return value
    report.resealed += 1
    return sealed


async def reseal(db: AsyncSession, keyring: Keyring) -> ResealReport:
    """Reseal in the caller's transaction (the caller commits)."""
    report = ResealReport()
    users = await db.scalars(
        select(User).where(
            or_(User.totp_secret.is_not(None), User.totp_pending_secret.is_not(None))
        )
    )
    for user in users.all():
        user.totp_secret = _reseal_value(
            keyring, report, user.totp_secret, mfa.SECRET_PURPOSE, f"users {user.id} totp_secret"
        )
        user.totp_pending_secret = _reseal_value(
            keyring,
            report,
            user.totp_pending_secret,
            mfa.SECRET_PURPOSE,
            f"users {user.id} totp_pending_secret",
        )
    accounts = await db.scalars(select(MailAccount).where(MailAccount.credentials.is_not(None)))
    for account in accounts.all():
        account.credentials = _reseal_value(
            keyring,
            report,
            account.credentials,
            credentials.PURPOSE,
            f"mail_accounts {account.id} credentials",
        )
    keys = await db.scalars(select(AiSettings).where(AiSettings.api_key_sealed.is_not(None)))
    for row in keys.all():
        row.api_key_sealed = _reseal_value(
            keyring,
            report,
            row.api_key_sealed,
            AI_KEY_PURPOSE,
            f"ai_settings {row.user_id} api_key_sealed",
        )
    report.users_with_recovery_codes = int(
        await db.scalar(
            select(func.count(func.distinct(RecoveryCode.user_id))).where(
                RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )
    await db.flush()
    return report
