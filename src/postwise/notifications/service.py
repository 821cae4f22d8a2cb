"""Creating, listing and reading notifications. The caller owns the transaction.

Each user keeps at most `KEEP_PER_USER` notifications: creating one deletes the oldest beyond
that, read ones first, so the table cannot grow forever however often something happens.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.db import affected_rows, utcnow
from postwise.kit.errors import ProblemError
from postwise.notifications.models import Notification
from postwise.notifications.schemas import NewNotification, NotificationOut, NotificationPage
from postwise.users.models import User

KEEP_PER_USER = 200


async def create(db: AsyncSession, notice: NewNotification) -> Notification | None:
    """Add the notification; None when an unread one with the same `dedupe_key` is already
    there (the user has not seen the first yet: a second says nothing new) or the user is
    gone."""
    if notice.dedupe_key is not None and await _open_duplicate(db, notice):
        return None
    if await db.get(User, notice.user_id) is None:
        return None  # deleted between the event and this job
    row = Notification(
        user_id=notice.user_id,
        kind=notice.kind,
        title=notice.title,
        body=notice.body,
        link=notice.link,
        data=notice.data,
        dedupe_key=notice.dedupe_key,
        created_at=utcnow(),
    )
    try:
        # A savepoint: losing the race to an identical notification (the partial unique
        # index) must not undo the caller's other work in this transaction.
        async with db.begin_nested():
            db.add(row)
            await db.flush()
    except IntegrityError:
        return None
    await _prune(db, notice.user_id)
    return row


async def _open_duplicate(db: AsyncSession, notice: NewNotification) -> bool:
    found = await db.scalar(
        select(Notification.id).where(
            Notification.user_id == notice.user_id,
            Notification.dedupe_key == notice.dedupe_key,
            Notification.read_at.is_(None),
        )
    )
    return found is not None


async def _prune(db: AsyncSession, user_id: uuid.UUID) -> None:
    # Unread first, then newest: what falls past the cap is the oldest read ones, and unread
    # ones only when more than the cap of them are unread.
    beyond = (
        select(Notification.id)
        .where(Notification.user_id == user_id)
        .order_by(
            Notification.read_at.is_(None).desc(),
            Notification.created_at.desc(),
            Notification.id.desc(),
        )
        .offset(KEEP_PER_USER)
    )
    await db.execute(delete(Notification).where(Notification.id.in_(beyond.scalar_subquery())))


async def resolve(db: AsyncSession, *, user_id: uuid.UUID, dedupe_key: str) -> int:
    """Mark the open notification about a problem that went away as read; how many were."""
    result = await db.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.dedupe_key == dedupe_key,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    return affected_rows(result)


async def unread_count(db: AsyncSession, user_id: uuid.UUID) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


def _encode_cursor(row: Notification) -> str:
    raw = f"{row.created_at.isoformat()}|{row.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, row_id = raw.partition("|")
        at = datetime.fromisoformat(created)
        # Ours always carry a zone; a naive one, or one beyond datetime's range in UTC, would
        # only fail in the database driver (a 500).
        if at.tzinfo is None:
            raise ValueError("naive")
        at.astimezone(UTC)
        return at, uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError, OverflowError) as error:
        raise ProblemError(422, "invalid_cursor", "The cursor is not valid.") from error


async def list_page(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    unread_only: bool,
    limit: int,
    cursor: str | None,
) -> NotificationPage:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if cursor:
        at, row_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Notification.created_at < at,
                and_(Notification.created_at == at, Notification.id < row_id),
            )
        )
    rows = (
        await db.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
        )
    ).all()
    page = rows[:limit]
    return NotificationPage(
        items=[NotificationOut.model_validate(row) for row in page],
        unread_count=await unread_count(db, user_id),
        next_cursor=_encode_cursor(page[-1]) if len(rows) > limit else None,
    )


async def mark_read(
    db: AsyncSession, user_id: uuid.UUID, *, ids: list[uuid.UUID], every: bool
) -> int:
    """Mark the user's notifications read (all of them, or those of `ids`); ids of other
    users' notifications, or of none, are ignored. Returns how many changed."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if not every:
        query = query.where(Notification.id.in_(ids))
    result = await db.execute(query.values(read_at=utcnow()))
    return affected_rows(result)


async def remove(db: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID) -> None:
    result = await db.execute(
        delete(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )
    if affected_rows(result) == 0:
        # Another user's notification is as unknown as a missing one.
        raise ProblemError(404, "not_found", "No such notification.")
