"""Profiles and admin management. The caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts import service as accounts_service
from postwise.auth.clientinfo import ClientInfo
from postwise.auth.events import record_event
from postwise.auth.kit import AuthKit
from postwise.auth.models import AuthSession, EventType
from postwise.auth.sessions import revoke_user_sessions
from postwise.db import affected_rows
from postwise.events import request_sync
from postwise.kit.errors import ProblemError
from postwise.users.models import User
from postwise.users.schemas import AdminUpdate, AdminUserOut, UserPage


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_users(db: AsyncSession, *, query: str, offset: int, limit: int) -> UserPage:
    if not 1 <= limit <= 200 or offset < 0:
        raise ProblemError(
            422, "invalid_page", "limit must be from 1 to 200 and offset at least 0."
        )
    condition = None
    if query.strip():
        pattern = f"%{_escape_like(query.strip().lower())}%"
        condition = or_(
            User.email.like(pattern, escape="\\"),
            func.lower(User.name).like(pattern, escape="\\"),
        )
    count_query = select(func.count()).select_from(User)
    rows_query = select(User).order_by(User.created_at, User.id).offset(offset).limit(limit)
    if condition is not None:
        count_query = count_query.where(condition)
        rows_query = rows_query.where(condition)
    total = int(await db.scalar(count_query) or 0)
    rows = (await db.scalars(rows_query)).all()
    seen = await last_seen(db, [row.id for row in rows])
    return UserPage(
        items=[
            AdminUserOut.model_validate(row).model_copy(update={"last_seen_at": seen.get(row.id)})
            for row in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


async def last_seen(db: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """When each user was last active on any session (one page's users, via the user_id
    index); a user whose sessions all expired and were cleaned away has no entry."""
    if not user_ids:
        return {}
    rows = await db.execute(
        select(AuthSession.user_id, func.max(AuthSession.last_seen_at))
        .where(AuthSession.user_id.in_(user_ids))
        .group_by(AuthSession.user_id)
    )
    return {user_id: last for user_id, last in rows.all() if last is not None}


async def admin_update(
    db: AsyncSession,
    kit: AuthKit,
    *,
    admin: User,
    user_id: uuid.UUID,
    changes: AdminUpdate,
    client: ClientInfo,
) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise ProblemError(404, "not_found", "No such user.")
    if user.id == admin.id and (changes.is_active is False or changes.is_admin is False):
        # An instance must never lose its last way in by a slip of the admin's own hand.
        raise ProblemError(409, "cannot_modify_self", "You cannot deactivate or demote yourself.")
    applied: dict[str, bool] = {}
    if changes.is_admin is not None and changes.is_admin != user.is_admin:
        user.is_admin = changes.is_admin
        applied["is_admin"] = changes.is_admin
    if changes.is_active is not None and changes.is_active != user.is_active:
        user.is_active = changes.is_active
        applied["is_active"] = changes.is_active
        if not changes.is_active:
            await revoke_user_sessions(db, kit, user_id=user.id, reason="deactivated")
    if applied:
        record_event(
            db,
            EventType.USER_UPDATED_BY_ADMIN,
            user_id=user.id,
            client=client,
            admin_id=str(admin.id),
            **applied,
        )
    await db.flush()
    return user


async def admin_user_out(db: AsyncSession, user: User) -> AdminUserOut:
    seen = await last_seen(db, [user.id])
    return AdminUserOut.model_validate(user).model_copy(update={"last_seen_at": seen.get(user.id)})


async def delete_user(db: AsyncSession, *, user_id: uuid.UUID) -> bool:
    """Delete the user and everything that is theirs (mailboxes with all their mail, sessions,
    events: ON DELETE CASCADE); False when there is no such user. Blob files go with the
    scheduled blob collection, as those of any deleted message do.

    Safe while their mail syncs or imports: the mailboxes are locked first, as their writers
    lock them (`accounts.service.lock_for_deletion`), so a batch in progress commits whole
    before the deletion goes on and the next one finds its mailbox gone and stops."""
    account_ids = await accounts_service.lock_for_deletion(db, user_id=user_id)
    deleted = await db.execute(delete(User).where(User.id == user_id))
    if affected_rows(deleted) == 0:
        return False
    for account_id in account_ids:
        # Wakes the engine now, so a worker still holding the mailbox lets go of it.
        request_sync(db, account_id)
    return True
