"""Conversation threading in the database: incremental assignment, merges and aggregates."""

from __future__ import annotations

import json
import random
import uuid
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from postwise import db
from postwise.mail import thread_store
from postwise.mail.models import Folder, Message, Thread
from postwise.mail.thread_store import (
    assign_threads,
    assign_threads_with_changes,
    refresh_threads,
)
from postwise.mime.subjects import subject_key
from tests.mail.factories import new_account
from tests.mail.threading_corpus import ALL_MAIL, INBOX, SENT, T0, Mail, known_groups, make_corpus

pytestmark = pytest.mark.backend

# --- the database ---------------------------------------------------------------------------


@dataclass
class Mailbox:
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    user_id: uuid.UUID
    account_id: uuid.UUID
    folders: dict[str, uuid.UUID]
    uids: dict[str, int] = field(default_factory=dict)

    def row(self, mail: Mail) -> Message:
        uid = self.uids[mail.key] = len(self.uids) + 1
        return Message(
            user_id=self.user_id,
            account_id=self.account_id,
            folder_id=self.folders[mail.folder],
            uidvalidity=1,
            uid=uid,
            message_id=mail.message_id,
            in_reply_to=mail.in_reply_to,
            references=list(mail.references),
            gm_thrid=mail.gm_thrid,
            subject=mail.subject,
            received_at=mail.date,
            sent_at=mail.date,
            is_read=mail.is_read,
            raw_sha256="0" * 64,
            # What the thread list shows of a thread, varied by key: senders repeat (under
            # several names), some mail is starred or has attachments.
            from_name=f"Person {zlib.crc32(mail.key.encode()) % 3}",
            from_address=f"p{zlib.crc32(mail.key.encode()) % 7}@example.org",
            snippet=f"About {mail.key}",
            is_starred=zlib.crc32(mail.key.encode()) % 4 == 0,
            has_attachments=zlib.crc32(mail.key.encode()) % 5 == 0,
        )

    async def store(self, mails: Sequence[Mail]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
        """One engine batch: insert, thread, commit. Returns (touched, deleted)."""
        async with self.sessions() as session:
            rows = [self.row(mail) for mail in mails]
            session.add_all(rows)
            await session.flush()
            changes = await assign_threads_with_changes(session, rows)
            assert all(row.thread_id is not None for row in rows)
            await session.commit()
        return changes.touched, changes.deleted

    async def grouping(self) -> set[frozenset[str]]:
        keys = {uid: key for key, uid in self.uids.items()}
        async with self.sessions() as session:
            rows = await session.execute(
                select(Message.uid, Message.thread_id).where(Message.account_id == self.account_id)
            )
            by_thread: defaultdict[uuid.UUID | None, set[str]] = defaultdict(set)
            for uid, thread_id in rows:
                by_thread[thread_id].add(keys[uid])
        assert None not in by_thread
        return {frozenset(group) for group in by_thread.values()}

    async def threads(self) -> dict[uuid.UUID, Thread]:
        async with self.sessions() as session:
            found = await session.scalars(
                select(Thread).where(Thread.account_id == self.account_id)
            )
            return {thread.id: thread for thread in found}

    async def thread_of(self, key: str) -> uuid.UUID:
        async with self.sessions() as session:
            thread_id = await session.scalar(
                select(Message.thread_id).where(
                    Message.account_id == self.account_id, Message.uid == self.uids[key]
                )
            )
        assert thread_id is not None
        return thread_id

    async def assert_aggregates(self) -> None:
        """Every thread's stored aggregates equal what its messages say (and none is empty)."""
        async with self.sessions() as session:
            messages = (
                await session.scalars(select(Message).where(Message.account_id == self.account_id))
            ).all()
        by_thread: defaultdict[uuid.UUID | None, list[Message]] = defaultdict(list)
        for message in messages:
            by_thread[message.thread_id].append(message)
        threads = await self.threads()
        assert set(threads) == set(by_thread)
        for thread_id, thread in threads.items():
            rows = by_thread[thread_id]
            mails = {m.message_id or f"#{m.id}" for m in rows}
            unread = {m.message_id or f"#{m.id}" for m in rows if not m.is_read}
            earliest = min(rows, key=lambda m: (m.received_at, m.id))
            assert thread.message_count == len(mails)
            assert thread.unread_count == len(unread)
            assert thread.last_message_at == max(m.received_at for m in rows)
            assert thread.subject == earliest.subject
            assert thread.subject_key == subject_key(earliest.subject)
            gm_thrids = [m.gm_thrid for m in rows if m.gm_thrid is not None]
            assert thread.gm_thrid == max(gm_thrids, default=None)
            assert_list_item(thread, rows)


def assert_list_item(thread: Thread, rows: Sequence[Message]) -> None:
    """The list item stored on the thread is what its messages say: the newest one's
    snippet, each sender once (by address, its greatest name) in the order they first
    wrote, at most ten, and whether any message is starred or has attachments."""
    newest = max(rows, key=lambda m: (m.received_at, m.id))
    assert thread.snippet == newest.snippet
    assert thread.starred == any(m.is_starred for m in rows)
    assert thread.has_attachments == any(m.has_attachments for m in rows)
    senders: dict[str, tuple[Any, str]] = {}
    for m in rows:
        first, name = senders.get(m.from_address, (m.received_at, m.from_name))
        senders[m.from_address] = (min(first, m.received_at), max(name, m.from_name))
    ordered = sorted((first, name, address) for address, (first, name) in senders.items())
    expected = [{"name": name, "address": address} for _, name, address in ordered[:10]]
    assert json.loads(thread.participants) == expected


@pytest.fixture
async def mailbox(make_settings: Any) -> AsyncIterator[Mailbox]:
    """A fresh user with one account and three folders, so tests never see each other."""
    engine = db.create_engine(make_settings())
    sessions = db.create_sessionmaker(engine)
    async with sessions() as session:
        account = await new_account(session)
        user_id = account.user_id
        folders = {
            name: Folder(user_id=user_id, account_id=account.id, name=name)
            for name in (INBOX, ALL_MAIL, SENT)
        }
        session.add_all(folders.values())
        await session.commit()
        ids = {name: folder.id for name, folder in folders.items()}
        box = Mailbox(sessions, engine, user_id, account.id, ids)
    yield box
    await engine.dispose()


def mail(key: str, *, subject: str = "Topic", day: float = 0, refs: Sequence[str] = (),
         irt: str | None = None, mid: str | None = "", folder: str = INBOX,
         gm: int | None = None, read: bool = False) -> Mail:  # fmt: skip
    message_id = f"{key}@example.org" if mid == "" else mid
    date = T0 + timedelta(days=day)
    return Mail(key, 0, message_id, irt, list(refs), subject, date, folder, gm, read)


@pytest.mark.parametrize("seed", [3, 4, 5])
async def test_assign_threads_recovers_known_conversations_in_any_order(
    mailbox: Mailbox, seed: int
) -> None:
    mails = make_corpus(seed)
    rng = random.Random(seed)
    rng.shuffle(mails)
    position = 0
    while position < len(mails):
        size = rng.choice([1, 2, 5, 17, 40, 90])
        await mailbox.store(mails[position : position + size])
        position += size
    assert await mailbox.grouping() == known_groups(mails)
    await mailbox.assert_aggregates()


async def test_whole_corpus_in_one_batch(mailbox: Mailbox) -> None:
    mails = make_corpus(9)
    random.Random(9).shuffle(mails)
    touched, deleted = await mailbox.store(mails)
    assert await mailbox.grouping() == known_groups(mails)
    assert touched == set(await mailbox.threads())
    assert deleted == set()
    await mailbox.assert_aggregates()


async def test_out_of_order_mail_merges_threads(mailbox: Mailbox) -> None:
    # a <- b <- c2, and a <- c1: the replies arrive first, in two threads of their own (c2
    # changed the subject, so the subject fallback does not join them before b comes).
    await mailbox.store([mail("c1", subject="Re: Plan", day=3, refs=["a@example.org"],
                              irt="a@example.org")])  # fmt: skip
    await mailbox.store([mail("c2", subject="Re: Plan, take two", day=4, refs=["b@example.org"],
                              irt="b@example.org")])  # fmt: skip
    first, second = await mailbox.thread_of("c1"), await mailbox.thread_of("c2")
    assert first != second
    # b answers a, so it links c1 (a sibling by a's id) and c2 (its child): one conversation.
    touched, deleted = await mailbox.store(
        [mail("b", subject="Re: Plan", day=2, refs=["a@example.org"], irt="a@example.org")]
    )
    assert touched == {first}  # the thread that started earliest survives
    assert deleted == {second}
    await mailbox.store([mail("a", subject="Plan", day=1)])
    assert await mailbox.grouping() == {frozenset({"a", "b", "c1", "c2"})}
    threads = await mailbox.threads()
    assert list(threads) == [first]
    assert threads[first].subject == "Plan"
    assert threads[first].message_count == 4
    await mailbox.assert_aggregates()


async def test_reply_and_parent_in_one_batch(mailbox: Mailbox) -> None:
    touched, _ = await mailbox.store(
        [
            mail("reply", subject="Re: Trip", day=1, irt="root@example.org"),
            mail("root", subject="Trip", day=0),
            mail("other", subject="Trip", day=0.5),
        ]
    )
    assert await mailbox.grouping() == {frozenset({"reply", "root"}), frozenset({"other"})}
    assert len(touched) == 2


async def test_references_only_reply_stored_before_its_parent(mailbox: Mailbox) -> None:
    # No In-Reply-To, so `messages.in_reply_to` cannot reveal the link: the subject-keyed
    # look-up of stored rows reads their References instead.
    await mailbox.store([mail("child", subject="Re: Offsite", day=1, refs=["p@example.org"])])
    await mailbox.store([mail("other", subject="Offsite", day=1)])
    await mailbox.store([mail("p", subject="Offsite", day=0)])
    assert await mailbox.grouping() == {frozenset({"child", "p"}), frozenset({"other"})}


async def test_gmail_thread_id_groups_without_headers(mailbox: Mailbox) -> None:
    await mailbox.store([mail("g1", subject="Order shipped", gm=4242)])
    await mailbox.store([mail("g2", subject="Your order has arrived", day=2, gm=4242)])
    await mailbox.store([mail("g3", subject="Order shipped", day=3, gm=4343)])
    assert await mailbox.grouping() == {frozenset({"g1", "g2"}), frozenset({"g3"})}
    thread = (await mailbox.threads())[await mailbox.thread_of("g1")]
    assert thread.gm_thrid == 4242
    await mailbox.assert_aggregates()


@pytest.mark.parametrize("same_batch", [True, False])
async def test_same_mail_in_two_folders(mailbox: Mailbox, same_batch: bool) -> None:
    inbox = mail("inbox", mid="one@example.org", subject="Invoice", read=True)
    copy = mail("all", mid="one@example.org", subject="Invoice", folder=ALL_MAIL)
    unrelated = mail("unrelated", subject="Invoice", day=0.1)
    if same_batch:
        await mailbox.store([inbox, copy, unrelated])
    else:
        await mailbox.store([inbox, unrelated])
        await mailbox.store([copy])
    assert await mailbox.grouping() == {frozenset({"inbox", "all"}), frozenset({"unrelated"})}
    thread = (await mailbox.threads())[await mailbox.thread_of("inbox")]
    # One mail, counted once; unread because one of its copies is.
    assert (thread.message_count, thread.unread_count) == (1, 1)
    await mailbox.assert_aggregates()


@pytest.mark.parametrize("same_batch", [True, False])
async def test_reference_loops_in_the_database(mailbox: Mailbox, same_batch: bool) -> None:
    a = mail("a", subject="Loop", refs=["b@example.org"])
    b = mail("b", subject="Re: Loop", day=1, refs=["a@example.org"], irt="a@example.org")
    selfish = mail("self", subject="Selfish", day=2, refs=["self@example.org"])
    if same_batch:
        await mailbox.store([a, b, selfish])
    else:
        for one in (b, selfish, a):
            await mailbox.store([one])
    assert await mailbox.grouping() == {frozenset({"a", "b"}), frozenset({"self"})}


async def test_subject_fallback_in_the_database(mailbox: Mailbox) -> None:
    await mailbox.store([mail("report-1", subject="Weekly report")])
    await mailbox.store([mail("report-2", subject="Weekly report", day=7)])
    # A reply whose parent is missing joins the nearest original (JWZ) ...
    await mailbox.store([mail("dangling", subject="Re: Weekly report", day=8, irt="r0@x")])
    # ... so does a header-less reply ...
    await mailbox.store([mail("bare", subject="AW: Weekly report", day=9)])
    # ... but not one from months ago.
    await mailbox.store([mail("late", subject="Re: Weekly report", day=120)])
    # A header-less reply stored before its original is adopted when the original arrives.
    await mailbox.store([mail("early-reply", subject="Re: Budget", day=20)])
    await mailbox.store([mail("budget", subject="Budget", day=30)])
    assert await mailbox.grouping() == {
        frozenset({"report-1"}),
        frozenset({"report-2", "dangling", "bare"}),
        frozenset({"late"}),
        frozenset({"early-reply", "budget"}),
    }
    await mailbox.assert_aggregates()


# A reply whose parent is missing, and mail sharing its subject: `a` starts one conversation,
# `r` answers it, `b` starts another with the same subject.
STATUS = {
    "a": mail("a", subject="Status update"),
    "r": mail(
        "r", subject="Re: Status update", day=0.1, irt="a@example.org", refs=["a@example.org"]
    ),
    "b": mail("b", subject="Status update", day=1),
    # Between a and r: the thread guessed for r then begins with an original.
    "early-b": mail("b", subject="Status update", day=0.05),
    "refs-only": mail("r", subject="Re: Status update", day=0.1, refs=["a@example.org"]),
}


@pytest.mark.parametrize("order", ["r b", "b r", "rb"])
async def test_a_reply_whose_parent_never_comes_joins_by_subject(
    mailbox: Mailbox, order: str
) -> None:
    for batch in order.split():
        await mailbox.store([STATUS[key] for key in batch])
    assert await mailbox.grouping() == {frozenset({"r", "b"})}
    await mailbox.assert_aggregates()


@pytest.mark.parametrize(
    "order", ["a r b", "a b r", "r a b", "r b a", "b a r", "b r a", "rb a", "arb", "r b+a"]
)
@pytest.mark.parametrize("reply", ["r", "refs-only"])
@pytest.mark.parametrize("other", ["b", "early-b"])
async def test_a_late_parent_takes_its_reply_back_from_a_subject_guess(
    mailbox: Mailbox, order: str, reply: str, other: str
) -> None:
    # Whatever the order, the result is the one all three give at once: `r` goes with its
    # parent when the parent comes, even if the subject had put it with `b` meanwhile.
    pick = {"a": STATUS["a"], "b": STATUS[other], "r": STATUS[reply]}
    for batch in order.split():
        await mailbox.store([pick[key] for key in batch.replace("+", "")])
    assert await mailbox.grouping() == {frozenset({"a", "r"}), frozenset({"b"})}
    await mailbox.assert_aggregates()


async def test_splitting_a_guess_reports_the_threads_it_changes(mailbox: Mailbox) -> None:
    await mailbox.store([STATUS["b"]])
    await mailbox.store([STATUS["r"]])
    guessed = await mailbox.thread_of("r")
    assert guessed == await mailbox.thread_of("b")
    touched, deleted = await mailbox.store([STATUS["a"]])
    # The thread keeps its id where its earliest message (r) goes; b gets a new one.
    assert await mailbox.thread_of("r") == await mailbox.thread_of("a") == guessed
    assert touched == {guessed, await mailbox.thread_of("b")}
    assert deleted == set()
    thread = (await mailbox.threads())[guessed]
    assert (thread.subject, thread.message_count) == ("Status update", 2)
    await mailbox.assert_aggregates()


async def test_rows_of_an_earlier_batch_in_the_session_see_the_split(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One call, two batches: the second splits what the first decided, in the same session.
    monkeypatch.setattr(thread_store, "_BATCH", 2)
    async with mailbox.sessions() as session:
        rows = [mailbox.row(STATUS[key]) for key in ("b", "r", "a")]
        session.add_all(rows)
        await session.flush()
        await assign_threads(session, rows)
        await session.commit()
        in_memory = {mailbox_key(mailbox, row.uid): row.thread_id for row in rows}
    assert await mailbox.grouping() == {frozenset({"a", "r"}), frozenset({"b"})}
    for key, thread_id in in_memory.items():
        assert thread_id == await mailbox.thread_of(key)


async def test_two_beginning_less_threads_part_when_their_originals_come(
    mailbox: Mailbox,
) -> None:
    # The replies come first (the inbox before Sent) and, both lacking their beginning, join
    # on subject; each original then takes its own reply back.
    x0, y0 = mail("x0", subject="Weekly sync"), mail("y0", subject="Weekly sync", day=1)
    x1 = mail("x1", subject="Re: Weekly sync", day=0.5, irt="x0@example.org")
    y1 = mail("y1", subject="Re: Weekly sync", day=1.5, irt="y0@example.org")
    await mailbox.store([y1])
    await mailbox.store([x1])
    assert await mailbox.grouping() == {frozenset({"x1", "y1"})}
    await mailbox.store([y0])
    await mailbox.store([x0])
    assert await mailbox.grouping() == {frozenset({"x0", "x1"}), frozenset({"y0", "y1"})}
    await mailbox.assert_aggregates()


async def test_sync_order_replies_before_originals(mailbox: Mailbox) -> None:
    # The engine's order: the inbox (replies) newest first, then Sent (the originals).
    mails = make_corpus(6)
    replies = sorted((m for m in mails if m.in_reply_to or m.references), key=lambda m: m.date)
    rest = sorted((m for m in mails if not (m.in_reply_to or m.references)), key=lambda m: m.date)
    ordered = replies[::-1] + rest[::-1]
    for start in range(0, len(ordered), 40):
        await mailbox.store(ordered[start : start + 40])
    assert await mailbox.grouping() == known_groups(mails)
    await mailbox.assert_aggregates()


async def test_a_thread_with_one_root_is_not_decided_again(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long chain stored newest first meets its parent in every batch, but all of it answers
    # one message: no subject guess to undo, so its rows are never loaded for that.
    loaded: list[set[uuid.UUID]] = []
    original = thread_store.stored_rows

    async def spy(db: AsyncSession, thread_ids: set[uuid.UUID]) -> dict[int, Any]:
        loaded.append(set(thread_ids))
        return await original(db, thread_ids)

    monkeypatch.setattr(thread_store, "stored_rows", spy)
    chain = [
        mail(
            f"k{n}",
            subject="Re: Long" if n else "Long",
            day=n / 10,
            irt=f"k{n - 1}@example.org" if n else None,
        )
        for n in range(30)
    ]
    # Two replies to one missing message are one group, not a guess.
    sibling = mail("sibling", subject="Re: Long", day=2.45, irt="k24@example.org")
    for start in range(25, -1, -5):
        await mailbox.store(chain[start : start + 5] + ([sibling] if start == 25 else []))
    assert await mailbox.grouping() == {frozenset(m.key for m in [*chain, sibling])}
    assert not any(loaded)


def mailbox_key(mailbox: Mailbox, uid: int) -> str:
    return next(key for key, known in mailbox.uids.items() if known == uid)


async def test_aggregates_follow_new_mail_flags_and_expunges(mailbox: Mailbox) -> None:
    await mailbox.store([mail("b", subject="Re: Kickoff", day=2, irt="a@example.org")])
    thread_id = await mailbox.thread_of("b")
    thread = (await mailbox.threads())[thread_id]
    assert (thread.subject, thread.message_count, thread.unread_count) == ("Re: Kickoff", 1, 1)
    await mailbox.store(
        [mail("a", subject="Kickoff", day=1, read=True), mail("c", day=3, irt="b@example.org")]
    )
    thread = (await mailbox.threads())[thread_id]
    assert thread.subject == "Kickoff"  # the earliest message names the thread
    assert thread.subject_key == "kickoff"
    assert (thread.message_count, thread.unread_count) == (3, 2)
    assert thread.last_message_at == T0 + timedelta(days=3)

    async with mailbox.sessions() as session:  # the engine applies flags, then refreshes
        await session.execute(update(Message).where(Message.uid == mailbox.uids["b"]).values(
            is_read=True))  # fmt: skip
        await refresh_threads(session, [thread_id])
        await session.commit()
    assert (await mailbox.threads())[thread_id].unread_count == 1

    for starred in (False, True, False):  # a star and an attachment come and go
        async with mailbox.sessions() as session:
            await session.execute(update(Message).where(Message.thread_id == thread_id).values(
                is_starred=False, has_attachments=False))  # fmt: skip
            await session.execute(update(Message).where(Message.uid == mailbox.uids["a"]).values(
                is_starred=starred, has_attachments=starred))  # fmt: skip
            await refresh_threads(session, [thread_id])
            await session.commit()
        thread = (await mailbox.threads())[thread_id]
        assert (thread.starred, thread.has_attachments) == (starred, starred)
        assert thread.snippet == "About c"

    async with mailbox.sessions() as session:  # an expunge of the newest message
        await session.execute(Message.__table__.delete().where(Message.uid == mailbox.uids["c"]))
        await refresh_threads(session, [thread_id])
        await session.commit()
    thread = (await mailbox.threads())[thread_id]
    assert (thread.message_count, thread.unread_count) == (2, 0)
    assert thread.last_message_at == T0 + timedelta(days=2)
    assert thread.snippet == "About b"  # the newest message left
    await mailbox.assert_aggregates()

    async with mailbox.sessions() as session:  # the last messages go: so does the thread
        await session.execute(Message.__table__.delete().where(Message.thread_id == thread_id))
        await refresh_threads(session, [thread_id, uuid.uuid4()])
        await session.commit()
    assert await mailbox.threads() == {}


async def test_already_threaded_messages_are_left_alone(mailbox: Mailbox) -> None:
    await mailbox.store([mail("a")])
    async with mailbox.sessions() as session:
        # This mailbox's row: other tests' mailboxes in the same database have a uid 1 too.
        row = await session.scalar(
            select(Message).where(
                Message.account_id == mailbox.account_id, Message.uid == mailbox.uids["a"]
            )
        )
        assert row is not None
        before = row.thread_id
        assert await assign_threads(session, [row]) == set()
        assert row.thread_id == before


async def test_statements_per_batch_do_not_grow_with_the_batch(mailbox: Mailbox) -> None:
    roots = [mail(f"root{n}", subject=f"Topic {n}", day=n / 10) for n in range(300)]
    await mailbox.store(roots)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async def statements_for(mails: list[Mail]) -> int:
        async with mailbox.sessions() as session:
            rows = [mailbox.row(m) for m in mails]
            session.add_all(rows)
            await session.flush()
            statements.clear()
            event.listen(mailbox.engine.sync_engine, "before_cursor_execute", count)
            try:
                await assign_threads(session, rows)
            finally:
                event.remove(mailbox.engine.sync_engine, "before_cursor_execute", count)
            await session.commit()
        return len(statements)

    def batch(tag: str, size: int) -> list[Mail]:
        return [
            # Replies to stored roots, header-less replies, and brand-new conversations.
            mail(f"{tag}{n}", subject=f"Re: Topic {n}", day=20, irt=f"root{n}@example.org")
            if n % 3 == 0
            else mail(f"{tag}{n}", subject=f"Re: Topic {n}", day=20)
            if n % 3 == 1
            else mail(f"{tag}{n}", subject=f"Fresh {tag} {n}", day=20)
            for n in range(size)
        ]

    small, large = await statements_for(batch("s", 10)), await statements_for(batch("l", 300))
    assert large <= 12
    assert large == small
    await mailbox.assert_aggregates()
