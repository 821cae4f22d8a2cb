"""PLACEHOLDER: replaced by helper H1."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.compose.schemas import Identity, IdentityOut


async def get_identity(db: AsyncSession, user_id: uuid.UUID, account_id: uuid.UUID) -> IdentityOut:
    raise NotImplementedError


async def put_identity(
    db: AsyncSession, user_id: uuid.UUID, account_id: uuid.UUID, body: Identity
) -> IdentityOut:
    raise NotImplementedError
