"""Shapes of the compose API: drafts, their attachments, the outbox, identities and contacts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from postwise.accounts.schemas import DisplayName, Email, SingleLine
from postwise.compose.models import ComposeMode, DraftStatus, SentCopy
from postwise.kit.text import NO_NUL

# Subjects and names become mail headers: `SingleLine` refuses CR, LF and every other control
# character (header injection) with a 422 naming the field.
Subject = Annotated[str, Field(max_length=998), SingleLine]
# No NUL: no PostgreSQL text column holds one (docs/api.md, "Errors").
Body = Annotated[str, Field(max_length=5_000_000, pattern=NO_NUL)]


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: DisplayName = ""
    address: Email


Recipients = Annotated[list[Recipient], Field(max_length=500)]


class DraftCreate(BaseModel):
    """A new draft. With `mode` reply, reply_all or forward and the message it answers, the
    server fills in what is left out (null): recipients, subject, quoted original, signature
    and the threading headers. Fields that are sent win over the prefill."""

    model_config = ConfigDict(extra="forbid")

    account_id: uuid.UUID | None = Field(
        default=None,
        description="The mailbox to send from. Default: the one holding the message replied "
        "to or forwarded, else the user's first mailbox.",
    )
    from_address: Email | None = Field(
        default=None, description="The mailbox's address or one of its send-as addresses."
    )
    to: Recipients | None = None
    cc: Recipients | None = None
    bcc: Recipients | None = None
    subject: Subject | None = None
    text: Body | None = None
    html: Body | None = Field(default=None, description="Sanitised on save.")
    reply_to_message_id: int | None = Field(default=None, ge=1)
    forward_of_message_id: int | None = Field(default=None, ge=1)
    mode: ComposeMode = ComposeMode.NEW


class DraftUpdate(BaseModel):
    """An autosave: only the fields sent change. `version` is the version the editor last
    saw; an older one is refused (409 `draft_conflict`) so a late autosave never overwrites a
    newer one."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1)
    account_id: uuid.UUID | None = Field(
        default=None,
        description="Send from another of your mailboxes (attachments stay); `from_address` "
        "becomes that mailbox's address unless it is sent too.",
    )
    from_address: Email | None = None
    to: Recipients | None = None
    cc: Recipients | None = None
    bcc: Recipients | None = None
    subject: Subject | None = None
    text: Body | None = None
    html: Body | None = None
    plain_text: bool | None = Field(
        default=None, description="true drops the HTML part: the message is sent as plain text."
    )


class DraftAttachmentOut(BaseModel):
    position: int = Field(description="n in `/api/drafts/{id}/attachments/{n}`.")
    filename: str
    content_type: str
    size: int
    is_inline: bool
    content_id: str | None


class DraftOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    status: DraftStatus
    mode: ComposeMode
    from_address: str
    to: list[Recipient]
    cc: list[Recipient]
    bcc: list[Recipient]
    subject: str
    text: str
    html: str | None
    plain_text: bool = Field(description="No HTML part: the message is sent as plain text.")
    reply_to_message_id: int | None
    forward_of_message_id: int | None
    thread_id: uuid.UUID | None
    in_reply_to: str | None
    references: list[str]
    message_id: str = Field(description="The Message-ID it will be sent with (without <>).")
    version: int
    attachments: list[DraftAttachmentOut]
    send_at: datetime | None
    error_code: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class DraftSummary(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    status: DraftStatus
    mode: ComposeMode
    to: list[Recipient]
    subject: str
    snippet: str
    has_attachments: bool
    thread_id: uuid.UUID | None
    updated_at: datetime


class DraftList(BaseModel):
    items: list[DraftSummary]


class SendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    send_at: AwareDatetime | None = Field(
        default=None,
        description="Scheduled send (with a time zone). Default: now plus the user's undo window.",
    )
    version: int | None = Field(
        default=None, ge=1, description="As in PATCH: refuse if the draft changed since."
    )


class OutboxEntry(BaseModel):
    id: uuid.UUID = Field(description="The draft's id: cancelling turns it back into that draft.")
    account_id: uuid.UUID
    status: DraftStatus
    to: list[Recipient]
    cc: list[Recipient]
    bcc: list[Recipient]
    subject: str
    message_id: str
    thread_id: uuid.UUID | None
    send_at: datetime | None
    scheduled: bool
    attempts: int
    next_attempt_at: datetime | None
    error_code: str | None
    last_error: str | None
    smtp_reply: str | None = Field(description="The SMTP server's last reply, as it said it.")
    sent_at: datetime | None
    sent_copy: SentCopy | None
    updated_at: datetime


class OutboxList(BaseModel):
    items: list[OutboxEntry]


class SendAs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: DisplayName = ""
    address: Email


class Identity(BaseModel):
    """Who a mailbox sends as: its name, more addresses it may send from, its signature."""

    model_config = ConfigDict(extra="forbid")

    sender_name: DisplayName = Field(
        default="",
        description="The name recipients see beside the address (empty: the address alone).",
    )
    send_as: Annotated[list[SendAs], Field(max_length=50)] = Field(default_factory=list)
    signature_text: Annotated[str, Field(max_length=10_000, pattern=NO_NUL)] = ""
    signature_html: Annotated[str, Field(max_length=50_000, pattern=NO_NUL)] = Field(
        default="", description="Sanitised on save."
    )


class IdentityOut(Identity):
    account_id: uuid.UUID
    email: str


class ContactOut(BaseModel):
    name: str
    address: str
    sent_count: int
    received_count: int
    last_seen_at: datetime


class ContactList(BaseModel):
    items: list[ContactOut]
