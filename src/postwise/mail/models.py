"""The local mirror: folders, threads, messages and attachments, all owned by one user.

`user_id` is repeated on every table so every query can filter by owner without a join (no
IDOR by construction), and the indexes serve the mail API: keyset pagination by date, unread
counts per folder, threads by their newest message.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from postwise.db import Base, UtcDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Folder(Base):
    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mail_accounts.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)  # the server's full path
    delimiter: Mapped[str | None] = mapped_column(String(4))
    role: Mapped[str | None] = mapped_column(String(16))  # inbox, sent, drafts, trash, ...
    attributes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    selectable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    # Every UID below this has been looked at (fetched, or skipped as outside the window).
    uidnext: Mapped[int] = mapped_column(BigInteger, nullable=False, default=1)
    # The lowest UID fetched so far: backfill walks down from here to 1.
    backfill_uid: Mapped[int | None] = mapped_column(BigInteger)
    highestmodseq: Mapped[int | None] = mapped_column(BigInteger)
    total_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unread_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The sizes of the messages stored here, summed with the counts (`refresh_folder_counts`):
    # storage per mailbox without summing every message row (the dashboard).
    stored_bytes: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default="0"
    )
    last_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_user_last", "user_id", "last_message_at", "id"),
        Index("ix_threads_account_subject", "account_id", "subject_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mail_accounts.id", ondelete="CASCADE"), nullable=False
    )
    subject: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The subject without Re:/Fwd: prefixes, lower case: the JWZ subject fallback's key.
    subject_key: Mapped[str] = mapped_column(Text, nullable=False, default="")
    gm_thrid: Mapped[int | None] = mapped_column(BigInteger, index=True)
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unread_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    # The rest of the thread list item, kept with the counts by `refresh_threads`: a page of
    # the list reads one row per conversation instead of grouping its messages every time.
    # (An empty server default spelled as SQL: alembic's comparison misreads a bare "".)
    snippet: Mapped[str] = mapped_column(
        Text, nullable=False, default="", server_default=text("''")
    )
    # The first senders as JSON text, [{"name": ..., "address": ...}, ...] (written by
    # `mail.thread_summary`): text, so the list decodes it once, with nothing in between.
    participants: Mapped[str] = mapped_column(
        Text, nullable=False, default="[]", server_default="[]"
    )
    starred: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0"
    )
    has_attachments: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0"
    )
    # The assistant's view of the conversation, kept from its messages' insights by
    # `mail.insights.refresh_thread_insights` (None: nothing triaged yet).
    ai_priority: Mapped[float | None] = mapped_column(Float)
    ai_important: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0"
    )
    ai_category: Mapped[str | None] = mapped_column(String(24))
    ai_needs_reply: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0"
    )


class ThreadFolder(Base):
    """Which folders hold a thread, with the thread's date copied in: the index a folder's
    thread list pages through (newest first, keyset on (last_message_at, thread_id)) without
    grouping the folder's messages on every request. Kept by `mail.thread_folders`, which
    every path that adds, moves, removes or re-threads messages reaches through
    `refresh_threads`."""

    __tablename__ = "thread_folders"
    __table_args__ = (Index("ix_thread_folders_list", "folder_id", "last_message_at", "thread_id"),)

    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    folder_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unread_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Message(Base):
    """One message in one folder, keyed on the server by (folder, uidvalidity, uid).

    Local-only mailboxes (import, demo) have no server: their uids are assigned locally.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("folder_id", "uidvalidity", "uid"),
        Index("ix_messages_folder_date", "folder_id", "received_at", "id"),
        Index("ix_messages_user_date", "user_id", "received_at", "id"),
        Index("ix_messages_account_msgid", "account_id", "message_id"),
        # Threading looks up earlier replies to a new message's id.
        Index("ix_messages_account_irt", "account_id", "in_reply_to"),
        Index("ix_messages_thread", "thread_id", "received_at"),
        # Search: `larger:` finds its few big messages without reading the whole mailbox.
        Index("ix_messages_user_size", "user_id", "size"),
        # Blob collection asks which of a few hundred digests rows still name.
        Index("ix_messages_raw_sha256", "raw_sha256"),
        # The dashboard reads a month of mail (day, folder, sender, Message-ID, thread) from
        # this index alone, never the wide rows (postwise.dashboard.service).
        Index(
            "ix_messages_dashboard",
            "user_id",
            "received_at",
            "folder_id",
            "is_draft",
            "from_address",
            "from_name",
            "message_id",
            "thread_id",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mail_accounts.id", ondelete="CASCADE"), nullable=False
    )
    folder_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("folders.id", ondelete="CASCADE"), nullable=False
    )
    thread_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL")
    )
    uidvalidity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    uid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    modseq: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(Text)  # without <>, as sent
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    references: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    gm_msgid: Mapped[int | None] = mapped_column(BigInteger)
    gm_thrid: Mapped[int | None] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(Text, nullable=False, default="")
    from_name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    from_address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # [{"name": ..., "address": ...}, ...]
    to: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    cc: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    bcc: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    reply_to: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the Date header
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)  # INTERNALDATE
    size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_read: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_starred: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_answered: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_draft: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    keywords: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    snippet: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_html: Mapped[str | None] = mapped_column(Text)  # sanitised, remote images blocked
    # Where quoted text and the signature start in body_text (None: not found), for folding.
    quote_offset: Mapped[int | None] = mapped_column(Integer)
    signature_offset: Mapped[int | None] = mapped_column(Integer)
    has_attachments: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    has_remote_images: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    has_tracking_pixel: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    show_images: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    list_id: Mapped[str | None] = mapped_column(Text)
    list_unsubscribe: Mapped[str | None] = mapped_column(Text)
    raw_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # Set when the message could not be parsed: it is kept raw and counted, never dropped.
    parse_error: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("message_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)  # n in the URL, from 0
    filename: Mapped[str] = mapped_column(Text, nullable=False, default="")
    content_type: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    content_id: Mapped[str | None] = mapped_column(Text)  # for cid: references
    is_inline: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)


class PendingChange(Base):
    """A local action waiting to be written back to the server (durable: survives restarts).

    It names the message the way the server knows it (folder, uidvalidity, uid), so it still
    applies after the local row has moved or gone.
    """

    __tablename__ = "pending_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mail_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    folder_name: Mapped[str] = mapped_column(Text, nullable=False)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    uid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # read, unread, star, unstar, move, delete
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    target_folder: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class MessageInsight(Base):
    """What the assistant made of one message (`postwise.ai` computes it; `mail.insights`
    writes it, as mail owns every message row). One row per triaged message."""

    __tablename__ = "message_insights"
    __table_args__ = (Index("ix_message_insights_user_category", "user_id", "category"),)

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    category: Mapped[str] = mapped_column(String(24), nullable=False)
    # auto (the model) or user (a correction, which later triage never overwrites)
    category_source: Mapped[str] = mapped_column(String(8), nullable=False, default="auto")
    needs_reply: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    needs_reply_confidence: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    priority: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    priority_bucket: Mapped[str] = mapped_column(String(8), nullable=False, default="low")
    # Above the user's threshold, or marked important by the user (important_source "user").
    important: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    important_source: Mapped[str] = mapped_column(String(8), nullable=False, default="auto")
    reasons: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # [{"text": ..., "due": "2026-12-09" | null}, ...]
    action_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    provider: Mapped[str] = mapped_column(String(16), nullable=False, default="local")
    model: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    triaged_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
