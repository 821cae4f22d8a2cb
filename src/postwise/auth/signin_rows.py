"""What a sign-in reads and writes, as SQLAlchemy Core statements built once.

Signing in is the write path that runs at flood rates (a team's morning, credential stuffing),
and next to argon2 everything it does is overhead taken from the hash's cores. bench/auth found
about half of the event loop's time per login in the ORM: entity loading, the unit of work's
flush of four new objects, and statements built anew per request. Here the statements are built
at import and run with parameter dicts on the session's connection, in the session's
transaction, so SQLAlchemy answers from its compiled cache and no ORM state is made. The rest of
auth uses the ORM; nothing here is kept in the session's identity map.

The failure counter is also an atomic `failed_logins + 1` here, so failures arriving together
all count (read-modify-write through the ORM could lose some to each other).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from postwise.auth.models import AuthSession, KnownDevice, RefreshToken, SecurityEvent
from postwise.db import affected_rows
from postwise.users.models import User

# Typed as what they are: the ORM declares __table__ as a FromClause.
_users = cast(Table, User.__table__)
_devices = cast(Table, KnownDevice.__table__)


@dataclass(frozen=True, slots=True)
class Account:
    """The columns of a user that a sign-in decides on."""

    id: uuid.UUID
    email: str
    name: str
    password_hash: str
    is_active: bool
    email_verified_at: datetime | None
    mfa_enabled_at: datetime | None
    failed_logins: int
    locked_until: datetime | None

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None

    @classmethod
    def of(cls, user: User) -> Account:
        """The same view of a user the ORM already loaded (the MFA step has one)."""
        return cls(**{name: getattr(user, name) for name in _ACCOUNT_FIELDS})


_ACCOUNT_FIELDS = (
    "id",
    "email",
    "name",
    "password_hash",
    "is_active",
    "email_verified_at",
    "mfa_enabled_at",
    "failed_logins",
    "locked_until",
)
_BY_EMAIL = select(*(_users.c[name] for name in _ACCOUNT_FIELDS)).where(
    _users.c.email == bindparam("email")
)
# Bound names differ from column names: SQLAlchemy reserves those for SET values.
_COUNT_FAILURE = (
    update(_users)
    .where(_users.c.id == bindparam("account_id"))
    .values(failed_logins=_users.c.failed_logins + 1)
    .returning(_users.c.failed_logins)
)
_LOCK = (
    update(_users)
    .where(_users.c.id == bindparam("account_id"))
    .values(locked_until=bindparam("until"))
)
_CLEAR_FAILURES = (
    update(_users)
    .where(_users.c.id == bindparam("account_id"))
    .values(failed_logins=0, locked_until=None)
)
_SET_HASH = (
    update(_users)
    .where(_users.c.id == bindparam("account_id"))
    .values(password_hash=bindparam("new_hash"))
)
_DEVICE_SEEN = (
    update(_devices)
    .where(
        _devices.c.user_id == bindparam("account_id"),
        _devices.c.device_hash == bindparam("device"),
    )
    .values(last_seen_at=bindparam("now"))
)
_DEVICE_REKEY = (
    update(_devices)
    .where(
        _devices.c.user_id == bindparam("account_id"),
        _devices.c.device_hash.in_(bindparam("older", expanding=True)),
    )
    .values(device_hash=bindparam("current"), last_seen_at=bindparam("now"))
)
_DEVICE_COUNT = (
    select(func.count()).select_from(_devices).where(_devices.c.user_id == bindparam("account_id"))
)
_ADD_DEVICE = insert(_devices)
_ADD_SESSION = insert(cast(Table, AuthSession.__table__))
_ADD_REFRESH_TOKEN = insert(cast(Table, RefreshToken.__table__))
_ADD_EVENT = insert(cast(Table, SecurityEvent.__table__))


async def account_by_email(conn: AsyncConnection, email: str) -> Account | None:
    row = (await conn.execute(_BY_EMAIL, {"email": email})).first()
    return None if row is None else Account(*row)


async def count_failure(conn: AsyncConnection, account_id: uuid.UUID) -> int:
    """One more failed attempt; the count after it."""
    result = await conn.execute(_COUNT_FAILURE, {"account_id": account_id})
    return int(result.scalar_one())


async def lock(conn: AsyncConnection, account_id: uuid.UUID, until: datetime) -> None:
    await conn.execute(_LOCK, {"account_id": account_id, "until": until})


async def clear_failures(conn: AsyncConnection, account: Account) -> None:
    if account.failed_logins or account.locked_until is not None:
        await conn.execute(_CLEAR_FAILURES, {"account_id": account.id})


async def set_password_hash(conn: AsyncConnection, account_id: uuid.UUID, new_hash: str) -> None:
    await conn.execute(_SET_HASH, {"account_id": account_id, "new_hash": new_hash})


async def touch_device(
    conn: AsyncConnection, account_id: uuid.UUID, device_hash: str, now: datetime
) -> bool:
    """Mark a known device as seen now; False when the device is new to this account."""
    result = await conn.execute(
        _DEVICE_SEEN, {"account_id": account_id, "device": device_hash, "now": now}
    )
    return affected_rows(result) == 1


async def rekey_device(
    conn: AsyncConnection,
    account_id: uuid.UUID,
    older: list[str],
    current: str,
    now: datetime,
) -> bool:
    """Move a device known under a previous secret's hash to the current one (a rotation);
    False when no such device exists. Called only once the current hash found nothing, so
    the new key cannot collide."""
    result = await conn.execute(
        _DEVICE_REKEY,
        {"account_id": account_id, "older": older, "current": current, "now": now},
    )
    return affected_rows(result) >= 1


async def device_count(conn: AsyncConnection, account_id: uuid.UUID) -> int:
    return int((await conn.execute(_DEVICE_COUNT, {"account_id": account_id})).scalar_one())


async def add_device(
    conn: AsyncConnection, account_id: uuid.UUID, device_hash: str, now: datetime
) -> None:
    await conn.execute(
        _ADD_DEVICE,
        {
            "user_id": account_id,
            "device_hash": device_hash,
            "first_seen_at": now,
            "last_seen_at": now,
        },
    )


async def add_session(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(_ADD_SESSION, values)


async def add_refresh_token(conn: AsyncConnection, session_id: uuid.UUID, token_hash: str) -> None:
    await conn.execute(_ADD_REFRESH_TOKEN, {"session_id": session_id, "token_hash": token_hash})


async def add_event(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(_ADD_EVENT, values)
