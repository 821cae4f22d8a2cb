"""The compose API: drafts (autosaved), their attachments, sending through the outbox,
identities and signatures, and the address book for autocomplete (docs/api.md, "Compose")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi import Path as PathParam
from starlette.responses import FileResponse

from postwise.auth.deps import CurrentUser
from postwise.auth.throttle import SEND, throttled
from postwise.compose import contacts, identity, service
from postwise.compose.schemas import (
    ContactList,
    DraftAttachmentOut,
    DraftCreate,
    DraftList,
    DraftOut,
    DraftUpdate,
    Identity,
    IdentityOut,
    OutboxEntry,
    OutboxList,
    SendRequest,
)
from postwise.deps import SessionDep, SettingsDep
from postwise.kit.errors import problem_responses
from postwise.kit.ids import MAX_INT, not_found_if_invalid

router = APIRouter(prefix="/api", tags=["compose"], responses=problem_responses(401, 422))

DraftId = Annotated[uuid.UUID, PathParam(), not_found_if_invalid("draft")]
AccountId = Annotated[uuid.UUID, PathParam(), not_found_if_invalid("account")]
AttachmentPosition = Annotated[int, PathParam(ge=0, le=MAX_INT), not_found_if_invalid("attachment")]
_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get("/drafts", response_model=DraftList, responses=problem_responses(404))
async def list_drafts(
    user: CurrentUser,
    db: SessionDep,
    account_id: Annotated[uuid.UUID | None, Query(description="Only this mailbox's.")] = None,
) -> DraftList:
    return await service.list_drafts(db, user.id, account_id=account_id)


@router.post(
    "/drafts",
    response_model=DraftOut,
    status_code=201,
    responses=problem_responses(404, 409),
    description="Stored at once and mirrored to the server's Drafts folder by a job.",
)
async def create_draft(
    body: DraftCreate, user: CurrentUser, db: SessionDep, settings: SettingsDep
) -> DraftOut:
    return await service.create_draft(db, user, body, settings=settings)


@router.get("/drafts/{draft_id}", response_model=DraftOut, responses=problem_responses(404))
async def get_draft(user: CurrentUser, db: SessionDep, draft_id: DraftId) -> DraftOut:
    return await service.get_draft(db, user.id, draft_id)


@router.patch(
    "/drafts/{draft_id}",
    response_model=DraftOut,
    responses=problem_responses(404, 409),
    description="Autosave. 409 `draft_conflict` when `version` is older than the stored one; "
    "409 `draft_not_editable` once it is in the outbox (cancel it first).",
)
async def update_draft(
    body: DraftUpdate, user: CurrentUser, db: SessionDep, draft_id: DraftId
) -> DraftOut:
    return await service.update_draft(db, user.id, draft_id, body)


@router.delete(
    "/drafts/{draft_id}",
    status_code=204,
    responses=problem_responses(404, 409),
    description="Discards the draft and its copy in the server's Drafts folder.",
)
async def delete_draft(user: CurrentUser, db: SessionDep, draft_id: DraftId) -> Response:
    await service.delete_draft(db, user.id, draft_id)
    return Response(status_code=204)


async def _draft_to_attach_to(user: CurrentUser, db: SessionDep, draft_id: DraftId) -> uuid.UUID:
    # A dependency runs before the form's fields are validated: an unknown draft is 404
    # whatever the body holds, as for every other id in a path.
    await service.check_draft(db, user.id, draft_id)
    return draft_id


@router.post(
    "/drafts/{draft_id}/attachments",
    response_model=DraftAttachmentOut,
    status_code=201,
    responses=problem_responses(400, 404, 409, 413),
    description="A multipart upload (field `file`), streamed to the blob store; a body that "
    "is no multipart form is 400 `bad_request`. 413 "
    "`attachment_too_large` when the draft's attachments would exceed the size limit. "
    "`inline` marks an image the HTML shows by its `cid:`.",
)
async def add_attachment(
    user: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
    draft_id: Annotated[uuid.UUID, Depends(_draft_to_attach_to)],
    file: Annotated[UploadFile, File()],
    inline: Annotated[bool, Form()] = False,
) -> DraftAttachmentOut:
    return await service.add_attachment(
        db, user.id, draft_id, file, inline=inline, settings=settings
    )


@router.get(
    "/drafts/{draft_id}/attachments/{position}",
    response_class=FileResponse,
    responses={
        **problem_responses(404),
        200: {"description": "The attachment, as a download.", "content": {"*/*": _BINARY}},
    },
)
async def download_attachment(
    user: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
    draft_id: DraftId,
    position: AttachmentPosition,
) -> FileResponse:
    return await service.attachment_file(db, user.id, draft_id, position, settings=settings)


@router.delete(
    "/drafts/{draft_id}/attachments/{position}",
    status_code=204,
    responses=problem_responses(404, 409),
)
async def delete_attachment(
    user: CurrentUser, db: SessionDep, draft_id: DraftId, position: AttachmentPosition
) -> Response:
    await service.delete_attachment(db, user.id, draft_id, position)
    return Response(status_code=204)


@router.post(
    "/drafts/{draft_id}/send",
    response_model=OutboxEntry,
    status_code=202,
    responses=problem_responses(404, 409, 429),
    dependencies=[throttled(SEND)],
    description="Moves the draft to the outbox: it leaves when the user's undo window (or "
    "`send_at`) has passed, unless cancelled. 422 names a missing or invalid recipient; 409 "
    "`smtp_not_configured` for a mailbox that cannot send.",
)
async def send_draft(
    user: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
    draft_id: DraftId,
    body: SendRequest | None = None,
) -> OutboxEntry:
    return await service.send_draft(db, user, draft_id, body or SendRequest(), settings=settings)


@router.get(
    "/outbox",
    response_model=OutboxList,
    description="Messages waiting to leave, being sent, failed, and those sent in the last day.",
)
async def list_outbox(user: CurrentUser, db: SessionDep) -> OutboxList:
    return await service.list_outbox(db, user.id)


@router.post(
    "/outbox/{draft_id}/cancel",
    response_model=DraftOut,
    responses=problem_responses(404, 409),
    description="Undo send: the entry turns back into a draft. 409 `already_sent` once the "
    "message has started to leave.",
)
async def cancel_send(user: CurrentUser, db: SessionDep, draft_id: DraftId) -> DraftOut:
    return await service.cancel_send(db, user.id, draft_id)


@router.get(
    "/accounts/{account_id}/identity",
    response_model=IdentityOut,
    responses=problem_responses(404),
)
async def get_identity(user: CurrentUser, db: SessionDep, account_id: AccountId) -> IdentityOut:
    return await identity.get_identity(db, user.id, account_id)


@router.put(
    "/accounts/{account_id}/identity",
    response_model=IdentityOut,
    responses=problem_responses(404),
    description="The display name, extra send-as addresses and the signature.",
)
async def put_identity(
    body: Identity, user: CurrentUser, db: SessionDep, account_id: AccountId
) -> IdentityOut:
    return await identity.put_identity(db, user.id, account_id, body)


@router.get(
    "/contacts",
    response_model=ContactList,
    description="People the user has corresponded with, best match first: mail sent to them "
    "counts more than mail received from them, and recent more than old.",
)
async def list_contacts(
    user: CurrentUser,
    db: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> ContactList:
    return await contacts.search_contacts(db, user.id, q, limit=limit)
