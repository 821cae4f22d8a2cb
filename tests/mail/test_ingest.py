"""Storing fetched batches: a message moved locally is adopted when the server's copy arrives,
with its thread's summary and folder rows following."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise import db
from postwise.accounts.models import AccountKind
from postwise.mail.actions import Action, apply_action
from postwise.mail.blobs import BlobStore
from postwise.mail.ingest import IncomingMessage, StoredBatch, store_batch
from postwise.mail.models import Folder, Message, Thread, ThreadFolder
from tests.mail.factories import new_account

pytestmark = pytest.mark.backend

WHEN = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)


def raw_message(message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Alice <alice@example.com>"
    message["To"] = "Reader <reader@example.com>"
    message["Subject"] = "Plans"
    message["Message-ID"] = f"<{message_id}>"
    message.set_content("Shall we meet on Tuesday?\n")
    return bytes(message)


class Mailbox:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], blobs: BlobStore, user_id: uuid.UUID
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.user_id = user_id
        self.folders: dict[str, uuid.UUID] = {}

    async def fetched(self, folder: str, uid: int, raw: bytes, *flags: str) -> StoredBatch:
        """What the sync engine does with a batch the server sent for `folder`."""
        async with self.sessions() as session:
            row = await session.get(Folder, self.folders[folder])
            assert row is not None
            incoming = [IncomingMessage(uid=uid, raw=raw, flags=flags, internal_date=WHEN)]
            stored = await store_batch(
                session, folder=row, incoming=incoming, blobs=self.blobs, executor=None
            )
            await session.commit()
        return stored

    async def listing(self) -> dict[str, dict[uuid.UUID, tuple[int, int]]]:
        """Per folder name: the threads it lists, with (messages, unread) there."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Folder.name, ThreadFolder.thread_id, ThreadFolder.message_count)
                .add_columns(ThreadFolder.unread_count)
                .join(Folder, Folder.id == ThreadFolder.folder_id)
                .where(ThreadFolder.user_id == self.user_id)
            )
            listed: dict[str, dict[uuid.UUID, tuple[int, int]]] = {}
            for name, thread_id, count, unread in rows:
                listed.setdefault(name, {})[thread_id] = (count, unread)
            return listed


@pytest.fixture
async def mailbox(make_settings: Any, tmp_path: Path) -> AsyncIterator[Mailbox]:
    engine = db.create_engine(make_settings())
    sessions = db.create_sessionmaker(engine)
    async with sessions() as session:
        account = await new_account(session, kind=AccountKind.IMAP)
        user_id = account.user_id
        folders = {
            name: Folder(
                user_id=user_id, account_id=account.id, name=name, role=role, uidvalidity=7
            )
            for name, role in (("INBOX", "inbox"), ("Archive", "archive"))
        }
        session.add_all(folders.values())
        await session.commit()
        box = Mailbox(sessions, BlobStore(tmp_path / "blobs", fsync=False), user_id)
        box.folders = {name: folder.id for name, folder in folders.items()}
    yield box
    await engine.dispose()


async def test_an_adopted_move_refreshes_its_thread_and_the_folder_lists(
    mailbox: Mailbox,
) -> None:
    raw = raw_message("plans@example.com")
    first = await mailbox.fetched("INBOX", 3, raw)
    (thread_id,) = first.thread_ids
    assert await mailbox.listing() == {"INBOX": {thread_id: (1, 1)}}
    # Archived here; the write-back moves it on the server, where the phone has read it.
    async with mailbox.sessions() as session:
        await apply_action(
            session, user_id=mailbox.user_id, message_ids=first.message_ids, action=Action.ARCHIVE
        )
        await session.commit()
    adopted = await mailbox.fetched("Archive", 12, raw, "\\Seen")
    assert adopted.message_ids == []  # nothing stored twice
    assert adopted.thread_ids == {thread_id}  # so the sync tells open screens
    assert await mailbox.listing() == {"Archive": {thread_id: (1, 0)}}
    async with mailbox.sessions() as session:
        message = await session.get(Message, first.message_ids[0])
        assert message is not None
        assert (message.folder_id, message.uid, message.is_read) == (
            mailbox.folders["Archive"],
            12,
            True,
        )
        thread = await session.get(Thread, thread_id)
        assert thread is not None
        assert (thread.message_count, thread.unread_count) == (1, 0)
        archive = await session.get(Folder, mailbox.folders["Archive"])
        assert archive is not None
        assert (archive.total_count, archive.unread_count) == (1, 0)
        count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.user_id == mailbox.user_id)
        )
        assert count == 1


async def test_adoption_next_to_new_mail_in_the_same_thread(mailbox: Mailbox) -> None:
    raw = raw_message("start@example.com")
    first = await mailbox.fetched("INBOX", 1, raw)
    (thread_id,) = first.thread_ids
    async with mailbox.sessions() as session:
        await apply_action(
            session, user_id=mailbox.user_id, message_ids=first.message_ids, action=Action.ARCHIVE
        )
        await session.commit()
    reply = raw_message("reply@example.com").replace(
        b"Subject: Plans", b"Subject: Re: Plans\nIn-Reply-To: <start@example.com>"
    )
    async with mailbox.sessions() as session:
        folder = await session.get(Folder, mailbox.folders["Archive"])
        assert folder is not None
        stored = await store_batch(
            session,
            folder=folder,
            incoming=[
                IncomingMessage(uid=5, raw=raw, flags=("\\Seen",), internal_date=WHEN),
                IncomingMessage(uid=6, raw=reply, flags=(), internal_date=WHEN),
            ],
            blobs=mailbox.blobs,
            executor=None,
        )
        await session.commit()
    assert len(stored.message_ids) == 1
    assert stored.thread_ids == {thread_id}
    assert await mailbox.listing() == {"Archive": {thread_id: (2, 1)}}


async def test_a_uid_stored_by_another_writer_meanwhile_is_skipped(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Sent copy of a message just sent is filed by compose while the sync fetches the
    same UID: the sync's look at the folder missed it, and its insert must skip that row, not
    fail the whole batch on the unique key (which restarted the mailbox's sync, bench.compose)."""
    from postwise.mail import ingest

    first = await mailbox.fetched("INBOX", 7, raw_message("copy@example.com"))
    assert len(first.message_ids) == 1

    async def stale_look(*_args: object) -> set[int]:
        return set()

    monkeypatch.setattr(ingest, "_existing_uids", stale_look)
    async with mailbox.sessions() as session:
        folder = await session.get(Folder, mailbox.folders["INBOX"])
        assert folder is not None
        stored = await store_batch(
            session,
            folder=folder,
            incoming=[
                IncomingMessage(7, raw_message("copy@example.com"), (), WHEN),
                IncomingMessage(8, raw_message("next@example.com"), (), WHEN),
            ],
            blobs=mailbox.blobs,
            executor=None,
        )
        await session.commit()
    assert len(stored.message_ids) == 1  # only uid 8 is new
    async with mailbox.sessions() as session:
        uids = await session.scalars(
            select(Message.uid).where(Message.folder_id == mailbox.folders["INBOX"])
        )
        assert sorted(uids) == [7, 8]
