"""Revision 0009 fills in the list item of threads stored before it, and loses nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from postwise import db
from postwise.accounts.models import MailAccount
from postwise.config import Settings
from postwise.mail.models import Folder, Message, Thread, ThreadFolder
from postwise.migrations.runner import upgrade_database
from postwise.users.models import User
from tests import services
from tests.conftest import BACKEND, create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.backend

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# The threads table as revision 0008 left it (the model has the columns 0009 adds).
_threads_0008 = sa.table(
    "threads",
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("account_id", sa.Uuid()),
    sa.column("subject", sa.Text()),
    sa.column("subject_key", sa.Text()),
    sa.column("message_count", sa.Integer()),
    sa.column("unread_count", sa.Integer()),
    sa.column("last_message_at", db.UtcDateTime()),
    sa.column("created_at", db.UtcDateTime()),
)


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    if BACKEND != "postgres":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    admin = services.require_postgres()
    url = asyncio.run(create_postgres_database(admin))
    yield url
    asyncio.run(drop_postgres_database(admin, url))


def test_threads_stored_before_0009_get_their_list_item(fresh_url: str, tmp_path: Path) -> None:
    settings = Settings(env="dev", data_dir=tmp_path)
    upgrade_database(settings, url=fresh_url, revision="0008")
    busy, quiet = asyncio.run(_seed(settings, fresh_url))
    upgrade_database(settings, url=fresh_url)
    asyncio.run(_check(settings, fresh_url, busy, quiet))


@dataclass(frozen=True)
class _Account:
    id: uuid.UUID
    user_id: uuid.UUID


def _as_of_0008(table: sa.Table, added_later: set[str]) -> sa.Table:
    """`table` without the columns later revisions added (their Python defaults would name
    them in an INSERT), keeping the types and defaults of the others."""
    columns = [c._copy() for c in table.columns if c.name not in added_later]
    return sa.Table(table.name, sa.MetaData(), *columns)


async def _account_0008(session: Any) -> _Account:
    """A user and a mailbox as revision 0008 stored them: the models have gained columns
    since (0010), which an ORM insert would name."""
    users = _as_of_0008(User.metadata.tables["users"], {"send_undo_seconds"})
    accounts = _as_of_0008(
        MailAccount.metadata.tables["mail_accounts"],
        {"sender_name", "send_as", "signature_text", "signature_html"},
    )
    user_id, account_id = uuid.uuid4(), uuid.uuid4()
    email = f"{user_id.hex}@example.org"
    await session.execute(sa.insert(users).values(id=user_id, email=email, password_hash="x"))
    await session.execute(
        sa.insert(accounts).values(id=account_id, user_id=user_id, email=email, kind="imap")
    )
    return _Account(account_id, user_id)


async def _seed(settings: Settings, url: str) -> tuple[uuid.UUID, uuid.UUID]:
    engine = db.create_engine(settings, url=url)
    try:
        async with db.create_sessionmaker(engine)() as session:
            account = await _account_0008(session)
            folders = [
                Folder(user_id=account.user_id, account_id=account.id, name=name, uidvalidity=1)
                for name in ("INBOX", "Sent")
            ]
            session.add_all(folders)
            await session.flush()
            busy, quiet = uuid.uuid4(), uuid.uuid4()
            await session.execute(
                sa.insert(_threads_0008),
                [
                    {
                        "id": tid,
                        "user_id": account.user_id,
                        "account_id": account.id,
                        "subject": subject,
                        "subject_key": subject.lower(),
                        "message_count": 1,
                        "unread_count": 0,
                        "last_message_at": T0,
                        "created_at": T0,
                    }
                    for tid, subject in ((busy, "Busy"), (quiet, "Quiet"))
                ],
            )
            # Busy: twelve senders (one of them twice, under two names), a star, an
            # attachment; the newest message is the second of two at the same time.
            senders = [(f"Person {n}", f"p{n:02}@example.org") for n in range(12)]
            senders.insert(3, ("Another name", "p01@example.org"))
            rows = [
                _message(
                    account.user_id,
                    account.id,
                    folders[n % 2].id,
                    busy,
                    uid=n + 1,
                    sender=sender,
                    at=T0 + timedelta(hours=min(n, 11)),
                    is_starred=n == 5,
                    has_attachments=n == 7,
                )
                for n, sender in enumerate(senders)
            ]
            rows.append(
                _message(
                    account.user_id,
                    account.id,
                    folders[0].id,
                    quiet,
                    uid=100,
                    sender=("", "quiet@example.org"),
                    at=T0,
                )
            )
            session.add_all(rows)
            await session.flush()
            session.add_all(
                ThreadFolder(
                    thread_id=tid,
                    folder_id=folder.id,
                    user_id=account.user_id,
                    last_message_at=T0,
                    message_count=1,
                    unread_count=0,
                )
                for tid, folder in ((busy, folders[0]), (busy, folders[1]), (quiet, folders[0]))
            )
            await session.commit()
    finally:
        await engine.dispose()
    return busy, quiet


def _message(
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    folder_id: uuid.UUID,
    thread_id: uuid.UUID,
    *,
    uid: int,
    sender: tuple[str, str],
    at: datetime,
    is_starred: bool = False,
    has_attachments: bool = False,
) -> Message:
    return Message(
        user_id=user_id,
        account_id=account_id,
        folder_id=folder_id,
        thread_id=thread_id,
        uidvalidity=1,
        uid=uid,
        from_name=sender[0],
        from_address=sender[1],
        received_at=at,
        snippet=f"Message {uid}",
        is_starred=is_starred,
        has_attachments=has_attachments,
        raw_sha256="0" * 64,
    )


async def _check(settings: Settings, url: str, busy: uuid.UUID, quiet: uuid.UUID) -> None:
    engine = db.create_engine(settings, url=url)
    try:
        async with db.create_sessionmaker(engine)() as session:
            threads = {t.id: t for t in await session.scalars(select(Thread))}
            # Nothing lost on the way (rebuilding `threads` would cascade to both).
            linked = await session.scalar(
                select(func.count()).select_from(Message).where(Message.thread_id.is_not(None))
            )
            indexed = await session.scalar(select(func.count()).select_from(ThreadFolder))
    finally:
        await engine.dispose()
    assert (linked, indexed) == (14, 3)
    b, q = threads[busy], threads[quiet]
    # p01 wrote first at 01:00 as "Person 1", then as "Another name": the greater name stays.
    expected = [("Person 0", "p00@example.org"), ("Person 1", "p01@example.org")]
    expected += [(f"Person {n}", f"p{n:02}@example.org") for n in range(2, 10)]
    assert [(p["name"], p["address"]) for p in json.loads(b.participants)] == expected
    assert (b.snippet, b.starred, b.has_attachments) == ("Message 13", True, True)
    assert json.loads(q.participants) == [{"name": "", "address": "quiet@example.org"}]
    assert (q.snippet, q.starred, q.has_attachments) == ("Message 100", False, False)
