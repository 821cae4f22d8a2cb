"""Thread list items: JSON the database writes, equal to what `ThreadSummary` would encode."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from postwise import db
from postwise.mail.list_items import page_body, summaries_json, thread_summaries
from postwise.mail.models import Folder, Thread, ThreadFolder
from postwise.mail.schemas import Participant, ThreadLabel, ThreadPage, ThreadSummary
from tests.mail.factories import new_account

pytestmark = pytest.mark.backend

T0 = datetime(2026, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)


async def test_summaries_keep_the_order_asked_and_only_the_owners_threads(
    make_settings: Any,
) -> None:
    engine = db.create_engine(make_settings())
    sessions = db.create_sessionmaker(engine)
    try:
        async with sessions() as session:
            mine, theirs = await new_account(session), await new_account(session)
            # Named so that the id order, the name order and the order asked all differ.
            work, inbox = (
                Folder(user_id=mine.user_id, account_id=mine.id, name=name, role=role)
                for name, role in (("Work", None), ("INBOX", "inbox"))
            )
            other = Folder(user_id=theirs.user_id, account_id=theirs.id, name="INBOX")
            session.add_all([work, inbox, other])
            await session.flush()
            people = [{"name": "Ann", "address": "ann@example.org"}, {"name": "", "address": "b@x"}]
            threads = [
                Thread(
                    user_id=mine.user_id,
                    account_id=mine.id,
                    subject=f"Subject {n}",
                    message_count=n + 1,
                    unread_count=n % 2,
                    last_message_at=T0 + timedelta(minutes=n),
                    snippet=f"Snippet {n} \u00e9\u2014",
                    participants=json.dumps(people[: n + 1]),
                    starred=n == 1,
                    has_attachments=n == 2,
                    ai_priority=[None, 0.75, 0.1][n],
                    ai_important=n == 1,
                    ai_category=[None, "personal", "newsletter"][n],
                    ai_needs_reply=n == 2,
                )
                for n in range(3)
            ]
            # A whole second: pydantic writes no fraction then, and neither may the database.
            threads[1].last_message_at = T0.replace(microsecond=0) + timedelta(minutes=1)
            stranger = Thread(
                user_id=theirs.user_id, account_id=theirs.id, last_message_at=T0, snippet="no"
            )
            session.add_all([*threads, stranger])
            await session.flush()
            # Thread 0 in both folders, 1 in INBOX, 2 in none (no label: still listed).
            session.add_all(
                ThreadFolder(thread_id=t.id, folder_id=f.id, user_id=t.user_id, last_message_at=T0)
                for t, f in (
                    (threads[0], work),
                    (threads[0], inbox),
                    (threads[1], inbox),
                    (stranger, other),
                )
            )
            await session.commit()

        asked = [threads[2].id, stranger.id, uuid.uuid4(), threads[0].id, threads[1].id]
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        async with sessions() as session:
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            try:
                items = await thread_summaries(session, mine.user_id, asked)
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert len(statements) == 1

        inbox_label = ThreadLabel(folder_id=inbox.id, name="INBOX", role="inbox")
        work_label = ThreadLabel(folder_id=work.id, name="Work", role=None)
        labels = {0: [inbox_label, work_label], 1: [inbox_label], 2: []}
        expected = [
            ThreadSummary(
                id=threads[n].id,
                account_id=mine.id,
                subject=f"Subject {n}",
                snippet=f"Snippet {n} \u00e9\u2014",
                participants=[Participant(**p) for p in people[: n + 1]],
                message_count=n + 1,
                unread=n % 2 == 1,
                unread_count=n % 2,
                starred=n == 1,
                has_attachments=n == 2,
                last_message_at=threads[n].last_message_at,
                labels=labels[n],
                priority=[None, 0.75, 0.1][n],
                important=n == 1,
                category=[None, "personal", "newsletter"][n],
                needs_reply=n == 2,
            )
            for n in (2, 0, 1)
        ]
        assert items == expected
        # The response body, as the routes send it, is what pydantic would have encoded.
        async with sessions() as session:
            raw = await summaries_json(session, mine.user_id, asked)
        body = page_body(raw, "next-page")
        encoded = ThreadPage(items=expected, next_cursor="next-page").model_dump_json()
        assert json.loads(body) == json.loads(encoded)
        assert json.loads(page_body([], None)) == {"items": [], "next_cursor": None}
        # Plain UUIDs, as SQLAlchemy's type gives (not the driver's own class).
        given = [i.id for i in items] + [i.account_id for i in items]
        given += [label.folder_id for i in items for label in i.labels]
        assert {type(u) for u in given} == {uuid.UUID}
        async with sessions() as session:
            assert await thread_summaries(session, mine.user_id, []) == []
            assert await thread_summaries(session, mine.user_id, [stranger.id]) == []
    finally:
        await engine.dispose()
