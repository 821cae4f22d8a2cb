"""Secret rotation's last step: what is sealed under an old secret moves to the current one."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from postwise import db
from postwise.accounts import credentials
from postwise.accounts.models import MailAccount
from postwise.ai.engine import KEY_PURPOSE as AI_KEY_PURPOSE
from postwise.ai.models import AiSettings
from postwise.auth import mfa
from postwise.kit.crypto import DecryptionError, Keyring
from postwise.reseal import reseal
from postwise.users.models import User
from tests.test_cli import _env, _run

OLD = "old-secret-" + "o" * 32
NEW = "new-secret-" + "n" * 32
LOST = "lost-secret-" + "l" * 32


@pytest.mark.backend
async def test_reseal_moves_totp_secrets_and_mailbox_passwords_to_the_current_secret(
    make_settings,
) -> None:
    settings = make_settings()
    engine = db.create_engine(settings)
    sessions = db.create_sessionmaker(engine)
    old, lost = Keyring(OLD), Keyring(LOST)
    tag = uuid.uuid4().hex[:8]
    try:
        async with sessions() as session:
            moved = User(
                email=f"moved-{tag}@example.org",
                password_hash="x",
                totp_secret=mfa.encrypt_secret(old, "JBSWY3DPEHPK3PXP"),
                totp_pending_secret=mfa.encrypt_secret(Keyring(NEW), "KRUGKIDROVUWG2ZA"),
            )
            stranded = User(
                email=f"stranded-{tag}@example.org",
                password_hash="x",
                totp_secret=mfa.encrypt_secret(lost, "MFRGGZDFMZTWQ2LK"),
            )
            session.add_all([moved, stranded])
            await session.flush()
            session.add(
                MailAccount(
                    user_id=moved.id,
                    email=f"box-{tag}@example.org",
                    credentials=credentials.seal_password(old, "imap-password"),
                )
            )
            session.add(
                AiSettings(user_id=moved.id, api_key_sealed=old.encrypt("sk-own", AI_KEY_PURPOSE))
            )
            await session.commit()
            stranded_secret = stranded.totp_secret

        rotating = Keyring(NEW, [OLD])
        async with sessions() as session:
            report = await reseal(session, rotating)
            await session.commit()

        assert report.resealed >= 3  # the TOTP secret, the mailbox password, the AI key
        assert f"users {stranded.id} totp_secret" in report.unreadable
        async with sessions() as session:
            user = await session.scalar(select(User).where(User.id == moved.id))
            account = await session.scalar(
                select(MailAccount).where(MailAccount.user_id == moved.id)
            )
            left = await session.scalar(select(User.totp_secret).where(User.id == stranded.id))
        assert user is not None and account is not None
        # Readable with the new secret alone: the old one can now be removed.
        only_new = Keyring(NEW)
        assert mfa.decrypt_secret(only_new, user.totp_secret or "") == "JBSWY3DPEHPK3PXP"
        assert mfa.decrypt_secret(only_new, user.totp_pending_secret or "") == "KRUGKIDROVUWG2ZA"
        assert credentials.open_password(only_new, account.credentials or "") == "imap-password"
        async with sessions() as session:
            ai_key = await session.scalar(
                select(AiSettings.api_key_sealed).where(AiSettings.user_id == moved.id)
            )
        assert only_new.decrypt(ai_key or "", AI_KEY_PURPOSE) == "sk-own"
        with pytest.raises(DecryptionError):
            mfa.decrypt_secret(old, user.totp_secret or "")
        assert left == stranded_secret  # never overwritten with something worse

        # Running it again changes nothing.
        async with sessions() as session:
            again = await reseal(session, rotating)
            await session.rollback()
        assert again.resealed == 0
    finally:
        await engine.dispose()


def test_reseal_command_reports_and_succeeds_on_a_fresh_instance(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert _run("migrate", env=env).returncode == 0
    result = _run("reseal", env=env)
    assert result.returncode == 0, result.stderr
    assert "Resealed 0 values" in result.stdout
