from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from postwise.kit.text import NO_NUL


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    is_admin: bool
    email_verified: bool
    mfa_enabled: bool
    created_at: datetime


class AdminUserOut(UserOut):
    is_active: bool
    locked_until: datetime | None
    last_seen_at: datetime | None = None


class UpdateMe(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, max_length=200, pattern=NO_NUL)


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
