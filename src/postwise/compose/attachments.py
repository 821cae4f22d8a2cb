"""A draft's attachments: uploads copied into the blob store, downloads, removal, and the
original's files carried into a forward (or a reply's quoted inline images) by reference.

The bytes live in the content-addressed blob store (mail.blobs) like every attachment of
synced mail: a forwarded file is the same blob, never a second copy. The size limit is checked
while the upload is read, before anything is stored, and again under the draft's lock, so two
uploads at once cannot pass it together.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from fastapi import UploadFile
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import FileResponse

from postwise.compose.access import (
    EDITABLE,
    attachment_out,
    lock_editable,
    not_editable,
    owned_draft,
)
from postwise.compose.models import Draft, DraftAttachment
from postwise.compose.schemas import DraftAttachmentOut
from postwise.config import Settings
from postwise.db import affected_rows
from postwise.kit.errors import ProblemError
from postwise.mail.blobs import BlobStore
from postwise.mail.downloads import attachment_response
from postwise.mail.models import Attachment
from postwise.observability.middleware import RouteBodyLimit

__all__ = [
    "Added",
    "add",
    "copy_from_message",
    "download",
    "limit_detail",
    "remove",
    "upload_body_limit",
]

_READ_CHUNK = 1024 * 1024
_UPLOAD_PATH = re.compile(r"/api/drafts/[^/]+/attachments")
# Boundaries, part headers (a long file name) and the `inline` field around the file.
_MULTIPART_ROOM = 64 * 1024
_MB = 1024 * 1024
# type/subtype as RFC 2045 tokens: the value ends up in a MIME header of the sent message.
_CONTENT_TYPE_RE = re.compile(r"^[a-z0-9!#$&^_.+-]{1,100}/[a-z0-9!#$&^_.+-]{1,100}$")
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")
MAX_FILENAME = 255


@dataclass(frozen=True, slots=True)
class Added:
    out: DraftAttachmentOut
    # The draft's version (unchanged: see `add`), for the mirror job.
    version: int


def upload_body_limit(settings: Settings) -> RouteBodyLimit:
    """The request body limit of the upload route (BodyLimitMiddleware): the attachment limit
    plus room for the multipart framing, so a file up to the limit passes whatever
    POSTWISE_MAX_BODY_BYTES says, and a larger one is refused before it is spooled to disk,
    with the same code as the route's own check."""
    limit = settings.max_attachment_bytes
    return RouteBodyLimit(
        pattern=_UPLOAD_PATH,
        max_bytes=limit + _MULTIPART_ROOM,
        code="attachment_too_large",
        detail=limit_detail(limit),
    )


def limit_detail(limit: int) -> str:
    return f"The attachments of a draft may add up to at most {limit / _MB:.3g} MB."


def too_large(limit: int) -> ProblemError:
    return ProblemError(413, "attachment_too_large", limit_detail(limit), limit=limit)


def safe_filename(name: str | None) -> str:
    """The name without folders (a browser on Windows may send "C:\\Users\\x\\a.pdf"), control
    and bidi-override characters (which disguise "exe.pdf" as "fdp.exe") and line breaks."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = "".join(c for c in base if unicodedata.category(c) not in _UNSAFE_CATEGORIES)
    cleaned = " ".join(cleaned.split())[:MAX_FILENAME]
    return cleaned if cleaned not in ("", ".", "..") else "attachment"


def content_type_for(declared: str | None, filename: str) -> str:
    """The type the upload declared, else one guessed from the name, else octet-stream (which
    browsers also send for "unknown", so it is guessed past as well)."""
    value = (declared or "").split(";")[0].strip().lower()
    if _CONTENT_TYPE_RE.match(value) and value != "application/octet-stream":
        return value
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if guessed and _CONTENT_TYPE_RE.match(guessed.lower()):
        return guessed.lower()
    return "application/octet-stream"


def _read_at_most(source: BinaryIO, budget: int) -> bytes | None:
    """The whole file, or None as soon as it passes `budget` bytes (the rest is never read)."""
    source.seek(0)
    parts: list[bytes] = []
    size = 0
    while chunk := source.read(_READ_CHUNK):
        size += len(chunk)
        if size > budget:
            return None
        parts.append(chunk)
    return b"".join(parts)


async def _total_size(db: AsyncSession, draft_id: uuid.UUID) -> int:
    total = await db.scalar(
        select(func.coalesce(func.sum(DraftAttachment.size), 0)).where(
            DraftAttachment.draft_id == draft_id
        )
    )
    return int(total or 0)


async def add(
    db: AsyncSession,
    user_id: uuid.UUID,
    draft_id: uuid.UUID,
    file: UploadFile,
    *,
    inline: bool,
    settings: Settings,
) -> Added:
    """Store an upload and attach it at the next position. The draft's `version` does not
    change: it guards what the editor writes, and an upload beside an autosave is no conflict
    (the mirror job is still queued, for the same version)."""
    limit = settings.max_attachment_bytes
    draft = await owned_draft(db, user_id, draft_id)
    if draft.status not in EDITABLE:
        raise not_editable(draft.status)
    data = await asyncio.to_thread(
        _read_at_most, file.file, limit - await _total_size(db, draft.id)
    )
    if data is None:
        raise too_large(limit)
    blobs = BlobStore(settings.effective_blob_dir)
    digest = await asyncio.to_thread(blobs.put, data)
    # Under the lock, against what other uploads have committed meanwhile. Refused now, the
    # blob just stored is named by no row and goes with the next collection.
    draft = await lock_editable(db, user_id, draft_id)
    if await _total_size(db, draft.id) + len(data) > limit:
        raise too_large(limit)
    last = await db.scalar(
        select(func.max(DraftAttachment.position)).where(DraftAttachment.draft_id == draft.id)
    )
    filename = safe_filename(file.filename)
    attachment = DraftAttachment(
        draft_id=draft.id,
        user_id=user_id,
        position=0 if last is None else last + 1,
        filename=filename,
        content_type=content_type_for(file.content_type, filename),
        size=len(data),
        sha256=digest,
        is_inline=inline,
        content_id=f"{uuid.uuid4().hex}@postwise" if inline else None,
    )
    db.add(attachment)
    await db.flush()
    return Added(out=attachment_out(attachment), version=draft.version)


async def _owned_attachment(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, position: int
) -> DraftAttachment:
    attachment = await db.scalar(
        select(DraftAttachment).where(
            DraftAttachment.draft_id == draft_id,
            DraftAttachment.user_id == user_id,
            DraftAttachment.position == position,
        )
    )
    if attachment is None:
        raise ProblemError(404, "not_found", "No such attachment.")
    return attachment


async def download(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, position: int, *, settings: Settings
) -> FileResponse:
    await owned_draft(db, user_id, draft_id)
    attachment = await _owned_attachment(db, user_id, draft_id, position)
    return attachment_response(
        BlobStore(settings.effective_blob_dir),
        sha256=attachment.sha256,
        content_type=attachment.content_type,
        filename=attachment.filename or f"attachment-{position}",
    )


async def remove(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, position: int) -> int:
    """Detach one file (the others keep their positions); returns the draft's version."""
    draft = await lock_editable(db, user_id, draft_id)
    removed = await db.execute(
        delete(DraftAttachment)
        .where(DraftAttachment.draft_id == draft.id, DraftAttachment.position == position)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(removed) != 1:
        raise ProblemError(404, "not_found", "No such attachment.")
    return draft.version


def _content_ids(html: str | None) -> set[str]:
    return {m.lower() for m in re.findall(r'cid:([^"\'\s>]+)', html or "", re.IGNORECASE)}


async def copy_from_message(
    db: AsyncSession, draft: Draft, message_id: int, *, inline_only: bool
) -> None:
    """Attach the message's files to a new draft by reference to the same blobs. A forward
    takes them all; a reply (`inline_only`) the inline images its quoted HTML shows."""
    rows = (
        await db.scalars(
            select(Attachment)
            .where(Attachment.message_id == message_id)
            .order_by(Attachment.position)
        )
    ).all()
    if inline_only:
        shown = _content_ids(draft.html)
        rows = [a for a in rows if a.content_id and a.content_id.strip("<>").lower() in shown]
    for position, original in enumerate(rows):
        db.add(
            DraftAttachment(
                draft_id=draft.id,
                user_id=draft.user_id,
                position=position,
                filename=safe_filename(original.filename),
                content_type=original.content_type,
                size=original.size,
                sha256=original.sha256,
                content_id=original.content_id.strip("<>") if original.content_id else None,
                is_inline=original.is_inline,
            )
        )
    await db.flush()
