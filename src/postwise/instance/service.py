"""Read and write instance settings; the caller owns the transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.db import utcnow
from postwise.instance.models import InstanceSetting


async def get_setting(session: AsyncSession, key: str, default: Any = None) -> Any:
    row = await session.get(InstanceSetting, key)
    return default if row is None else row.value


async def set_setting(session: AsyncSession, key: str, value: Any) -> None:
    row = await session.get(InstanceSetting, key)
    if row is None:
        session.add(InstanceSetting(key=key, value=value))
    else:
        row.value = value
        row.updated_at = utcnow()
    await session.flush()
