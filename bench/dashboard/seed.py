"""A generated mailbox for the dashboard: one user, one mailbox, `messages` mails over two years
up to `now`, written straight into a migrated database (SQLite or PostgreSQL).

What the dashboard reads is shaped like real mail: conversations of one to eight mails between
the user and a correspondent (a few correspondents write most of the mail, as in any inbox),
about a quarter of the mail sent by the user into Sent, the rest in INBOX, Archive, Trash and
Junk; sizes from a few kilobytes to a few hundred; bodies of a paragraph or two, so rows are as
wide as synced ones. Conversations the user wrote last and nobody answered occur naturally.
`generate` is pure (rows as dicts), so a test can compute the expected figures from the same
rows independently of the SQL under test.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from postwise.accounts.models import MailAccount
from postwise.mail.models import Folder, Message, Thread, ThreadFolder

ME = "me@bench.example"
FOLDERS = {"INBOX": "inbox", "Archive": "archive", "Sent": "sent", "Trash": "trash", "Junk": "junk"}
SPAN_DAYS = 730
_WORDS = [
    "plan",
    "budget",
    "meeting",
    "draft",
    "review",
    "invoice",
    "launch",
    "schedule",
    "notes",
    "travel",
    "report",
    "feedback",
    "design",
    "contract",
    "update",
    "agenda",
    "offer",
    "lunch",
    "call",
    "deadline",
    "photos",
    "release",
    "hiring",
    "quote",
]
_BATCH = 5000


@dataclass
class Mailbox:
    user_id: uuid.UUID
    account: dict[str, Any]
    folders: dict[str, dict[str, Any]]  # by name
    threads: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    thread_folders: list[dict[str, Any]] = field(default_factory=list)


def _correspondent(rng: random.Random, people: int) -> int:
    # Zipf-like: person 0 writes the most, the tail writes rarely.
    return min(people - 1, int(rng.paretovariate(1.1)) - 1)


def generate(
    *, user_id: uuid.UUID, messages: int, now: datetime, seed: int, people: int = 800
) -> Mailbox:
    rng = random.Random(seed)
    account_id = uuid.uuid4()
    box = Mailbox(
        user_id=user_id,
        account={
            "id": account_id,
            "user_id": user_id,
            "kind": "imap",
            "email": ME,
            "display_name": "Bench User",
            "sync_state": "idle",
            "last_synced_at": now - timedelta(minutes=2),
        },
        folders={
            name: {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "account_id": account_id,
                "name": name,
                "delimiter": "/",
                "role": role,
                "uidvalidity": 1,
                "total_count": 0,
                "unread_count": 0,
                "stored_bytes": 0,
            }
            for name, role in FOLDERS.items()
        },
    )
    index: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    uid = 0
    while uid < messages:
        thread_id = uuid.uuid4()
        person = _correspondent(rng, people)
        them = (f"Person {person}", f"p{person}@corp{person % 40}.example")
        size = min(rng.choice((1, 1, 1, 2, 2, 3, 4, 8)), messages - uid)
        # Early enough for the whole conversation to have happened by `now`.
        start = now - timedelta(seconds=rng.random() * SPAN_DAYS * 86400 + size)
        # Most conversations start with them; a quarter with the user.
        mine = rng.random() < 0.25
        subject = f"{rng.choice(_WORDS).capitalize()} {rng.choice(_WORDS)} #{len(box.threads)}"
        home = rng.choices(("INBOX", "Archive", "Trash", "Junk"), (70, 24, 4, 2))[0]
        last = start
        for n in range(size):
            uid += 1
            # Strictly later than the mail before, and never after `now`.
            step = timedelta(minutes=rng.randint(5, 3000))
            at = start if n == 0 else min(last + step, now - timedelta(seconds=size - n))
            last = at
            folder = "Sent" if mine else home
            sender, recipient = (("Bench User", ME), them) if mine else (them, ("Bench User", ME))
            unread = not mine and folder != "Trash" and rng.random() < 0.08
            body = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(60, 240)))
            box.messages.append(
                {
                    "user_id": user_id,
                    "account_id": account_id,
                    "folder_id": box.folders[folder]["id"],
                    "thread_id": thread_id,
                    "uidvalidity": 1,
                    "uid": uid,
                    "message_id": f"m{uid}.{seed}@bench.example",
                    "subject": subject if n == 0 else f"Re: {subject}",
                    "from_name": sender[0],
                    "from_address": sender[1],
                    "to": [{"name": recipient[0], "address": recipient[1]}],
                    "sent_at": at,
                    "received_at": at,
                    "size": int(rng.lognormvariate(9.5, 1.0)) + 800,
                    "is_read": not unread,
                    "snippet": body[:120],
                    "body_text": body,
                    "raw_sha256": f"{uid:064x}",
                }
            )
            stats = box.folders[folder]
            stats["total_count"] += 1
            stats["unread_count"] += int(unread)
            stats["stored_bytes"] += box.messages[-1]["size"]
            entry = index.setdefault(
                (thread_id, stats["id"]),
                {
                    "thread_id": thread_id,
                    "folder_id": stats["id"],
                    "user_id": user_id,
                    "message_count": 0,
                    "unread_count": 0,
                },
            )
            entry["message_count"] += 1
            entry["unread_count"] += int(unread)
            mine = not mine if rng.random() < 0.8 else mine
        box.threads.append(
            {
                "id": thread_id,
                "user_id": user_id,
                "account_id": account_id,
                "subject": subject,
                "subject_key": subject.lower(),
                "message_count": size,
                "unread_count": 0,
                "last_message_at": last,
            }
        )
        for stats in box.folders.values():
            if (thread_id, stats["id"]) in index:
                index[(thread_id, stats["id"])]["last_message_at"] = last
    box.thread_folders = list(index.values())
    return box


async def write(engine: AsyncEngine, box: Mailbox) -> None:
    """Insert the mailbox (the user row must exist) in one transaction."""
    async with engine.begin() as db:
        await db.execute(insert(MailAccount), [box.account])
        await db.execute(insert(Folder), list(box.folders.values()))
        for start in range(0, len(box.threads), _BATCH):
            await db.execute(insert(Thread), box.threads[start : start + _BATCH])
        for start in range(0, len(box.messages), _BATCH):
            await db.execute(insert(Message), box.messages[start : start + _BATCH])
        for start in range(0, len(box.thread_folders), _BATCH):
            await db.execute(insert(ThreadFolder), box.thread_folders[start : start + _BATCH])
