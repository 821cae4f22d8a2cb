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
