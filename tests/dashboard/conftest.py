"""The dashboard suite's harness (a running app and signed-in users) and a way to write crafted
mail straight into the database: every figure the tests expect is worked out by hand from it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import insert

from postwise.accounts.models import MailAccount
from postwise.mail.ingest import refresh_folder_counts
from postwise.mail.models import Folder, Message, Thread
from tests.accounts.conftest import Harness, accounts_settings, make_harness

__all__ = ["Mailbox", "accounts_settings", "make_harness"]


@pytest.fixture
async def h(make_harness) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with make_harness() as harness:
        yield harness


@dataclass
class Mailbox:
    """One mailbox of a user, its folders by name, and the mail added to it (not yet written)."""

    user_id: uuid.UUID
    email: str
    account: dict[str, Any]
    folders: dict[str, dict[str, Any]]
    messages: list[dict[str, Any]] = field(default_factory=list)
    threads: dict[uuid.UUID, str] = field(default_factory=dict)  # id: subject

    @classmethod
    def new(
        cls,
        user_id: uuid.UUID,
        email: str,
        folders: dict[str, str | None],
        **account: Any,
    ) -> Mailbox:
        account_id = uuid.uuid4()
        return cls(
            user_id=user_id,
            email=email,
            account={"id": account_id, "user_id": user_id, "email": email, **account},
            folders={
                name: {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "account_id": account_id,
                    "name": name,
                    "delimiter": "/",
                    "role": role,
                    "uidvalidity": 1,
                    "unread_count": 0,
                }
                for name, role in folders.items()
            },
        )

    @property
    def id(self) -> uuid.UUID:
        return uuid.UUID(str(self.account["id"]))

    def unread(self, folder: str, count: int) -> None:
        self.folders[folder]["unread_count"] = count

    def thread(self, subject: str) -> uuid.UUID:
        thread_id = uuid.uuid4()
        self.threads[thread_id] = subject
        return thread_id

    def mail(
        self,
        folder: str,
        at: datetime,
        sender: str,
        *,
        to: str = "someone@example.net",
        name: str = "",
        message_id: str | None = "auto",
        thread: uuid.UUID | None = None,
        size: int = 1000,
        is_draft: bool = False,
    ) -> str | None:
        """Adds a mail; returns its Message-ID (pass it again for another copy of it)."""
        if message_id == "auto":
            message_id = f"{uuid.uuid4().hex}@crafted.test"
        self.messages.append(
            {
                "user_id": self.user_id,
                "account_id": self.id,
                "folder_id": self.folders[folder]["id"],
                "thread_id": thread,
                "uidvalidity": 1,
                "uid": len(self.messages) + 1,
                "message_id": message_id,
                "from_name": name,
                "from_address": sender,
                "to": [{"name": "", "address": to}],
                "subject": self.threads.get(thread, "") if thread else "",
                "received_at": at,
                "sent_at": at,
                "size": size,
                "is_draft": is_draft,
                "raw_sha256": "0" * 64,
            }
        )
        return message_id

    async def write(self, h: Harness) -> None:
        """Writes the mailbox, its folders, threads (dated by their newest mail) and mail, then
        has the mail store count each folder as it does after every change."""
        async with h.services.sessionmaker() as db:
            await db.execute(insert(MailAccount), [self.account])
            await db.execute(insert(Folder), list(self.folders.values()))
            if self.threads:
                newest = {
                    tid: max(m["received_at"] for m in self.messages if m["thread_id"] == tid)
                    for tid in self.threads
                }
                await db.execute(
                    insert(Thread),
                    [
                        {
                            "id": tid,
                            "user_id": self.user_id,
                            "account_id": self.id,
                            "subject": subject,
                            "message_count": 1,
                            "last_message_at": newest[tid],
                        }
                        for tid, subject in self.threads.items()
                    ],
                )
            if self.messages:
                await db.execute(insert(Message), self.messages)
            unread = {name: folder["unread_count"] for name, folder in self.folders.items()}
            for name, values in self.folders.items():
                folder = await db.get(Folder, values["id"])
                assert folder is not None
                await refresh_folder_counts(db, folder)
                # The crafted unread counts stand (the mail here is written without flags).
                folder.unread_count = unread[name]
            await db.commit()


async def new_user(h: Harness) -> tuple[dict[str, str], uuid.UUID]:
    """A signed-in user: their auth header and id."""
    headers = await h.sign_in()
    return headers, await h.user_id(headers)
