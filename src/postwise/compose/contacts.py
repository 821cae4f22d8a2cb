"""PLACEHOLDER: replaced by helper H1."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.compose.schemas import ContactList


async def search_contacts(
    db: AsyncSession, user_id: uuid.UUID, q: str, *, limit: int
) -> ContactList:
    raise NotImplementedError
