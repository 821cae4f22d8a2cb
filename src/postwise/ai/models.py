"""The assistant's own tables: per-user settings, usage, the result cache, and what it learns.

What the assistant concluded about a message lives with the message (`mail.models.MessageInsight`),
since mail owns every message row and search and listing read it; these tables are what only
the assistant reads.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from postwise.db import Base, UtcDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class AiSettings(Base):
    """A user's choices; absent row = the instance defaults (POSTWISE_AI_PROVIDER, ...)."""

    __tablename__ = "ai_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # None: the instance's provider. "local" keeps all mail on the machine.
    provider: Mapped[str | None] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(128))
    # The user's own key, sealed like mailbox passwords (kit.crypto.Keyring, purpose "ai-key").
    api_key_sealed: Mapped[str | None] = mapped_column(Text)
    daily_budget_usd: Mapped[float | None] = mapped_column(Float)
    redact: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Target share of the inbox in Important (the per-user threshold follows it).
    important_share: Mapped[float] = mapped_column(Float, nullable=False, default=0.2)
    # Backfill of mail that arrived before triage existed: the lowest message id done so far.
    backfill_before_id: Mapped[int | None] = mapped_column(BigInteger)
    backfill_done: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )


class AiUsage(Base):
    """Calls, tokens and cost per user, day, provider and model: the daily budget reads it."""

    __tablename__ = "ai_usage"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cache_hits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class AiCache(Base):
    """Results by sha256(content hash, task, provider, model, prompt version): a re-sync or a
    restart never pays twice for the same mail. Shared across users: the key covers the
    content, and a result says nothing the content did not."""

    __tablename__ = "ai_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    task: Mapped[str] = mapped_column(String(32), nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), nullable=False, default=utcnow, index=True
    )


class AiAction(Base):
    """One thing the user did with a message (open, reply, archive, delete unread, star,
    important / not important, recategorise): the learning signal, replayable."""

    __tablename__ = "ai_actions"
    __table_args__ = (
        Index("ix_ai_actions_user_at", "user_id", "at"),
        # "Already learned from this message?", and the SET NULL when a message goes.
        Index("ix_ai_actions_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    sender: Mapped[str] = mapped_column(Text, nullable=False, default="")
    action: Mapped[str] = mapped_column(String(24), nullable=False)
    value: Mapped[str | None] = mapped_column(String(32))  # e.g. the new category
    at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class SenderStats(Base):
    """How this user treats mail from one address: the strongest priority features."""

    __tablename__ = "ai_sender_stats"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    opened: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    replied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    archived_unread: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deleted_unread: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    starred: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    marked_important: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    marked_unimportant: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_received_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_action_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AiUserModel(Base):
    """The per-user online priority model as JSON (weights by feature name), never a pickle:
    the database is read by every process and must not carry code."""

    __tablename__ = "ai_user_models"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # Priority at or above which a message is Important for this user.
    threshold: Mapped[float] = mapped_column(Float, nullable=False, default=0.5)
    updates: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )
