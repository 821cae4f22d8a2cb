"""Conversation threading: base subjects, JWZ in memory, and assignment in the database.

The corpus tests generate conversations whose true grouping is known (branching replies,
subject-only replies, In-Reply-To-only replies, copies in two folders, Gmail thread ids,
unrelated mail sharing a subject) and check that both the in-memory algorithm and the
incremental database assignment, fed in shuffled batches, recover it exactly.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from postwise import db
from postwise.accounts.models import MailAccount
from postwise.mail.models import Folder, Message, Thread
from postwise.sync.threading import (
    ThreadInput,
    assign_threads,
    assign_threads_with_changes,
    is_reply_or_forward,
    refresh_threads,
    subject_key,
    thread_messages,
)
from postwise.users.models import User

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
INBOX, ALL_MAIL, SENT = "INBOX", "[Gmail]/All Mail", "Sent"


# --- subjects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "key", "reply"),
    [
        ("Hello World", "hello world", False),
        ("  Hello \t  World \r\n ", "hello world", False),
        ("Re: Hello", "hello", True),
        ("RE: Re: re:Hello", "hello", True),
        ("Re:Re:Hello", "hello", True),
        ("Re[2]: Hello", "hello", True),
        ("RE [3] : Hello", "hello", True),
        ("Re(2): Hello", "hello", True),
        ("Re^2: Hello", "hello", True),
        ("Re : Bonjour", "bonjour", True),
        ("Fwd: Hello", "hello", True),
        ("FW: Hello", "hello", True),
        ("Fwd[3]: Hello", "hello", True),
        ("AW: WG: Angebot", "angebot", True),
        ("SV: VS: Möte", "möte", True),
        ("Antw: Doorst: Offerte", "offerte", True),
        ("TR: RE : Réunion", "réunion", True),
        ("R: I: Riunione", "riunione", True),
        ("RIF: Riunione", "riunione", True),
        ("Odp: PD: Spotkanie", "spotkanie", True),
        ("回复\uff1a会议", "会议", True),
        ("答复: 会议", "会议", True),
        ("转发\uff1a会议", "会议", True),
        ("ΑΠ: ΣΧΕΤ: Συνάντηση", "συνάντηση", True),
        ("ΠΡΘ: Συνάντηση", "συνάντηση", True),
        ("YNT: İLT: Toplant\u0131", "toplant\u0131", True),
        ("[dev] Build broken", "build broken", False),
        ("Re: [dev] Build broken", "build broken", True),
        ("[dev] Re: [dev] RE: Build broken", "build broken", True),
        ("[dev]", "[dev]", False),
        ("Hello (fwd)", "hello", True),
        ("[Fwd: Hello]", "hello", True),
        ("\uff28\uff25\uff2c\uff2c\uff2f", "hello", False),  # full-width letters
        ("Re:", "", True),
        ("", "", False),
        # Words that merely start like a prefix are the subject, not a prefix.
        ("Regarding: the plan", "regarding: the plan", False),
        ("Info: server down", "info: server down", False),
        ("Reply needed", "reply needed", False),
        ("Fwd without colon", "fwd without colon", False),
    ],
)
def test_subject_key(subject: str, key: str, reply: bool) -> None:
    assert subject_key(subject) == key
    assert is_reply_or_forward(subject) is reply


# --- a corpus with known conversations ------------------------------------------------------


@dataclass
class Mail:
    key: str
    conversation: int
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    date: datetime
    folder: str = INBOX
    gm_thrid: int | None = None
    is_read: bool = False

    def thread_input(self) -> ThreadInput:
        return ThreadInput(
            key=self.key,
            message_id=self.message_id,
            in_reply_to=self.in_reply_to,
            references=tuple(self.references),
            subject=self.subject,
            date=self.date,
        )


REPLY_PREFIXES = ["Re: ", "RE: ", "Re: Re: ", "AW: ", "Fwd: ", "SV: ", "[team] Re: "]


def _reply(rng: random.Random, parent: Mail, topic: str, mail_id: str, n: int) -> Mail:
    date = parent.date + timedelta(hours=rng.uniform(0.5, 30))
    subject = rng.choice(REPLY_PREFIXES) + topic
    kind = rng.random()
    own_id: str | None = mail_id
    refs = [*parent.references, parent.message_id] if parent.message_id else []
    in_reply_to = parent.message_id
    if kind < 0.10:  # a client that drops the headers: only the subject places it
        refs, in_reply_to = [], None
    elif kind < 0.25:  # In-Reply-To only
        refs = []
    elif kind < 0.30:  # a reply without a Message-ID of its own
        own_id = None
    elif kind < 0.35:  # the subject changed mid-conversation; the headers still hold it
        subject = f"Re: new angle on {topic} {n}"
    return Mail(mail_id, -1, own_id, in_reply_to, refs, subject, date)


def make_corpus(seed: int, conversations: int = 50) -> list[Mail]:
    rng = random.Random(seed)
    mails: list[Mail] = []
    for c in range(conversations):
        topic = f"Project {c} {rng.choice(['budget', 'launch', 'hiring', 'offsite'])}"
        start = T0 + timedelta(days=rng.uniform(0, 200))
        root = Mail(f"s{seed}c{c}m0", c, f"s{seed}c{c}m0@example.org", None, [], topic, start)
        conversation = [root]
        for n in range(1, rng.randint(1, 12)):
            # Branching: any earlier message with an id can be the one answered.
            parent = rng.choice([m for m in conversation if m.message_id])
            mail_id = f"s{seed}c{c}m{n}"
            conversation.append(_reply(rng, parent, topic, f"{mail_id}@example.org", n))
        for mail in conversation:
            mail.conversation = c
            mail.key = mail.key.split("@")[0]
            mail.is_read = rng.random() < 0.5
            if c % 4 == 0:  # Gmail knows the conversation
                mail.gm_thrid = 10**15 + seed * 1000 + c
        mails.extend(conversation)
    mails.extend(_unrelated(rng, seed, first_conversation=conversations))
    copies = [
        replace(m, key=f"{m.key}-copy", folder=ALL_MAIL)
        for m in mails
        if m.message_id and rng.random() < 0.06
    ]
    return mails + copies


def _unrelated(rng: random.Random, seed: int, *, first_conversation: int) -> Iterator[Mail]:
    """Originals sharing a subject, close in time, that must each stay on their own; and two
    separate conversations with the same topic, held together only by their headers."""
    c = first_conversation
    for subject, count in (("Weekly report", 8), ("Hello", 4)):
        for n in range(count):
            date = T0 + timedelta(days=3 * n, minutes=rng.randint(0, 600))
            yield Mail(f"s{seed}u{c}", c, f"s{seed}u{c}@example.org", None, [], subject, date)
            c += 1
    for n in range(2):
        root_id = f"s{seed}u{c}@example.org"
        date = T0 + timedelta(days=n)
        yield Mail(f"s{seed}u{c}", c, root_id, None, [], "Status update", date)
        reply_date = date + timedelta(hours=2)
        reply_id = f"s{seed}u{c}r@example.org"
        yield Mail(
            f"s{seed}u{c}r", c, reply_id, root_id, [root_id], "Re: Status update", reply_date
        )
        c += 1
    # No Message-ID at all: never joins anything, never breaks anything.
    yield Mail(f"s{seed}u{c}", c, None, None, [], "Your receipt", T0)


def known_groups(mails: Sequence[Mail]) -> set[frozenset[str]]:
    by_conversation: defaultdict[int, set[str]] = defaultdict(set)
    for mail in mails:
        by_conversation[mail.conversation].add(mail.key)
    return {frozenset(keys) for keys in by_conversation.values()}


def test_corpus_has_every_kind_of_mail() -> None:
    """Guards the corpus itself: the tests below are only as strong as its variety."""
    mails = make_corpus(1)
    conversations = known_groups(mails)
    assert len(conversations) >= 60
    assert any(len(group) >= 10 for group in conversations)
    assert any(not m.references and not m.in_reply_to and m.subject.startswith("Re") for m in mails)
    assert any(m.in_reply_to and not m.references for m in mails)
    assert any(m.message_id is None and m.in_reply_to for m in mails)
    assert any(m.folder == ALL_MAIL for m in mails)
    assert any(m.subject.startswith("Re: new angle") for m in mails)
    branching = defaultdict(int)
    for m in mails:
        if m.in_reply_to and m.folder == INBOX:
            branching[m.in_reply_to] += 1
    assert max(branching.values()) >= 2


# --- JWZ in memory --------------------------------------------------------------------------


def _groups(result: list[list[int | str]]) -> set[frozenset[int | str]]:
    return {frozenset(group) for group in result}


@pytest.mark.parametrize("seed", range(12))
def test_thread_messages_recovers_known_conversations(seed: int) -> None:
    mails = make_corpus(seed)
    random.Random(seed).shuffle(mails)
    result = thread_messages([m.thread_input() for m in mails])
    assert _groups(result) == known_groups(mails)
    dates = {m.key: m.date for m in mails}
    for group in result:
        assert [dates[str(k)] for k in group] == sorted(dates[str(k)] for k in group)
    firsts = [dates[str(group[0])] for group in result]
    assert firsts == sorted(firsts)


def _input(key: str, mid: str | None, *, refs: Sequence[str] = (), irt: str | None = None,
           subject: str = "Topic", day: float = 0) -> ThreadInput:  # fmt: skip
    return ThreadInput(key, mid, irt, tuple(refs), subject, T0 + timedelta(days=day))


def test_thread_messages_survives_reference_loops_and_self_references() -> None:
    result = thread_messages(
        [
            _input("a", "a@x", refs=["b@x"], subject="Loop"),
            _input("b", "b@x", refs=["a@x"], subject="Re: Loop", day=1),
            _input("c", "c@x", refs=["c@x", "a@x", "c@x", "b@x"], subject="Re: Loop", day=2),
            _input("self", "self@x", refs=["self@x"], irt="self@x", subject="Alone"),
        ]
    )
    assert _groups(result) == {frozenset("abc"), frozenset({"self"})}


def test_thread_messages_keeps_duplicates_and_missing_ids() -> None:
    result = thread_messages(
        [
            _input("root", "r@x", subject="Plan"),
            _input("copy", "r@x", subject="Plan"),  # the same mail in another folder
            _input("reply", "q@x", refs=["r@x"], subject="Re: Plan", day=1),
            _input("no-id-reply", None, refs=["r@x", "q@x"], subject="Re: Plan", day=2),
            _input("no-id-1", None, subject="Plan"),
            _input("no-id-2", None, subject="Plan"),
        ]
    )
    assert _groups(result) == {
        frozenset({"root", "copy", "reply", "no-id-reply"}),
        frozenset({"no-id-1"}),
        frozenset({"no-id-2"}),
    }


def test_thread_messages_joins_siblings_of_a_missing_parent() -> None:
    # Both answer a message we never got: JWZ's empty container keeps them together.
    result = thread_messages(
        [
            _input("b", "b@x", refs=["gone@x"], subject="Re: Gone"),
            _input("c", "c@x", refs=["root@x", "gone@x"], subject="Re: Gone", day=1),
            _input("d", "d@x", refs=["root@x", "other@x"], subject="Re: Gone", day=2),
        ]
    )
    assert _groups(result) == {frozenset("bcd")}


def test_subject_fallback_rules_in_memory() -> None:
    result = thread_messages(
        [
            _input("report-1", "r1@x", subject="Weekly report"),
            _input("report-2", "r2@x", subject="Weekly report", day=7),
            # A reply whose parent we lack is not guessed into one of the reports ...
            _input("dangling", "d@x", irt="r0@x", subject="Re: Weekly report", day=8),
            # ... but a reply with no headers at all joins the nearest original.
            _input("bare", "b@x", subject="RE: Weekly report", day=9),
            _input("lunch", "l1@x", subject="Lunch?"),
            _input("late-bare", "l2@x", subject="Re: Lunch?", day=45),
            _input("bare-1", "x1@x", subject="Re: Orphan"),
            _input("bare-2", "x2@x", subject="Fwd: Orphan", day=3),
        ]
    )
    assert _groups(result) == {
        frozenset({"report-1"}),
        frozenset({"report-2", "bare"}),
        frozenset({"dangling"}),
        frozenset({"lunch"}),
        frozenset({"late-bare"}),
        frozenset({"bare-1", "bare-2"}),
    }


@pytest.mark.parametrize("order", ["oldest-first", "newest-first", "shuffled"])
def test_thread_messages_handles_a_10000_message_chain(order: str) -> None:
    ids = [f"m{n}@x" for n in range(10_000)]
    messages = [
        _input(f"k{n}", ids[n], refs=[ids[0], *ids[max(1, n - 9) : n]], day=n / 100)
        for n in range(10_000)
    ]
    if order == "newest-first":
        messages.reverse()
    elif order == "shuffled":
        random.Random(7).shuffle(messages)
    started = time.monotonic()
    result = thread_messages(messages)
    assert time.monotonic() - started < 10
    assert len(result) == 1
    assert result[0] == [f"k{n}" for n in range(10_000)]


def test_thread_messages_handles_a_deep_parent_only_chain() -> None:
    # Each message names only its parent, delivered newest first: every link is found late.
    messages = [
        _input(f"k{n}", f"m{n}@x", irt=f"m{n - 1}@x" if n else None, day=n / 1000)
        for n in reversed(range(10_000))
    ]
    result = thread_messages(messages)
    assert len(result) == 1
    assert len(result[0]) == 10_000


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


@pytest.fixture
async def mailbox(make_settings: Any) -> AsyncIterator[Mailbox]:
    """A fresh user with one account and three folders, so tests never see each other."""
    engine = db.create_engine(make_settings())
    sessions = db.create_sessionmaker(engine)
    async with sessions() as session:
        user = User(email=f"{uuid.uuid4().hex}@example.org", password_hash="x")
        session.add(user)
        await session.flush()
        account = MailAccount(user_id=user.id, email=user.email)
        session.add(account)
        await session.flush()
        folders = {
            name: Folder(user_id=user.id, account_id=account.id, name=name)
            for name in (INBOX, ALL_MAIL, SENT)
        }
        session.add_all(folders.values())
        await session.commit()
        ids = {name: folder.id for name, folder in folders.items()}
        box = Mailbox(sessions, engine, user.id, account.id, ids)
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
    # a <- b <- c2, and a <- c1: the replies arrive first, in two threads of their own.
    await mailbox.store([mail("c1", subject="Re: Plan", day=3, refs=["a@example.org"],
                              irt="a@example.org")])  # fmt: skip
    await mailbox.store([mail("c2", subject="Re: Plan", day=4, refs=["b@example.org"],
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
    # A reply whose parent is missing is not guessed into an unrelated report ...
    await mailbox.store([mail("dangling", subject="Re: Weekly report", day=8, irt="r0@x")])
    # ... a header-less reply joins the nearest original ...
    await mailbox.store([mail("bare", subject="AW: Weekly report", day=9)])
    # ... but not one from months ago.
    await mailbox.store([mail("late", subject="Re: Weekly report", day=120)])
    # A header-less reply stored before its original is adopted when the original arrives.
    await mailbox.store([mail("early-reply", subject="Re: Budget", day=20)])
    await mailbox.store([mail("budget", subject="Budget", day=30)])
    assert await mailbox.grouping() == {
        frozenset({"report-1"}),
        frozenset({"report-2", "bare"}),
        frozenset({"dangling"}),
        frozenset({"late"}),
        frozenset({"early-reply", "budget"}),
    }
    await mailbox.assert_aggregates()


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

    async with mailbox.sessions() as session:  # an expunge of the newest message
        await session.execute(Message.__table__.delete().where(Message.uid == mailbox.uids["c"]))
        await refresh_threads(session, [thread_id])
        await session.commit()
    thread = (await mailbox.threads())[thread_id]
    assert (thread.message_count, thread.unread_count) == (2, 0)
    assert thread.last_message_at == T0 + timedelta(days=2)

    async with mailbox.sessions() as session:  # the last messages go: so does the thread
        await session.execute(Message.__table__.delete().where(Message.thread_id == thread_id))
        await refresh_threads(session, [thread_id, uuid.uuid4()])
        await session.commit()
    assert await mailbox.threads() == {}


async def test_already_threaded_messages_are_left_alone(mailbox: Mailbox) -> None:
    await mailbox.store([mail("a")])
    async with mailbox.sessions() as session:
        row = await session.scalar(select(Message).where(Message.uid == mailbox.uids["a"]))
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
