"""Learned priority in the database: actions logged, counted per sender and taught to the user's
model; new mail scored with them; the Important threshold kept from recent inbox priorities."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise import db
from postwise.accounts.models import AccountKind
from postwise.ai import learning
from postwise.ai.models import AiAction, AiUserModel, SenderStats
from postwise.ai.priority import MAX_THRESHOLD, PriorityModel
from postwise.ai.results import Category
from postwise.db import utcnow
from postwise.mail.models import Folder, Message, MessageInsight
from tests.mail.factories import new_account

pytestmark = pytest.mark.backend

ALIAS = "me.alias@example.org"
LETTER: dict[str, Any] = {
    "from_name": "Letter",
    "from_address": "News@Letter.test",
    "list_id": "<weekly.letter.test>",
    "list_unsubscribe": "<mailto:u@letter.test>",
}
DANA: dict[str, Any] = {"from_name": "Dana Reyes", "from_address": "dana@acme.test"}


@dataclass
class Box:
    sessions: async_sessionmaker[AsyncSession]
    user_id: uuid.UUID
    account_id: uuid.UUID
    email: str
    inbox: uuid.UUID
    archive: uuid.UUID
    uids: list[int] = field(default_factory=list)

    async def add(
        self, count: int = 1, *, age: timedelta = timedelta(hours=1), **fields: Any
    ) -> list[int]:
        """`count` messages to the user in the inbox, `age` old; returns their ids."""
        async with self.sessions() as session:
            rows = []
            for _ in range(count):
                self.uids.append(len(self.uids) + 1)
                when = utcnow() - age + timedelta(seconds=len(self.uids))
                values: dict[str, Any] = {
                    "user_id": self.user_id,
                    "account_id": self.account_id,
                    "folder_id": self.inbox,
                    "uidvalidity": 1,
                    "uid": self.uids[-1],
                    "subject": f"Weekly digest {self.uids[-1]}",
                    "to": [{"name": "", "address": self.email}],
                    "received_at": when,
                    "sent_at": when,
                    "raw_sha256": "0" * 64,
                    "body_text": "Here are this week's stories.",
                }
                values.update(fields)
                rows.append(Message(**values))
            session.add_all(rows)
            await session.commit()
            return [r.id for r in rows]

    async def arrive(self, ids: Sequence[int]) -> None:
        async with self.sessions() as session:
            own = await learning.user_addresses(session, self.user_id)
            messages = (await session.scalars(select(Message).where(Message.id.in_(ids)))).all()
            views = [learning.view_of_message(m, user_addresses=own) for m in messages]
            await learning.note_arrivals(session, user_id=self.user_id, mails=views)
            await session.commit()

    async def act(self, ids: Sequence[int], action: str, value: str | None = None) -> None:
        async with self.sessions() as session:
            await learning.record_actions(
                session, user_id=self.user_id, message_ids=ids, action=action, value=value
            )
            await session.commit()

    async def score(self, message_id: int) -> learning.Scored:
        async with self.sessions() as session:
            own = await learning.user_addresses(session, self.user_id)
            message = await session.get(Message, message_id)
            assert message is not None
            view = learning.view_of_message(message, user_addresses=own)
            insight = await session.get(MessageInsight, message_id)
            triage = learning.triage_of(insight, view)
            (scored,) = await learning.score_messages(
                session, user_id=self.user_id, items=[(view, triage, False)]
            )
            return scored

    async def stats(self, address: str) -> SenderStats | None:
        async with self.sessions() as session:
            return await session.get(SenderStats, (self.user_id, address))

    async def model(self) -> AiUserModel | None:
        async with self.sessions() as session:
            return await session.get(AiUserModel, self.user_id)

    async def logged(self, action: str | None = None) -> list[AiAction]:
        async with self.sessions() as session:
            query = select(AiAction).where(AiAction.user_id == self.user_id)
            if action:
                query = query.where(AiAction.action == action)
            return list((await session.scalars(query.order_by(AiAction.id))).all())


async def _box(sessions: async_sessionmaker[AsyncSession]) -> Box:
    async with sessions() as session:
        account = await new_account(
            session,
            kind=AccountKind.LOCAL,
            send_as=json.dumps([{"name": "Me", "address": ALIAS.upper()}]),
        )
        inbox = Folder(user_id=account.user_id, account_id=account.id, name="INBOX", role="inbox")
        archive = Folder(
            user_id=account.user_id, account_id=account.id, name="Archive", role="archive"
        )
        session.add_all([inbox, archive])
        await session.commit()
        return Box(sessions, account.user_id, account.id, account.email, inbox.id, archive.id)


@pytest.fixture
async def box(make_settings: Any) -> AsyncIterator[Box]:
    engine = db.create_engine(make_settings())
    try:
        yield await _box(db.create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def test_view_of_a_stored_message(box: Box) -> None:
    (message_id,) = await box.add(
        from_address="Bot@Tools.test",
        cc=[{"name": "Me", "address": ALIAS}],
        to=[{"name": "Ops", "address": "OPS@acme.test"}],
        extra={"precedence": "Bulk", "auto_submitted": "auto-generated", "calendar": True},
        has_attachments=True,
        quote_offset=10,
    )
    async with box.sessions() as session:
        own = await learning.user_addresses(session, box.user_id)
        assert own == {box.email.lower(), ALIAS}
        message = await session.get(Message, message_id)
        assert message is not None
        view = learning.view_of_message(message, user_addresses=own)
    assert view.from_address == "bot@tools.test"
    assert (view.to, view.cc) == (("ops@acme.test",), (ALIAS,))
    assert (view.precedence, view.auto_submitted, view.has_calendar) == (
        "bulk",
        "auto-generated",
        True,
    )
    assert view.has_attachments and view.quote_offset == 10
    assert view.sent_at is not None and view.user_addresses == own


async def test_actions_update_the_senders_counts_and_the_model(box: Box) -> None:
    ids = await box.add(3, subject="Q3 budget", **DANA)
    await box.arrive(ids)
    await box.act(ids[:2], "open")
    await box.act(ids[:1], "reply")
    await box.act(ids[:2], "open")  # opened again (after marking unread): counted once
    stats = await box.stats("dana@acme.test")
    assert stats is not None
    assert (stats.received, stats.opened, stats.replied, stats.name) == (3, 2, 1, "Dana Reyes")
    assert stats.last_action_at is not None
    assert stats.last_received_at is not None
    assert [a.action for a in await box.logged()] == ["open", "open", "reply"]
    assert {a.sender for a in await box.logged()} == {"dana@acme.test"}

    row = await box.model()
    assert row is not None and row.updates == 3
    model = PriorityModel.from_state(row.state)
    assert model.taught == pytest.approx(1.0 + 1.0 + 2.0)
    assert model.weights  # learned something, saved as JSON

    await box.act(ids[2:], "star")
    await box.act(ids[2:], "unstar")
    await box.act(ids[2:], "unstar")  # never below zero
    await box.act(ids[2:], "archive_unread")
    stats = await box.stats("dana@acme.test")
    assert stats is not None
    assert (stats.starred, stats.archived_unread) == (0, 1)


async def test_recategorise_only_logs_and_own_or_foreign_mail_is_not_learned(box: Box) -> None:
    (theirs,) = await box.add(**DANA)
    (mine,) = await box.add(from_address=ALIAS, from_name="Me")
    stranger = await _box(box.sessions)
    (foreign,) = await stranger.add(**DANA)

    await box.act([theirs], "recategorise", value=Category.WORK.value)
    await box.act([mine, foreign], "open")
    logged = await box.logged()
    assert [(a.message_id, a.action, a.value) for a in logged] == [
        (theirs, "recategorise", "work"),
        (mine, "open", None),
    ]
    assert await box.stats("dana@acme.test") is None
    assert await box.stats(ALIAS) is None
    assert await box.model() is None  # nothing taught yet
    with pytest.raises(ValueError, match="unknown action"):
        await box.act([theirs], "forward")


async def test_marking_a_sender_important_lifts_their_next_message(box: Box) -> None:
    # Twenty newsletters filed unread, then the user marks one important.
    ignored = await box.add(20, **LETTER)
    await box.arrive(ignored)
    await box.act(ignored[:19], "archive_unread")
    (before,) = await box.add(**LETTER)
    await box.arrive([before])
    scored = await box.score(before)
    assert not scored.important and scored.bucket == "low"
    assert "You usually archive or delete mail from Letter without reading it" in scored.reasons

    await box.act(ignored[19:], "important")
    stats = await box.stats("news@letter.test")
    assert stats is not None and stats.marked_important == 1
    (after,) = await box.add(**LETTER)
    await box.arrive([after])
    scored = await box.score(after)
    assert scored.important and scored.bucket == "high"
    assert scored.reasons[0] == "You marked mail from Letter as important"


async def test_marking_a_sender_not_important_drops_their_next_message(box: Box) -> None:
    answered = await box.add(10, subject="Q3 budget", **DANA)
    await box.arrive(answered)
    await box.act(answered, "open")
    await box.act(answered[:8], "reply")
    (before,) = await box.add(subject="Q3 budget", **DANA)
    await box.arrive([before])
    assert (await box.score(before)).important

    await box.act([before], "not_important")
    (after,) = await box.add(subject="Q3 budget", **DANA)
    await box.arrive([after])
    scored = await box.score(after)
    assert not scored.important
    assert scored.reasons[0] == "You marked mail from Dana Reyes as not important"


async def test_triage_fields_come_from_the_insight(box: Box) -> None:
    (message_id,) = await box.add(subject="Deck", **DANA)
    due = (utcnow() + timedelta(days=1)).date()
    async with box.sessions() as session:
        session.add(
            MessageInsight(
                message_id=message_id,
                user_id=box.user_id,
                category="work",
                needs_reply=True,
                needs_reply_confidence=0.9,
                summary="Send the deck",
                action_items=[
                    {"text": "Send the deck", "due": due.isoformat()},
                    {"text": "Broken", "due": "not a date"},
                ],
            )
        )
        await session.commit()
    async with box.sessions() as session:
        insight = await session.get(MessageInsight, message_id)
        message = await session.get(Message, message_id)
        assert insight is not None and message is not None
        view = learning.view_of_message(message, user_addresses=frozenset({box.email}))
        triage = learning.triage_of(insight, view)
    assert triage.category is Category.WORK and triage.needs_reply
    assert [(i.text, i.due) for i in triage.action_items] == [("Send the deck", due)]
    scored = await box.score(message_id)
    assert any(r.startswith("Has a deadline: ") for r in scored.reasons)
    assert learning.triage_of(None, view).category is Category.PERSONAL


async def test_mail_nobody_acted_on_settles_as_ignored_or_read_elsewhere(box: Box) -> None:
    old = timedelta(days=3)
    unread = await box.add(2, age=old, **LETTER)
    (read,) = await box.add(age=old, is_read=True, **DANA)
    (acted,) = await box.add(age=old, **DANA)
    await box.add(**DANA)  # too recent to judge
    await box.add(age=timedelta(days=40), **DANA)  # too old to matter
    (archived,) = await box.add(age=old, folder_id=box.archive, **DANA)
    await box.act([acted], "star")

    async with box.sessions() as session:
        assert await learning.learn_from_inaction(session, user_id=box.user_id) == 3
        await session.commit()
    assert sorted(a.message_id or 0 for a in await box.logged("ignored")) == unread
    opened = await box.logged("open")
    assert [(a.message_id, a.value) for a in opened] == [(read, "elsewhere")]
    stats = await box.stats("dana@acme.test")
    assert stats is not None and (stats.opened, stats.starred) == (1, 1)
    assert archived not in {a.message_id for a in await box.logged()}
    async with box.sessions() as session:  # each message is settled once
        assert await learning.learn_from_inaction(session, user_id=box.user_id) == 0


async def test_threshold_follows_the_share_of_recent_inbox_mail(box: Box) -> None:
    ids = await box.add(20, **DANA)
    (stale,) = await box.add(age=timedelta(days=45), **DANA)
    (filed,) = await box.add(folder_id=box.archive, **DANA)
    priorities = {mid: 0.3 + 0.02 * n for n, mid in enumerate(ids)}  # 0.30 ... 0.68
    priorities[stale] = priorities[filed] = 0.99
    async with box.sessions() as session:
        session.add_all(
            MessageInsight(message_id=mid, user_id=box.user_id, category="work", priority=p)
            for mid, p in priorities.items()
        )
        await session.commit()
    async with box.sessions() as session:
        threshold = await learning.refresh_threshold(session, user_id=box.user_id, share=0.25)
        await session.commit()
    assert threshold == pytest.approx(0.6)  # 5 of the 20 recent inbox messages lie at or above
    row = await box.model()
    assert row is not None and row.threshold == pytest.approx(0.6)
    async with box.sessions() as session:
        assert await learning.refresh_threshold(session, user_id=box.user_id, share=0.01) == (
            pytest.approx(0.68)
        )
        await session.commit()
    assert MAX_THRESHOLD > 0.68


async def test_scoring_reads_each_sender_once_and_counts_arrivals(box: Box) -> None:
    ids = await box.add(4, **DANA) + await box.add(3, **LETTER)
    (own,) = await box.add(from_address=box.email)
    await box.arrive([*ids, own])
    stats = {a: await box.stats(a) for a in ("dana@acme.test", "news@letter.test")}
    assert {a: s.received for a, s in stats.items() if s} == {
        "dana@acme.test": 4,
        "news@letter.test": 3,
    }
    assert await box.stats(box.email.lower()) is None
    async with box.sessions() as session:
        facts = await learning.sender_facts(
            session, box.user_id, ["DANA@acme.test", "nobody@x.test"]
        )
        assert set(facts) == {"dana@acme.test"} and facts["dana@acme.test"].received == 4
        count = await session.scalar(select(func.count()).select_from(SenderStats))
        assert count is not None and count >= 2
    assert (await box.score(ids[0])).priority > (await box.score(ids[-1])).priority
