"""API models of the notify domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class OutboxItem(BaseModel):
    """A transactional mail kept in the dev outbox instead of being sent."""

    id: str
    to: str
    subject: str
    text: str
    html: str
    created_at: datetime
    links: list[str] = Field(
        default_factory=list, description="The http(s) links of the text part, in order."
    )


class OutboxList(BaseModel):
    items: list[OutboxItem] = Field(description="Newest first, at most 50.")
