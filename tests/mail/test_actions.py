"""Local actions on a local-only mailbox (the demo): applied at once, nothing to write back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise import db as database
from postwise.config import Settings
from postwise.imports.demo import DemoResult, create_demo
from postwise.kit.errors import ProblemError
from postwise.mail.actions import Action, apply_action
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Folder, Message, PendingChange

pytestmark = pytest.mark.backend


@pytest.fixture
async def demo(
    settings: Settings,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], DemoResult]]:
    engine = database.create_engine(settings)
    sessionmaker = database.create_sessionmaker(engine)
    try:
        result = await create_demo(
            sessionmaker,
            settings=settings,
            blobs=BlobStore(settings.effective_blob_dir, fsync=False),
            executor=None,
            email=f"demo-{uuid.uuid4().hex[:8]}@postwise.local",
        )
        yield sessionmaker, result
    finally:
        await engine.dispose()


async def _inbox(db: AsyncSession, account_id: uuid.UUID) -> list[Message]:
    rows = await db.scalars(
        select(Message)
        .join(Folder, Folder.id == Message.folder_id)
        .where(Message.account_id == account_id, Folder.role == "inbox")
        .order_by(Message.uid)
    )
    return list(rows.all())


async def test_actions_on_a_local_mailbox_apply_at_once_and_keep_counts_right(demo) -> None:
    sessionmaker, result = demo
    async with sessionmaker() as db:
        inbox = await _inbox(db, result.account_id)
        unread = [m.id for m in inbox if not m.is_read][:2]
        first, second = inbox[0].id, inbox[1].id
        await apply_action(db, user_id=result.user_id, message_ids=unread, action=Action.READ)
        await apply_action(db, user_id=result.user_id, message_ids=[first], action=Action.ARCHIVE)
        await apply_action(db, user_id=result.user_id, message_ids=[second], action=Action.DELETE)
        await db.commit()
    async with sessionmaker() as db:
        after = {m.id: m for m in await _inbox(db, result.account_id)}
        assert first not in after and second not in after
        assert all(after[i].is_read for i in unread if i in after)
        archived = await db.get(Message, first)
        assert archived is not None and archived.uid > 0
        archive = await db.get(Folder, archived.folder_id)
        assert archive is not None and archive.role == "archive"
        assert await db.get(Message, second) is None
        # No server behind a local mailbox: nothing waits to be written back.
        pending = await db.scalar(
            select(func.count())
            .select_from(PendingChange)
            .where(PendingChange.account_id == result.account_id)
        )
        assert pending == 0
        for folder in (
            await db.scalars(select(Folder).where(Folder.account_id == result.account_id))
        ).all():
            total, unread_count = (
                await db.execute(
                    select(func.count(), func.count().filter(Message.is_read.is_(False)))
                    .select_from(Message)
                    .where(Message.folder_id == folder.id)
                )
            ).one()
            assert (folder.total_count, folder.unread_count) == (total, unread_count), folder.name


async def test_another_users_messages_are_left_alone(demo) -> None:
    sessionmaker, result = demo
    async with sessionmaker() as db:
        target = (await _inbox(db, result.account_id))[0]
        changed = await apply_action(
            db, user_id=uuid.uuid4(), message_ids=[target.id], action=Action.TRASH
        )
        await db.commit()
        assert changed == []
    async with sessionmaker() as db:
        again = await db.get(Message, target.id)
        assert again is not None and again.folder_id == target.folder_id


async def test_moving_to_a_folder_of_another_mailbox_is_refused(demo) -> None:
    sessionmaker, result = demo
    async with sessionmaker() as db:
        target = (await _inbox(db, result.account_id))[0]
        with pytest.raises(ProblemError) as refused:
            await apply_action(
                db,
                user_id=result.user_id,
                message_ids=[target.id],
                action=Action.MOVE,
                folder_id=uuid.uuid4(),
            )
        assert refused.value.code == "invalid_folder"


async def test_an_undo_moves_back_only_what_the_archive_moved(demo) -> None:
    """Archive takes a thread out of the inbox; its undo (a move back to the inbox narrowed to
    the Archive folder) must not drag the thread's copies in Sent into the inbox too."""
    from postwise.mail.reading import thread_message_ids

    sessionmaker, result = demo
    async with sessionmaker() as db:
        folders = {
            f.role: f
            for f in (
                await db.scalars(select(Folder).where(Folder.account_id == result.account_id))
            ).all()
        }
        in_inbox_threads = select(Message.thread_id).where(Message.folder_id == folders["inbox"].id)
        sent_copy = (
            await db.scalars(
                select(Message).where(
                    Message.folder_id == folders["sent"].id,
                    Message.thread_id.in_(in_inbox_threads),
                )
            )
        ).first()
        assert sent_copy is not None and sent_copy.thread_id is not None
        thread = sent_copy.thread_id
        in_inbox = (
            await db.scalars(
                select(Message).where(
                    Message.thread_id == thread, Message.folder_id == folders["inbox"].id
                )
            )
        ).all()
        assert in_inbox, "the demo's replied-to thread has mail in the inbox"
        _, archived = await thread_message_ids(db, result.user_id, [thread], action="archive")
        await apply_action(db, user_id=result.user_id, message_ids=archived, action=Action.ARCHIVE)
        await db.commit()
    async with sessionmaker() as db:
        found, back = await thread_message_ids(
            db, result.user_id, [thread], action="move", source_folder=folders["archive"].id
        )
        assert found == [thread] and sorted(back) == sorted(archived)
        await apply_action(
            db,
            user_id=result.user_id,
            message_ids=back,
            action=Action.MOVE,
            folder_id=folders["inbox"].id,
        )
        await db.commit()
    async with sessionmaker() as db:
        again = await db.get(Message, sent_copy.id)
        assert again is not None and again.folder_id == folders["sent"].id
        inbox_now = (
            await db.scalars(
                select(Message.id).where(
                    Message.thread_id == thread, Message.folder_id == folders["inbox"].id
                )
            )
        ).all()
        assert sorted(inbox_now) == sorted(m.id for m in in_inbox)
