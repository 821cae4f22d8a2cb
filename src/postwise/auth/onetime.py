"""Verification, reset and invite tokens: ≥128 bits, stored hashed, single use, one purpose."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth.models import OneTimeToken, TokenPurpose
from postwise.db import affected_rows, utcnow
from postwise.kit.crypto import Keyring, random_token

_HASH_PURPOSE = "one-time-token"


async def issue_token(
    session: AsyncSession,
    keyring: Keyring,
    *,
    purpose: TokenPurpose,
    ttl: timedelta,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
) -> str:
    """A fresh token; any older unused token for the same user and purpose stops working."""
    if user_id is not None:
        await revoke_tokens(session, user_id=user_id, purpose=purpose)
    token = random_token(32)
    session.add(
        OneTimeToken(
            user_id=user_id,
            purpose=purpose.value,
            token_hash=keyring.token_hash(token, _HASH_PURPOSE),
            email=email,
            expires_at=utcnow() + ttl,
        )
    )
    await session.flush()
    return token


async def consume_token(
    session: AsyncSession, keyring: Keyring, *, purpose: TokenPurpose, token: str
) -> OneTimeToken | None:
    """The token's row if it was valid, marking it used; of concurrent callers one wins."""
    if not token or len(token) > 200:
        return None
    hashes = keyring.token_hashes(token, _HASH_PURPOSE)
    row = await session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash.in_(hashes), OneTimeToken.purpose == purpose.value
        )
    )
    now = utcnow()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    claimed = await session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(claimed) != 1:
        return None
    row.used_at = now
    return row


async def revoke_tokens(
    session: AsyncSession, *, user_id: uuid.UUID, purpose: TokenPurpose
) -> None:
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose.value,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
