"""What a user must see in the app: a mailbox that broke, a finished import, a new sign-in."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from postwise.db import Base, UtcDateTime, utcnow


class NotificationKind(StrEnum):
    MAILBOX_ERROR = "mailbox_error"
    IMPORT_FINISHED = "import_finished"
    NEW_SIGN_IN = "new_sign_in"
    # A message in the outbox that will not leave by itself (refused, or may have been sent).
    SEND_FAILED = "send_failed"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The list (newest first) and the unread count, per user.
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        # At most one unread notification per dedupe key: a mailbox failing on every retry
        # shows once, and two workers noticing the same failure cannot both add one.
        Index(
            "uq_notifications_user_id_dedupe_key_unread",
            "user_id",
            "dedupe_key",
            unique=True,
            sqlite_where=text("read_at IS NULL AND dedupe_key IS NOT NULL"),
            postgresql_where=text("read_at IS NULL AND dedupe_key IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # An app path ("/settings/mailboxes/"), never a full URL: the web app routes to it.
    link: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # What makes two notifications "the same problem" (e.g. `mailbox_error:<account id>`).
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
