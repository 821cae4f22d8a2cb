"""Security events: the user's and the admin's record of what happened to an account."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth.clientinfo import ClientInfo
from postwise.auth.models import EventType, SecurityEvent

log = structlog.get_logger("postwise.security")


def record_event(
    session: AsyncSession,
    event_type: EventType,
    *,
    user_id: uuid.UUID | None,
    client: ClientInfo | None = None,
    **data: Any,
) -> None:
    """Add the event to the transaction and log it (data holds no secrets by contract)."""
    session.add(
        SecurityEvent(
            user_id=user_id,
            type=event_type.value,
            ip=client.ip if client else None,
            user_agent=client.user_agent if client else None,
            data=data,
        )
    )
    log.info(
        "security_event",
        type=event_type.value,
        user_id=str(user_id) if user_id else None,
        ip=client.ip if client else None,
        **data,
    )
