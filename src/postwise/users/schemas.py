from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from postwise.kit.text import NO_NUL


class NewMailNotifications(StrEnum):
    """Which new mail raises a desktop notification."""

    ALL = "all"
    # Only mail the assistant puts in Important (the web app waits for `message.triaged`).
    IMPORTANT = "important"
    NONE = "none"


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    is_admin: bool
    email_verified: bool
    mfa_enabled: bool
    created_at: datetime
    new_mail_notifications: NewMailNotifications = Field(
        description="Desktop notifications for new mail: `all`, `important` (what the "
        "assistant puts in Important) or `none`."
    )
    send_undo_seconds: int = Field(
        description="How long a sent message waits in the outbox, when undo still takes it back."
    )


class AdminUserOut(UserOut):
    is_active: bool
    locked_until: datetime | None
    last_seen_at: datetime | None = None


class UpdateMe(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    new_mail_notifications: NewMailNotifications | None = None
    # strict: `false` (or "5") is not a number of seconds.
    send_undo_seconds: int | None = Field(default=None, ge=0, le=30, strict=True)


class AdminUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    is_admin: bool | None = None


class UserPage(BaseModel):
    items: list[AdminUserOut]
    total: int
    offset: int
    limit: int


class InviteRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(default=None, max_length=320)


class InviteOut(BaseModel):
    token: str
    link: str
