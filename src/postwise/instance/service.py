"""Read and write instance settings; the caller owns the transaction."""

from __future__ import annotations

from typing import Any, Final, Literal, cast, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.config import Settings
from postwise.db import utcnow
from postwise.instance.models import InstanceSetting

RegistrationMode = Literal["open", "invite", "closed"]
REGISTRATION_MODES: Final = frozenset(get_args(RegistrationMode))
# The admin's choice of who may sign up; without it POSTWISE_REGISTRATION decides.
REGISTRATION_KEY: Final = "registration_mode"


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


async def delete_setting(session: AsyncSession, key: str) -> None:
    row = await session.get(InstanceSetting, key)
    if row is not None:
        await session.delete(row)
        await session.flush()


async def stored_registration_mode(session: AsyncSession) -> RegistrationMode | None:
    """The admin's override, or None. A value this version does not know (written by a newer
    one, or by hand) counts as none, so the environment's setting applies."""
    value = await get_setting(session, REGISTRATION_KEY)
    return cast(RegistrationMode, value) if value in REGISTRATION_MODES else None


async def registration_mode(session: AsyncSession, settings: Settings) -> RegistrationMode:
    """Who may sign up now: the admin's stored choice, else POSTWISE_REGISTRATION."""
    return await stored_registration_mode(session) or settings.registration


async def set_registration_mode(session: AsyncSession, mode: RegistrationMode | None) -> None:
    """Store the admin's choice; None removes it, handing the decision back to the setting."""
    if mode is None:
        await delete_setting(session, REGISTRATION_KEY)
    else:
        await set_setting(session, REGISTRATION_KEY, mode)
