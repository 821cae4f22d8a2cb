"""The sync engine against a real Dovecot: initial sync, push, flags, expunges, UIDVALIDITY."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import select

from postwise.accounts.connection import ImapLogin
from postwise.accounts.models import SyncState
from postwise.mail.models import Folder, Message, Thread
from postwise.sync.context import SyncContext
from postwise.sync.imap import ImapSession
from postwise.sync.mailbox import MailboxSync
from tests.fixtures.dovecot import Dovecot
from tests.sync.conftest import (
    Mailbox,
    add_mailbox,
    days_ago,
    make_message,
    open_sync_context,
    wait_for,
)

pytestmark = pytest.mark.backend


async def _idle(mailbox: Mailbox) -> bool:
    account = await mailbox.account()
    return account.sync_state == SyncState.IDLE and account.last_synced_at is not None


async def test_initial_sync_is_exact(mailbox: Mailbox) -> None:
    expected: dict[str, dict[str, tuple[bool, bool]]] = {"INBOX": {}, "Sent": {}, "Projects": {}}
    imap = mailbox.server.client(mailbox.username)
    imap.create_folder("Projects")
    imap.logout()
    for n in range(60):
        folder = "INBOX" if n < 40 else ("Sent" if n < 50 else "Projects")
        flags = tuple(f for f, on in (("\\Seen", n % 3 == 0), ("\\Flagged", n % 7 == 0)) if on)
        raw, msgid = make_message(n, when=days_ago(n))
        mailbox.append(raw, folder=folder, flags=flags, when=days_ago(n))
        expected[folder][msgid] = (n % 3 == 0, n % 7 == 0)

    async with mailbox.syncing():
        await wait_for(lambda: _idle(mailbox))

    for folder_name, wanted in expected.items():
        rows = await mailbox.messages(folder_name)
        got = {m.message_id: (m.is_read, m.is_starred) for m in rows}
        assert got == wanted, folder_name
        assert len({m.uid for m in rows}) == len(rows)
        assert all(m.thread_id is not None for m in rows)
    async with mailbox.ctx.sessionmaker() as db:
        folders = {
            f.name: f
            for f in (await db.scalars(select(Folder))).all()
            if f.account_id == mailbox.account_id
        }
    assert folders["INBOX"].role == "inbox"
    assert folders["Sent"].role == "sent"
    assert folders["Trash"].role == "trash"
    assert folders["Projects"].role is None
    assert folders["INBOX"].total_count == 40
    assert folders["INBOX"].unread_count == sum(1 for r, _ in expected["INBOX"].values() if not r)


async def test_window_first_then_backfill_of_older_mail(
    sync_context: SyncContext, dovecot: Dovecot
) -> None:
    mailbox = await add_mailbox(sync_context, dovecot, window_days=30)
    for n in range(30):
        age = 200 - n if n < 20 else n  # 20 old messages, 10 recent ones
        raw, _ = make_message(n, when=days_ago(age))
        mailbox.append(raw, when=days_ago(age))
    async with mailbox.syncing():
        await wait_for(lambda: _idle(mailbox))
        await wait_for(lambda: _count_is(mailbox, 30))
    rows = await mailbox.messages("INBOX")
    assert sorted(m.uid for m in rows) == list(range(1, 31))


async def _count_is(mailbox: Mailbox, expected: int, folder: str | None = None) -> bool:
    return await mailbox.count(folder) == expected


async def test_new_mail_arrives_through_idle_within_two_seconds(mailbox: Mailbox) -> None:
    raw, _ = make_message(1)
    mailbox.append(raw)
    async with mailbox.syncing():
        await wait_for(lambda: _idle(mailbox))
        await asyncio.sleep(0.3)  # the IDLE connection is up
        raw, msgid = make_message(2)
        await asyncio.to_thread(mailbox.append, raw)
        took = await wait_for(lambda: _count_is(mailbox, 2), timeout=5)
    assert took < 2.0, f"new mail took {took:.2f} s"
    assert msgid in {m.message_id for m in await mailbox.messages("INBOX")}


async def _flags_and_expunge(mailbox: Mailbox) -> None:
    for n in range(3):
        raw, _ = make_message(n)
        mailbox.append(raw)
    async with mailbox.syncing():
        await wait_for(lambda: _idle(mailbox))
        imap = mailbox.server.client(mailbox.username)
        imap.select_folder("INBOX")
        imap.add_flags([1], ["\\Seen"])
        imap.add_flags([2], ["\\Flagged", "$Important"])
        imap.delete_messages([3])
        imap.expunge()
        imap.logout()

        async def reflected() -> bool:
            rows = {m.uid: m for m in await mailbox.messages("INBOX")}
            return (
                set(rows) == {1, 2}
                and rows[1].is_read
                and rows[2].is_starred
                and "$Important" in rows[2].keywords
            )

        await wait_for(reflected, timeout=10)
    async with mailbox.ctx.sessionmaker() as db:
        inbox = await db.scalar(
            select(Folder).where(Folder.account_id == mailbox.account_id, Folder.name == "INBOX")
        )
        assert inbox is not None and inbox.total_count == 2 and inbox.unread_count == 1


async def test_flags_and_expunges_by_another_client_arrive(mailbox: Mailbox) -> None:
    await _flags_and_expunge(mailbox)


async def test_flags_are_scanned_where_the_server_lacks_condstore(
    make_settings, dovecot_without_condstore: Dovecot
) -> None:
    async with open_sync_context(make_settings(sync_poll_seconds=1)) as ctx:
        mailbox = await add_mailbox(ctx, dovecot_without_condstore)
        await _flags_and_expunge(mailbox)


async def test_uidvalidity_change_resyncs_the_folder(mailbox: Mailbox) -> None:
    imap = mailbox.server.client(mailbox.username)
    imap.create_folder("Projects")
    imap.logout()
    for n in range(3):
        mailbox.append(make_message(n)[0], folder="Projects")
    async with mailbox.syncing() as loop:
        await wait_for(lambda: _count_is(mailbox, 3, "Projects"))
        old = {m.message_id for m in await mailbox.messages("Projects")}
        imap = mailbox.server.client(mailbox.username)
        imap.rename_folder("Projects", "Projects-old")
        imap.create_folder("Projects")
        imap.logout()
        fresh: set[str] = set()
        for n in range(2):
            raw, msgid = make_message(100 + n)
            mailbox.append(raw, folder="Projects")
            fresh.add(msgid)
        loop.signals.wake()

        async def replaced() -> bool:
            rows = await mailbox.messages("Projects")
            return {m.message_id for m in rows} == fresh

        await wait_for(replaced)
        await wait_for(lambda: _count_is(mailbox, 3, "Projects-old"))
    assert not old & fresh


async def test_threads_are_built_as_mail_arrives(mailbox: Mailbox) -> None:
    first, first_id = make_message(1, subject="Lunch on Friday?")
    reply, _ = make_message(2, subject="Re: Lunch on Friday?", reply_to=first_id)
    mailbox.append(first)
    async with mailbox.syncing():
        await wait_for(lambda: _count_is(mailbox, 1))
        mailbox.append(reply)
        await wait_for(lambda: _count_is(mailbox, 2))
    rows = await mailbox.messages("INBOX")
    assert rows[0].thread_id == rows[1].thread_id is not None
    async with mailbox.ctx.sessionmaker() as db:
        thread = await db.get(Thread, rows[0].thread_id)
        assert thread is not None and thread.message_count == 2


async def test_a_message_that_cannot_be_parsed_is_kept_and_flagged(mailbox: Mailbox) -> None:
    broken = (
        b"Subject: =?utf-8?q?broken\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n\xff\xfe"
    )
    mailbox.append(broken)
    mailbox.append(make_message(1)[0])
    async with mailbox.syncing():
        await wait_for(lambda: _count_is(mailbox, 2))
    rows = await mailbox.messages("INBOX")
    assert len(rows) == 2
    async with mailbox.ctx.sessionmaker() as db:
        stored = (
            await db.scalars(
                select(Message.raw_sha256).where(Message.account_id == mailbox.account_id)
            )
        ).all()
    assert all(mailbox.ctx.blobs.exists(d) for d in stored)
    assert mailbox.ctx.blobs.get(rows[0].raw_sha256).startswith(b"Subject:")


async def test_idle_is_reissued_and_still_delivers(
    make_settings, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[float] = []
    original = ImapSession.idle_start

    def counting(self: ImapSession) -> None:
        started.append(time.monotonic())
        original(self)

    monkeypatch.setattr(ImapSession, "idle_start", counting)
    async with open_sync_context(make_settings(sync_idle_seconds=5)) as ctx:
        mailbox = await add_mailbox(ctx, dovecot)
        mailbox.append(make_message(1)[0])
        async with mailbox.syncing():
            await wait_for(lambda: _idle(mailbox))
            await asyncio.sleep(6.5)  # past the first IDLE's lifetime: a new one is running
            await asyncio.to_thread(mailbox.append, make_message(2)[0])
            took = await wait_for(lambda: _count_is(mailbox, 2), timeout=5)
        assert took < 2.0, f"new mail took {took:.2f} s after IDLE was re-issued"
    # Once at the start, then again after its 5 s (and after the new mail woke it).
    assert len(started) >= 2
    # Checked once a second while idling, so a little late under load, never early.
    assert 4.5 <= started[1] - started[0] <= 9


async def test_a_stopped_loop_lets_go_of_its_idle_connection_at_once(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An IDLE check that blocks for a minute, and a close() that would wait as long for it:
    # only cutting the connection lets the loop stop (and the check's thread go) within 10 s.
    # The test Dovecot says "still here" every second; the check looks through those, as it
    # would block on a server that keeps quiet.
    monkeypatch.setattr("postwise.sync.imap.CLOSE_WAIT_S", 60.0)
    waiting = threading.Event()
    returned = threading.Event()
    original = ImapSession.idle_wait

    # Only this test's sessions are watched: the suite's event loop is shared by every test of
    # a worker, so a mailbox loop another test left running could enter the patched method
    # first and hold `waiting` for its own minute (a full run under load failed that way).
    mine: set[int] = set()

    def watched(self: ImapSession, timeout: float) -> bool:
        if id(self) not in mine:
            return original(self, timeout)
        check = self.client.idle_check

        def quiet_check(timeout: float | None = None) -> list[tuple[object, ...]]:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                began = time.monotonic()
                responses = check(timeout=1.0)
                changes = [r for r in responses if r[:1] != (b"OK",)]
                if changes:
                    return changes
                if not responses and time.monotonic() - began < 0.9:
                    return []  # nothing, at once: the connection is gone
            return []

        self.client.idle_check = quiet_check  # type: ignore[method-assign]
        waiting.set()
        try:
            return original(self, timeout)
        finally:
            returned.set()

    monkeypatch.setattr(ImapSession, "idle_wait", watched)
    mailbox.append(make_message(1)[0])
    loop = MailboxSync(mailbox.ctx, mailbox.account_id)
    opened = loop._open

    async def recorded(login: ImapLogin) -> ImapSession:
        session = await opened(login)
        mine.add(id(session))
        return session

    loop._open = recorded  # type: ignore[method-assign]
    task = asyncio.create_task(loop.run())
    try:
        await wait_for(lambda: _idle(mailbox))
        await asyncio.to_thread(waiting.wait, 10)
        assert waiting.is_set(), "the IDLE connection never began waiting"
    finally:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
    assert done, "the loop was still stopping after 10 s"
    # Well under the minute the check would block for; more than a few seconds because on a
    # loaded machine each of the check's one-second reads can overrun the 0.9 s by which it
    # tells a cut connection from a quiet one (5 s failed once beside the web checks).
    assert await asyncio.to_thread(returned.wait, 30), "the IDLE check's thread is still blocked"
