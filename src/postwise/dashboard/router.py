"""GET /api/dashboard: everything the dashboard screen shows, in one answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from postwise.auth.deps import SignedIn
from postwise.dashboard import service
from postwise.dashboard.calendar import parse_timezone
from postwise.dashboard.schemas import Dashboard
from postwise.db import utcnow
from postwise.deps import SessionDep
from postwise.kit.errors import problem_responses

router = APIRouter(prefix="/api", tags=["dashboard"], responses=problem_responses(401, 422))


@router.get(
    "/dashboard",
    response_model=Dashboard,
    description="Mail received and sent per day over the last `days` days (the days of the "
    "time zone `tz`, an IANA name such as Europe/Paris, zero-filled), the top senders of that "
    "window (your own addresses left out), unread mail per folder, conversations waiting for "
    f"an answer to you (your mail is the newest, sent in the window more than "
    f"{service.WAITING_AFTER_DAYS} days ago; the count and the {service.WAITING_SHOWN} oldest), "
    "and each mailbox's sync state and storage. A `tz` that is not a known zone answers 422 "
    "`invalid_timezone`.",
)
async def get_dashboard(
    user: SignedIn,
    db: SessionDep,
    days: Annotated[int, Query(ge=7, le=90, description="The window, in days.")] = 30,
    tz: Annotated[
        str, Query(max_length=64, description="The IANA time zone the days are counted in.")
    ] = "UTC",
) -> Dashboard:
    zone = parse_timezone(tz)
    return await service.build_dashboard(db, user_id=user.id, tz=zone, days=days, now=utcnow())
