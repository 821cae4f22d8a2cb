"""Creating notifications: dedupe of an open problem, the cap per user, and the job that
creates one after a commit and announces it."""

from __future__ import annotations

import pytest

from postwise.notifications import service
from postwise.notifications.schemas import NewNotification
from postwise.notifications.tasks import notify_after_commit
from postwise.worker.queue import transaction
from tests.accounts.conftest import Harness
from tests.notifications.conftest import add, events_of, eventually, rows_of

pytestmark = pytest.mark.backend


async def test_one_open_notification_per_dedupe_key(h: Harness) -> None:
    await h.sign_in()
    user_id = h.user_ids[-1]
    notice = NewNotification(
        user_id=user_id, kind="mailbox_error", title="Broken", dedupe_key="mailbox_error:a"
    )
    async with h.services.sessionmaker() as db:
        assert await service.create(db, notice) is not None
        assert await service.create(db, notice) is None
        # Another key is another problem.
        other = notice.model_copy(update={"dedupe_key": "mailbox_error:b"})
        assert await service.create(db, other) is not None
        await db.commit()
    async with h.services.sessionmaker() as db:
        assert await service.resolve(db, user_id=user_id, dedupe_key="mailbox_error:a") == 1
        await db.commit()
    # Once read (here: resolved), the same problem may be told again.
    async with h.services.sessionmaker() as db:
        assert await service.create(db, notice) is not None
        await db.commit()
    keys = [(row.dedupe_key, row.read_at is None) for row in await rows_of(h, user_id)]
    assert sorted(keys) == sorted(
        [("mailbox_error:a", False), ("mailbox_error:b", True), ("mailbox_error:a", True)]
    )


async def test_the_oldest_read_ones_go_beyond_the_cap(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "KEEP_PER_USER", 4)
    await h.sign_in()
    user_id = h.user_ids[-1]
    old = [await add(h, user_id, title=f"old {n}") for n in range(3)]
    async with h.services.sessionmaker() as db:
        await service.mark_read(db, user_id, ids=[row.id for row in old], every=False)
        await db.commit()
    for n in range(3):
        await add(h, user_id, title=f"new {n}")
    # Three unread and the newest read one are kept.
    assert [row.title for row in await rows_of(h, user_id)] == ["old 2", "new 0", "new 1", "new 2"]
    for n in range(3, 6):
        await add(h, user_id, title=f"new {n}")
    # All unread past the cap: the oldest go, whatever their state.
    assert [row.title for row in await rows_of(h, user_id)] == [f"new {n}" for n in range(2, 6)]


async def test_the_job_creates_after_the_commit_and_announces(h: Harness) -> None:
    await h.sign_in()
    user_id = h.user_ids[-1]
    notice = NewNotification(
        user_id=user_id,
        kind="import_finished",
        title="Import finished",
        body="3 messages imported into imported@postwise.local.",
        link="/?account=abc",
        data={"imported": 3},
    )
    async with events_of(h, user_id) as events:
        with pytest.raises(RuntimeError):
            async with transaction(h.services.sessionmaker, h.services.jobs) as db:
                notify_after_commit(db, notice)
                raise RuntimeError("rolled back")
        async with transaction(h.services.sessionmaker, h.services.jobs) as db:
            notify_after_commit(db, notice)

        async def announced() -> bool:
            return bool(events.of("notification.created"))

        await eventually(announced)
    [row] = await rows_of(h, user_id)  # the rolled-back one never ran
    [event] = events.of("notification.created")
    assert event["id"] == str(row.id)
    assert event["kind"] == "import_finished" and event["title"] == "Import finished"
    assert event["body"] == notice.body and event["link"] == "/?account=abc"
    assert event["data"] == {"imported": 3} and event["read_at"] is None
