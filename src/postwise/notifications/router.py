"""/api/notifications: the signed-in user's notification centre."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from postwise.auth.deps import SignedIn
from postwise.deps import SessionDep
from postwise.kit.errors import problem_responses
from postwise.kit.ids import not_found_if_invalid
from postwise.notifications import service
from postwise.notifications.schemas import MAX_PAGE, MarkRead, MarkReadResult, NotificationPage

router = APIRouter(
    prefix="/api/notifications", tags=["notifications"], responses=problem_responses(401, 422)
)
NotificationId = Annotated[uuid.UUID, Path(), not_found_if_invalid("notification")]


@router.get(
    "",
    description="Newest first, keyset-paginated: pass `next_cursor` back as `cursor`. "
    "`unread_count` counts every unread notification of the user, whatever the page.",
)
async def list_notifications(
    user: SignedIn,
    db: SessionDep,
    unread_only: bool = False,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> NotificationPage:
    return await service.list_page(db, user.id, unread_only=unread_only, limit=limit, cursor=cursor)


@router.post(
    "/read",
    description="Mark `ids` (the user's own; others are ignored) or, with `all: true`, every "
    "notification as read.",
)
async def mark_read(body: MarkRead, user: SignedIn, db: SessionDep) -> MarkReadResult:
    updated = await service.mark_read(db, user.id, ids=body.ids, every=body.all)
    return MarkReadResult(updated=updated, unread_count=await service.unread_count(db, user.id))


@router.delete("/{notification_id}", status_code=204, responses=problem_responses(404))
async def delete_notification(
    notification_id: NotificationId, user: SignedIn, db: SessionDep
) -> Response:
    await service.remove(db, user.id, notification_id)
    return Response(status_code=204)
