"""Shapes of the mail API: folders, thread lists, a thread's messages, actions."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from postwise.mail.actions import Action


class FolderOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str = Field(description="The server's full path, e.g. `INBOX` or `Work/Clients`.")
    display_name: str = Field(description="The last path segment, for menus.")
    delimiter: str | None
    role: str | None = Field(
        description="inbox, sent, drafts, trash, junk, archive, all, or null for own folders."
    )
    selectable: bool
    total_count: int
    unread_count: int


class FolderList(BaseModel):
    items: list[FolderOut]


class Participant(BaseModel):
    name: str
    address: str


class ThreadLabel(BaseModel):
    folder_id: uuid.UUID
    name: str
    role: str | None


class ThreadSummary(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    subject: str
    snippet: str = Field(description="Of the newest message.")
    participants: list[Participant] = Field(
        description="Senders in the order they first wrote, each once."
    )
    message_count: int
    unread: bool
    unread_count: int
    starred: bool
    has_attachments: bool
    last_message_at: datetime
    labels: list[ThreadLabel] = Field(description="The folders holding its messages.")
    priority: float | None = Field(
        default=None, description="The assistant's priority (0-1) of its most important message."
    )
    important: bool = Field(
        default=False, description="In the Important section (learned, or marked by the user)."
    )
    category: str | None = Field(default=None, description="Of its newest triaged message.")
    needs_reply: bool = Field(default=False, description="Its newest message awaits a reply.")


class ThreadPage(BaseModel):
    items: list[ThreadSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class AddressOut(BaseModel):
    name: str
    address: str


class AttachmentOut(BaseModel):
    position: int = Field(description="`n` in the download URL.")
    filename: str
    content_type: str
    size: int
    content_id: str | None
    is_inline: bool
    url: str


class ActionItemOut(BaseModel):
    text: str
    due: date | None = None


class MessageOut(BaseModel):
    id: int
    thread_id: uuid.UUID | None
    account_id: uuid.UUID
    folder_id: uuid.UUID
    message_id: str | None
    subject: str
    from_: AddressOut = Field(alias="from", serialization_alias="from")
    to: list[AddressOut]
    cc: list[AddressOut]
    bcc: list[AddressOut]
    reply_to: list[AddressOut]
    sent_at: datetime | None
    received_at: datetime
    is_read: bool
    is_starred: bool
    is_answered: bool
    is_draft: bool
    snippet: str
    body_text: str
    body_html: str | None = Field(
        description="Sanitised. Remote images are blocked unless `show_images` is on."
    )
    quote_offset: int | None
    signature_offset: int | None
    has_remote_images: bool
    has_tracking_pixel: bool
    show_images: bool
    list_unsubscribe: str | None
    parse_error: str | None
    attachments: list[AttachmentOut]
    # The assistant's triage (all None until the message has been looked at).
    category: str | None = None
    needs_reply: bool | None = None
    needs_reply_confidence: float | None = None
    priority: float | None = Field(default=None, description="0-1, learned per user.")
    priority_bucket: str | None = Field(default=None, description="high, medium or low.")
    important: bool | None = None
    reasons: list[str] | None = Field(
        default=None, description="Why it has this priority, in plain words."
    )
    summary: str | None = Field(default=None, description="One line.")
    action_items: list[ActionItemOut] | None = None

    model_config = {"populate_by_name": True}


class ThreadDetail(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    subject: str
    message_count: int
    unread_count: int
    last_message_at: datetime
    labels: list[ThreadLabel]
    messages: list[MessageOut] = Field(
        description="Oldest first; a mail held in several folders (Gmail's All Mail) once."
    )


class ThreadActionRequest(BaseModel):
    thread_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    action: Action
    folder: uuid.UUID | None = Field(
        default=None, description="The target folder's id, for `move` only."
    )
    source_folder: uuid.UUID | None = Field(
        default=None,
        description="Only the threads' messages in this folder. An undo sends this: taking "
        "back an archive moves what is in Archive now back to the inbox, not the thread's "
        "copies in Sent.",
    )


class ThreadActionResult(BaseModel):
    thread_ids: list[uuid.UUID] = Field(description="The threads that were changed.")
    message_count: int = Field(description="Messages changed.")


class MessageUpdate(BaseModel):
    show_images: bool
