"""Shapes of the notification API and of a notification about to be created."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A page, and a mark-read request, name at most this many notifications.
MAX_PAGE = 100
MAX_IDS = 200


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str = Field(
        description="`mailbox_error`, `import_finished`, `new_sign_in`; more may be added."
    )
    title: str
    body: str
    link: str | None = Field(description="A path in the web app to open, e.g. `/settings/`.")
    data: dict[str, Any] = Field(description="Facts behind the words (ids, counts), per kind.")
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    unread_count: int = Field(description="Of all the user's notifications, not just this page.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_IDS)
    all: bool = Field(default=False, description="Every notification of the user.")

    @model_validator(mode="after")
    def _something(self) -> MarkRead:
        if not self.ids and not self.all:
            raise ValueError("give `ids` or `all: true`")
        return self


class MarkReadResult(BaseModel):
    updated: int = Field(description="Notifications that were unread and now are read.")
    unread_count: int


class NewNotification(BaseModel):
    """A notification to create; travels as a job's JSON arguments."""

    user_id: uuid.UUID
    kind: str
    title: str = Field(max_length=200)
    body: str = ""
    link: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    dedupe_key: str | None = Field(default=None, max_length=200)
