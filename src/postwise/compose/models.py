"""Drafts, the outbox and the address book of past correspondents.

A draft and its outbox entry are one row: sending turns `status` from draft to queued, cancelling
turns it back, and the content (and its attachments) never moves, so nothing typed is lost
between the two. `message_id` is fixed when the draft is created: it is the Message-ID header of
what is finally sent and the key that makes delivery idempotent (`compose.delivery`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from postwise.db import Base, UtcDateTime, utcnow


class DraftStatus(StrEnum):
    DRAFT = "draft"
    # In the outbox: waiting for its undo window or scheduled time, or for a retry.
    QUEUED = "queued"
    # Claimed by a worker that is talking to the SMTP server now.
    SENDING = "sending"
    SENT = "sent"
    # Stopped: a permanent refusal, retries used up, or a delivery that may or may not have
    # happened (the worker died after handing the message over). Kept until the user edits it.
    FAILED = "failed"


class ComposeMode(StrEnum):
    NEW = "new"
    REPLY = "reply"
    REPLY_ALL = "reply_all"
    FORWARD = "forward"


class SentCopy(StrEnum):
    """The copy in the server's Sent folder, after delivery."""

    PENDING = "pending"
    DONE = "done"
    # The server files sent mail itself (Gmail), or the mailbox has no Sent folder.
    SKIPPED = "skipped"
    FAILED = "failed"


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (
        Index("ix_drafts_user_status", "user_id", "status", "updated_at"),
        # The outbox sweep: due entries and expired claims.
        Index("ix_drafts_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mail_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DraftStatus.DRAFT)
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default=ComposeMode.NEW)
    # The sender: the mailbox's own address or one of its send-as addresses ("" = its own).
    from_address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # [{"name": ..., "address": ...}, ...], as in messages.
    to: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    cc: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    bcc: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    subject: Mapped[str] = mapped_column(Text, nullable=False, default="")
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # What the rich editor wrote (sanitised on save); None: a plain-text message.
    html: Mapped[str | None] = mapped_column(Text)
    reply_to_message_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="SET NULL")
    )
    forward_of_message_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="SET NULL")
    )
    # The conversation a reply or forward belongs to: the sent copy is filed into it at once.
    thread_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL")
    )
    in_reply_to: Mapped[str | None] = mapped_column(Text)  # without <>
    references: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    message_id: Mapped[str] = mapped_column(Text, nullable=False)  # without <>
    # Bumped by every save: autosaves that cross on the wire, and mirror jobs for an older
    # version, are recognised and dropped.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    # The outbox.
    send_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # end of undo / schedule
    scheduled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # A worker's claim on a SENDING entry; past it, the sweep looks at what happened.
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set (and committed) just before the message body goes to the SMTP server: an entry
    # found SENDING with this set may have been delivered, and is never sent again by itself.
    data_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    error_code: Mapped[str | None] = mapped_column(String(50))
    last_error: Mapped[str | None] = mapped_column(Text)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    # The built message (a blob), fixed when it is queued: every attempt sends the same bytes.
    raw_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_copy: Mapped[str | None] = mapped_column(String(16))

    # The copy in the server's Drafts folder (replaced on every save).
    mirror_folder: Mapped[str | None] = mapped_column(Text)
    mirror_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    mirror_uid: Mapped[int | None] = mapped_column(BigInteger)
    mirrored_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )


class DraftAttachment(Base):
    __tablename__ = "draft_attachments"
    __table_args__ = (UniqueConstraint("draft_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    draft_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)  # n in the URL, from 0
    filename: Mapped[str] = mapped_column(Text, nullable=False, default="")
    content_type: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    content_id: Mapped[str | None] = mapped_column(Text)  # inline images: cid: in the HTML
    is_inline: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class Contact(Base):
    """Someone the user has corresponded with, for address autocomplete."""

    __tablename__ = "contacts"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower case
    name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Mail the user sent to this address (To/Cc), and received from it.
    sent_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    received_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class ContactScan(Base):
    """How far the address book has read the user's messages (by message id)."""

    __tablename__ = "contact_scans"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_message_id: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
