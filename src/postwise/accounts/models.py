"""Connected mailboxes: where they live, how to sign in (encrypted), and who syncs them now."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from postwise.db import Base, UtcDateTime, utcnow


class AccountKind(StrEnum):
    IMAP = "imap"
    # Imported or demo mail: no server behind it, actions apply to the database only.
    LOCAL = "local"


class Security(StrEnum):
    SSL = "ssl"
    STARTTLS = "starttls"
    NONE = "none"


class SyncState(StrEnum):
    INITIAL = "initial"
    SYNCING = "syncing"
    IDLE = "idle"
    ERROR = "error"


class MailAccount(Base):
    __tablename__ = "mail_accounts"
    __table_args__ = (UniqueConstraint("user_id", "email"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=AccountKind.IMAP)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    username: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    # Fernet token of the password, with a key derived from the server secret (rotatable).
    credentials: Mapped[str | None] = mapped_column(Text)
    imap_host: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    imap_port: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    imap_security: Mapped[str] = mapped_column(String(16), nullable=False, default=Security.SSL)
    smtp_host: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    smtp_port: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    smtp_security: Mapped[str] = mapped_column(String(16), nullable=False, default=Security.SSL)
    # The identity mail is sent as: more addresses this mailbox may send from
    # (JSON text, [{"name": ..., "address": ...}]: a JSON column's server default cannot be
    # compared on PostgreSQL), and the signature the composer inserts.
    send_as: Mapped[str] = mapped_column(Text, nullable=False, default="[]", server_default="[]")
    # The name recipients see beside the address (the user's name when the mailbox is added);
    # display_name is how Postwise lists the mailbox ("Work"), which is not a sender's name.
    sender_name: Mapped[str] = mapped_column(
        String(200), nullable=False, default="", server_default=text("''")
    )
    signature_text: Mapped[str] = mapped_column(
        Text, nullable=False, default="", server_default=text("''")
    )
    signature_html: Mapped[str] = mapped_column(
        Text, nullable=False, default="", server_default=text("''")
    )
    # Mail newer than this many days is fetched first; older mail is backfilled afterwards.
    sync_window_days: Mapped[int] = mapped_column(Integer, nullable=False, default=90)
    sync_state: Mapped[str] = mapped_column(String(16), nullable=False, default=SyncState.INITIAL)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(50))
    last_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    capabilities: Mapped[str] = mapped_column(Text, nullable=False, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The lease: which worker syncs this mailbox, until when (renewed by its heartbeat).
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )
