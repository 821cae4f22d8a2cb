"""Security events: the user's and the admin's record of what happened to an account."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from postwise.auth import signin_rows
from postwise.auth.clientinfo import ClientInfo
from postwise.auth.models import EventType, SecurityEvent

log = structlog.get_logger("postwise.security")


def _event(
    event_type: EventType, user_id: uuid.UUID | None, client: ClientInfo | None, data: Any
) -> dict[str, Any]:
    """The event's columns, logged on the way (data holds no secrets by contract)."""
    values = {
        "user_id": user_id,
        "type": event_type.value,
        "ip": client.ip if client else None,
        "user_agent": client.user_agent if client else None,
        "data": data,
    }
    log.info(
        "security_event",
        type=event_type.value,
        user_id=str(user_id) if user_id else None,
        ip=values["ip"],
        **data,
    )
    return values


def record_event(
    session: AsyncSession,
    event_type: EventType,
    *,
    user_id: uuid.UUID | None,
    client: ClientInfo | None = None,
    **data: Any,
) -> None:
    """Add the event to the transaction (written at its next flush) and log it."""
    session.add(SecurityEvent(**_event(event_type, user_id, client, data)))


async def insert_event(
    conn: AsyncConnection,
    event_type: EventType,
    *,
    user_id: uuid.UUID | None,
    client: ClientInfo | None = None,
    **data: Any,
) -> None:
    """The same, written at once through Core: for sign-in, which keeps clear of the ORM."""
    await signin_rows.add_event(conn, _event(event_type, user_id, client, data))
