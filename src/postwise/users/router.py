"""/api/users/me and the admin's /api/admin/users, /api/admin/events, /api/admin/invites and
/api/admin/settings."""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth import registration
from postwise.auth.deps import AdminUser, ClientDep, CurrentUser
from postwise.auth.kit import AuthKitDep
from postwise.auth.queries import MAX_PAGE, list_events
from postwise.auth.schemas import EventPage
from postwise.config import Settings
from postwise.deps import SessionDep, SettingsDep
from postwise.instance import service as instance
from postwise.instance.schemas import InstanceSettingsOut, InstanceSettingsUpdate
from postwise.kit.emails import normalise_email
from postwise.kit.errors import ProblemError, problem_responses
from postwise.kit.ids import MAX_BIGINT, not_found_if_invalid
from postwise.kit.text import NO_NUL
from postwise.users import service
from postwise.users.schemas import (
    AdminUpdate,
    AdminUserOut,
    InviteOut,
    InviteRequest,
    UpdateMe,
    UserOut,
    UserPage,
)

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/users", tags=["users"], responses=problem_responses(401, 422))
admin_router = APIRouter(
    prefix="/api/admin", tags=["admin"], responses=problem_responses(401, 403, 404, 409, 422)
)


@router.get("/me")
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.patch("/me")
async def update_me(body: UpdateMe, user: CurrentUser, db: SessionDep) -> UserOut:
    if body.name is not None:
        user.name = body.name.strip()
    if body.new_mail_notifications is not None:
        user.new_mail_notifications = body.new_mail_notifications
    if body.send_undo_seconds is not None:
        user.send_undo_seconds = body.send_undo_seconds
    await db.flush()
    return UserOut.model_validate(user)


@admin_router.get("/users")
async def admin_list_users(
    admin: AdminUser,
    db: SessionDep,
    q: Annotated[
        str, Query(max_length=320, pattern=NO_NUL, description="Part of a name or address.")
    ] = "",
    # Beyond a BIGINT the database driver would overflow rather than answer an empty page.
    offset: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> UserPage:
    return await service.search_users(db, query=q, offset=offset, limit=limit)


@admin_router.patch("/users/{user_id}")
async def admin_update_user(
    user_id: Annotated[uuid.UUID, Path(), not_found_if_invalid("user")],
    body: AdminUpdate,
    admin: AdminUser,
    db: SessionDep,
    kit: AuthKitDep,
    client: ClientDep,
) -> AdminUserOut:
    user = await service.admin_update(
        db, kit, admin=admin, user_id=user_id, changes=body, client=client
    )
    return await service.admin_user_out(db, user)


@admin_router.get("/events")
async def admin_events(
    admin: AdminUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    user_id: uuid.UUID | None = None,
    type: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
) -> EventPage:
    return await list_events(db, user_id=user_id, limit=limit, cursor=cursor, event_type=type)


@admin_router.post("/invites", status_code=201)
async def admin_invite(
    body: InviteRequest, admin: AdminUser, db: SessionDep, kit: AuthKitDep
) -> InviteOut:
    email = None
    if body.email:
        try:
            email = normalise_email(body.email)
        except ValueError as error:
            raise ProblemError(422, "validation_error", str(error)) from error
    token, link = await registration.create_invite(db, kit, inviter=admin, email=email)
    return InviteOut(token=token, link=link)


async def _instance_settings(db: AsyncSession, settings: Settings) -> InstanceSettingsOut:
    stored = await instance.stored_registration_mode(db)
    return InstanceSettingsOut(
        registration=stored or settings.registration,
        registration_source="environment" if stored is None else "admin",
        registration_default=settings.registration,
    )


@admin_router.get("/settings")
async def admin_settings(
    admin: AdminUser, db: SessionDep, settings: SettingsDep
) -> InstanceSettingsOut:
    return await _instance_settings(db, settings)


@admin_router.put(
    "/settings",
    description="Who may sign up: `open`, `invite` or `closed`, stored for the instance and "
    "applied from the next sign-up on; `null` hands the choice back to POSTWISE_REGISTRATION.",
)
async def admin_update_settings(
    body: InstanceSettingsUpdate, admin: AdminUser, db: SessionDep, settings: SettingsDep
) -> InstanceSettingsOut:
    await instance.set_registration_mode(db, body.registration)
    log.info("registration_mode_changed", mode=body.registration, admin_id=str(admin.id))
    return await _instance_settings(db, settings)
