"""Reads for the session and event lists (own rows only, unless the caller is an admin)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth.models import AuthSession, SecurityEvent
from postwise.auth.schemas import EventOut, EventPage, SessionOut
from postwise.db import utcnow
from postwise.kit.errors import ProblemError

MAX_PAGE = 200


async def own_session(
    db: AsyncSession, session_id: uuid.UUID | None, *, user_id: uuid.UUID | None = None
) -> AuthSession | None:
    if session_id is None:
        return None
    row = await db.get(AuthSession, session_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        # Another user's session is answered exactly like one that does not exist.
        return None
    return row


async def list_sessions(
    db: AsyncSession, user_id: uuid.UUID, current: uuid.UUID
) -> list[SessionOut]:
    now = utcnow()
    rows = await db.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
            AuthSession.idle_expires_at > now,
        )
        .order_by(AuthSession.last_seen_at.desc())
    )
    return [
        SessionOut(
            id=row.id,
            current=row.id == current,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            ip=row.ip,
            user_agent=row.user_agent,
        )
        for row in rows.all()
    ]


def _encode_cursor(created_at: datetime, event_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{event_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, event_id = raw.partition("|")
        at = datetime.fromisoformat(created)
        # Ours always carry a zone; a naive one, or one that leaves datetime's range in UTC,
        # would only fail in the database driver (a 500).
        if at.tzinfo is None:
            raise ValueError("naive")
        at.astimezone(UTC)
        return at, uuid.UUID(event_id)
    except (ValueError, UnicodeDecodeError, OverflowError) as error:
        raise ProblemError(422, "invalid_cursor", "The cursor is not valid.") from error


async def list_events(
    db: AsyncSession,
    *,
    user_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    event_type: str | None = None,
) -> EventPage:
    """Newest first, keyset-paginated by (created_at, id): stable while events keep coming."""
    if not 1 <= limit <= MAX_PAGE:
        raise ProblemError(422, "invalid_limit", f"limit must be between 1 and {MAX_PAGE}.")
    query = select(SecurityEvent)
    if user_id is not None:
        query = query.where(SecurityEvent.user_id == user_id)
    if event_type:
        query = query.where(SecurityEvent.type == event_type)
    if cursor:
        created, event_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                SecurityEvent.created_at < created,
                and_(SecurityEvent.created_at == created, SecurityEvent.id < event_id),
            )
        )
    rows = (
        await db.scalars(
            query.order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc()).limit(
                limit + 1
            )
        )
    ).all()
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
    return EventPage(
        items=[
            EventOut(
                id=row.id,
                type=row.type,
                created_at=row.created_at,
                ip=row.ip,
                user_agent=row.user_agent,
                data=row.data,
                user_id=row.user_id,
            )
            for row in page
        ],
        next_cursor=next_cursor,
    )
