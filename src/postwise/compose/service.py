"""PLACEHOLDER: replaced by the drafts/outbox service (helper H1)."""

from __future__ import annotations

import uuid

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import FileResponse

from postwise.compose.schemas import (
    DraftAttachmentOut,
    DraftCreate,
    DraftList,
    DraftOut,
    DraftUpdate,
    OutboxEntry,
    OutboxList,
    SendRequest,
)
from postwise.config import Settings
from postwise.users.models import User


async def list_drafts(
    db: AsyncSession, user_id: uuid.UUID, *, account_id: uuid.UUID | None
) -> DraftList:
    raise NotImplementedError


async def create_draft(
    db: AsyncSession, user: User, body: DraftCreate, *, settings: Settings
) -> DraftOut:
    raise NotImplementedError


async def get_draft(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> DraftOut:
    raise NotImplementedError


async def update_draft(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, body: DraftUpdate
) -> DraftOut:
    raise NotImplementedError


async def delete_draft(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> None:
    raise NotImplementedError


async def add_attachment(
    db: AsyncSession,
    user_id: uuid.UUID,
    draft_id: uuid.UUID,
    file: UploadFile,
    *,
    inline: bool,
    settings: Settings,
) -> DraftAttachmentOut:
    raise NotImplementedError


async def attachment_file(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, position: int, *, settings: Settings
) -> FileResponse:
    raise NotImplementedError


async def delete_attachment(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, position: int
) -> None:
    raise NotImplementedError


async def send_draft(
    db: AsyncSession, user: User, draft_id: uuid.UUID, body: SendRequest, *, settings: Settings
) -> OutboxEntry:
    raise NotImplementedError


async def list_outbox(db: AsyncSession, user_id: uuid.UUID) -> OutboxList:
    raise NotImplementedError


async def cancel_send(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> DraftOut:
    raise NotImplementedError
