"""Shape of `GET /api/dashboard`: one answer with everything the dashboard screen draws."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from postwise.accounts.models import AccountKind, SyncState


class DayActivity(BaseModel):
    day: date = Field(description="A calendar day in the asked time zone.")
    received: int = Field(description="Mail that reached you that day (each mail once).")
    sent: int = Field(description="Mail you sent that day.")


class Activity(BaseModel):
    days: list[DayActivity] = Field(description="Every day of the window, oldest first.")
    received: int = Field(description="Received over the whole window.")
    sent: int = Field(description="Sent over the whole window.")


class TopSender(BaseModel):
    name: str = Field(description="The name they last wrote under, or empty.")
    address: str = Field(description="Lower case.")
    count: int = Field(description="Mails from them in the window.")


class FolderUnread(BaseModel):
    account_id: uuid.UUID
    mailbox: str = Field(description="The mailbox's address.")
    folder_id: uuid.UUID
    folder: str = Field(description="The folder's name for menus (last path segment).")
    role: str | None
    unread: int


class Recipient(BaseModel):
    name: str
    address: str


class WaitingThread(BaseModel):
    thread_id: uuid.UUID
    subject: str
    to: list[Recipient]
    sent_at: datetime = Field(description="When your last message went out.")
    days_waiting: int


class Waiting(BaseModel):
    count: int = Field(description="Conversations waiting in the window.")
    after_days: int = Field(description="How long without an answer counts as waiting.")
    threads: list[WaitingThread] = Field(description="The longest-waiting ones, oldest first.")


class MailboxStatus(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    kind: AccountKind
    is_demo: bool
    sync_state: SyncState
    last_synced_at: datetime | None
    last_error: str | None
    message_count: int = Field(description="Mails stored, each once however many folders.")
    storage_bytes: int = Field(description="Their size as stored, each once.")


class Dashboard(BaseModel):
    days: int
    timezone: str
    since: date = Field(description="The first day of the window.")
    generated_at: datetime
    activity: Activity
    top_senders: list[TopSender]
    unread: list[FolderUnread] = Field(
        description="Folders with unread mail, most unread first (All Mail views left out: "
        "they repeat the other folders)."
    )
    unread_total: int
    waiting: Waiting
    mailboxes: list[MailboxStatus]
