"""Rows the store tests start from: a fresh user and mailbox, so tests never see each other."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.models import MailAccount
from postwise.users.models import User


async def new_account(session: AsyncSession, **fields: Any) -> MailAccount:
    """A new user with one mailbox (`fields` go to the MailAccount), flushed, not committed."""
    user = User(email=f"{uuid.uuid4().hex}@example.org", password_hash="x")
    session.add(user)
    await session.flush()
    account = MailAccount(user_id=user.id, email=user.email, **fields)
    session.add(account)
    await session.flush()
    return account
