"""The mail API: folders, threads (keyset pages), a thread's messages, raw source, attachments
and actions on whole threads."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from starlette.responses import FileResponse, Response

from postwise.auth.deps import SignedIn
from postwise.deps import SessionDep, SettingsDep
from postwise.kit.errors import ProblemError, problem_responses
from postwise.kit.ids import MAX_BIGINT, MAX_INT, not_found_if_invalid
from postwise.mail import list_items, listing, pages, reading
from postwise.mail.actions import Action, apply_action
from postwise.mail.blobs import BlobStore
from postwise.mail.downloads import attachment_response
from postwise.mail.insights import insights_of
from postwise.mail.schemas import (
    FolderList,
    MessageOut,
    MessageUpdate,
    ThreadActionRequest,
    ThreadActionResult,
    ThreadDetail,
    ThreadPage,
)
from postwise.mail.tasks import announce_after_commit

router = APIRouter(prefix="/api", tags=["mail"], responses=problem_responses(401, 422))


async def get_blobs(settings: SettingsDep) -> BlobStore:
    return BlobStore(settings.effective_blob_dir)


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# A malformed or out-of-range id is a 404 like any unknown one (postwise.kit.ids).
ThreadId = Annotated[uuid.UUID, PathParam(), not_found_if_invalid("thread")]
MessageId = Annotated[int, PathParam(ge=1, le=MAX_BIGINT), not_found_if_invalid("message")]
AttachmentPosition = Annotated[
    int,
    PathParam(ge=0, le=MAX_INT, description="`position` from the message's `attachments`."),
    not_found_if_invalid("attachment"),
]


@router.get("/folders", response_model=FolderList, responses=problem_responses(404))
async def list_folders(
    user: SignedIn,
    db: SessionDep,
    account_id: Annotated[uuid.UUID | None, Query(description="Only this mailbox's.")] = None,
) -> FolderList:
    return FolderList(items=await listing.list_folders(db, user.id, account_id))


@router.get(
    "/threads",
    response_model=ThreadPage,
    responses=problem_responses(404),
    description="Conversations in a folder, newest first. `folder` is a role (inbox, sent, "
    "drafts, trash, junk, archive, all) or a folder id; a role without `account_id` is the "
    "unified view across every mailbox. Pages are keyset-paginated: pass `next_cursor` back.",
)
async def list_threads(
    user: SignedIn,
    db: SessionDep,
    folder: Annotated[str, Query(max_length=64)] = "inbox",
    account_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    section: Annotated[
        Literal["important", "other"] | None,
        Query(description="The assistant's split: `important` or `other` (everything else)."),
    ] = None,
) -> Response:
    after = listing.decode_cursor(cursor) if cursor else None
    important = None if section is None else section == "important"
    selector = listing.folder_selector(folder)
    # The items' JSON comes from the database as `ThreadPage` would encode it (mail.list_items),
    # in one statement where it can (mail.pages).
    page = await pages.page_json(
        db, user.id, selector, account_id, limit=limit, after=after, important=important
    )
    if page is not None:
        items, next_position = page
    else:
        folder_ids = await listing.resolve_folders(db, user.id, folder, account_id)
        ids, next_position = await listing.page_threads(
            db, user.id, folder_ids, limit=limit, after=after, important=important
        )
        items = await list_items.summaries_json(db, user.id, ids)
    next_cursor = listing.encode_cursor(next_position) if next_position else None
    return Response(list_items.page_body(items, next_cursor), media_type="application/json")


@router.get("/threads/{thread_id}", response_model=ThreadDetail, responses=problem_responses(404))
async def get_thread(user: SignedIn, db: SessionDep, thread_id: ThreadId) -> ThreadDetail:
    return await reading.get_thread(db, user.id, thread_id)


@router.post(
    "/threads/actions",
    response_model=ThreadActionResult,
    responses=problem_responses(404, 409),
    description="Applied to the local copy at once and written back to the server by the "
    "sync engine. `archive` takes the threads out of the inbox; `move` needs `folder` (a "
    "folder of the same mailbox). Threads that are not yours count as not found.",
)
async def thread_actions(
    body: ThreadActionRequest, user: SignedIn, db: SessionDep
) -> ThreadActionResult:
    if body.action is Action.MOVE and body.folder is None:
        raise ProblemError(422, "invalid_folder", "`move` needs `folder`, the target's id.")
    found, message_ids = await reading.thread_message_ids(
        db, user.id, body.thread_ids, action=body.action.value, source_folder=body.source_folder
    )
    if not found:
        raise reading.not_found("thread")
    changed = await apply_action(
        db, user_id=user.id, message_ids=message_ids, action=body.action, folder_id=body.folder
    )
    announce_after_commit(db, user.id, threads=found, messages=changed)
    return ThreadActionResult(thread_ids=found, message_count=len(changed))


@router.patch(
    "/messages/{message_id}",
    response_model=MessageOut,
    responses=problem_responses(404),
    description="The per-message switch for remote images (off by default).",
)
async def update_message(
    body: MessageUpdate,
    user: SignedIn,
    db: SessionDep,
    message_id: MessageId,
) -> MessageOut:
    message = await reading.owned_message(db, user.id, message_id)
    message.show_images = body.show_images
    await db.flush()
    attachments = await reading.message_attachments(db, message)
    insight = (await insights_of(db, user.id, [message.id])).get(message.id)
    return reading.message_out(message, attachments, insight)


@router.get(
    "/messages/{message_id}/raw",
    response_class=FileResponse,
    responses={**problem_responses(404), 200: {"content": {"message/rfc822": _BINARY}}},
    description="The message exactly as the server gave it.",
)
async def raw_message(
    user: SignedIn,
    db: SessionDep,
    blobs: BlobsDep,
    message_id: MessageId,
) -> FileResponse:
    message = await reading.owned_message(db, user.id, message_id)
    path = blobs.path(message.raw_sha256)
    if not path.is_file():
        raise ProblemError(404, "blob_missing", "The stored copy of this message is missing.")
    return FileResponse(
        path,
        media_type="message/rfc822",
        filename=f"message-{message.id}.eml",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get(
    "/messages/{message_id}/attachments/{position}",
    response_class=FileResponse,
    responses={
        **problem_responses(404),
        200: {"description": "The attachment, with its own type.", "content": {"*/*": _BINARY}},
    },
    description="Always a download (`Content-Disposition: attachment`) with the declared "
    "type; active content (HTML, SVG, XML) is sandboxed should a browser open it anyway.",
)
async def download_attachment(
    user: SignedIn,
    db: SessionDep,
    blobs: BlobsDep,
    message_id: MessageId,
    position: AttachmentPosition,
) -> FileResponse:
    message = await reading.owned_message(db, user.id, message_id)
    attachment = await reading.owned_attachment(db, message, position)
    return attachment_response(
        blobs,
        sha256=attachment.sha256,
        content_type=attachment.content_type,
        filename=attachment.filename or f"attachment-{position}",
    )
