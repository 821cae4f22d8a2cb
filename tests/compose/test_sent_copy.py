"""After delivery: the copy in the server's Sent folder (a real Dovecot), stored locally at once in
the conversation it answers, known to the next sync; skipped where the server files it itself."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from sqlalchemy import select

from postwise.compose import imap_copy
from postwise.compose.models import DraftStatus, SentCopy
from postwise.mail.models import Folder, Message
from tests.accounts.servers import closed_port
from tests.compose.outbox_harness import Outbox, ago, open_outbox
from tests.fixtures import smtp as smtp_fixtures
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.smtp import MakeSmtpServer, SmtpServer
from tests.sync.conftest import Mailbox, add_mailbox, make_message, open_sync_context, wait_for

pytestmark = pytest.mark.backend
# The shared fixture, under a name of this module (tests/compose has no conftest of its own).
smtp_servers = smtp_fixtures.make_smtp_server

MakeOutbox = Callable[..., AbstractAsyncContextManager[Outbox]]


@pytest.fixture
def smtp(smtp_servers: MakeSmtpServer) -> SmtpServer:
    return smtp_servers()


@pytest.fixture
async def box(make_settings: Any) -> AsyncIterator[Outbox]:
    async with open_outbox(make_settings(mail_connect_timeout=10)) as outbox:
        yield outbox


async def folder_of(box: Outbox, account_id: uuid.UUID, role: str) -> Folder | None:
    async with box.ctx.sessionmaker() as db:
        found: Folder | None = await db.scalar(
            select(Folder).where(Folder.account_id == account_id, Folder.role == role)
        )
        return found


async def messages_in(box: Outbox, folder_id: uuid.UUID) -> list[Message]:
    async with box.ctx.sessionmaker() as db:
        rows = await db.scalars(select(Message).where(Message.folder_id == folder_id))
        return list(rows.all())


def server_copies(dovecot: Dovecot, username: str, folder: str) -> dict[int, dict[bytes, Any]]:
    imap = dovecot.client(username)
    try:
        imap.select_folder(folder, readonly=True)
        uids = imap.search("ALL")
        return dict(imap.fetch(uids, ["FLAGS", "BODY.PEEK[]"])) if uids else {}
    finally:
        imap.logout()


async def synced_mailbox(box: Outbox, dovecot: Dovecot, smtp: SmtpServer) -> tuple[Mailbox, str]:
    """A Dovecot mailbox with one message in INBOX, synced (folders, the message, its thread),
    sending through `smtp`; returns it and the message's Message-ID."""
    async with open_sync_context(box.settings) as sync_ctx:
        mailbox = await add_mailbox(sync_ctx, dovecot)
        box.user_ids.append(mailbox.user_id)
        original, original_id = make_message(1, subject="Lunch on Friday?")
        mailbox.append(original)

        async def ready() -> bool:
            sent = await folder_of(box, mailbox.account_id, "sent")
            return (
                sent is not None
                and sent.uidvalidity is not None
                and (await mailbox.count("INBOX") == 1)
            )

        async with mailbox.syncing():
            await wait_for(ready)
    await box.change_account(mailbox.account_id, smtp_port=smtp.port)
    return mailbox, original_id


async def test_the_sent_copy_lands_in_sent_and_in_its_thread(
    box: Outbox, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    mailbox, original_id = await synced_mailbox(box, dovecot, smtp)
    [original] = await mailbox.messages("INBOX")
    draft_id = await box.queue(
        mailbox.account_id,
        status=DraftStatus.DRAFT,
        to=[{"name": "Sender 1", "address": "sender1@example.test"}],
        bcc=[{"name": "", "address": "boss@example.org"}],
        subject="Re: Lunch on Friday?",
        text="Friday works.\n",
        in_reply_to=original_id,
        references=[original_id],
    )
    # The draft was mirrored to Drafts while it was written.
    assert await imap_copy.mirror_draft(box.ctx, draft_id, 1) == "mirrored"
    assert len(server_copies(dovecot, mailbox.username, "Drafts")) == 1

    await box.change(draft_id, status=DraftStatus.QUEUED, next_attempt_at=ago(0))
    async with box.events(mailbox.user_id) as events:
        assert await box.deliver(draft_id) == 1
        await box.settle()  # the Sent copy job

    entry = await box.entry(draft_id)
    assert entry.sent_copy == SentCopy.DONE
    assert entry.mirror_uid is None
    assert server_copies(dovecot, mailbox.username, "Drafts") == {}
    [(uid, fetched)] = server_copies(dovecot, mailbox.username, "Sent").items()
    assert b"\\Seen" in fetched[b"FLAGS"]
    copy = email.message_from_bytes(fetched[b"BODY[]"], policy=email.policy.default)
    assert copy["Message-ID"] == f"<{entry.message_id}>"
    assert copy["Bcc"] == "boss@example.org"  # the user's copy says who was in Bcc
    [delivery] = smtp.deliveries
    assert "Bcc" not in delivery.message
    assert fetched[b"BODY[]"].endswith(delivery.raw)

    sent = await folder_of(box, mailbox.account_id, "sent")
    assert sent is not None
    [row] = await messages_in(box, sent.id)
    assert row.uid == uid
    assert row.uidvalidity == sent.uidvalidity
    assert row.thread_id == original.thread_id
    assert row.is_read
    assert row.bcc == [{"name": "", "address": "boss@example.org"}]
    created = events.of("message.created")
    assert {"account_id": str(mailbox.account_id), "folder_id": str(sent.id)}.items() <= created[
        -1
    ].items()
    assert created[-1]["message_ids"] == [row.id]

    # The next sync finds that UID already known: still one copy.
    async with open_sync_context(box.settings) as sync_ctx:
        again = Mailbox(dovecot, mailbox.username, mailbox.account_id, mailbox.user_id, sync_ctx)

        async def caught_up() -> bool:
            folder = await folder_of(box, mailbox.account_id, "sent")
            return folder is not None and folder.uidnext > uid

        async with again.syncing():
            await wait_for(caught_up)
    assert [m.id for m in await messages_in(box, sent.id)] == [row.id]

    # A Sent copy job lost in a restart is run again by the sweep, which first looks whether
    # the copy is there: no second copy, on the server or here.
    await box.change(draft_id, sent_copy=SentCopy.PENDING, sent_at=ago(11 * 60))
    assert (await box.sweep())["copies"] == 1
    await box.settle()
    assert (await box.entry(draft_id)).sent_copy == SentCopy.DONE
    assert list(server_copies(dovecot, mailbox.username, "Sent")) == [uid]
    assert [m.id for m in await messages_in(box, sent.id)] == [row.id]


async def test_the_sent_copy_is_skipped_where_the_server_files_it(
    box: Outbox, smtp: SmtpServer
) -> None:
    user_id = await box.user()
    # Nothing listens on the IMAP port: trying to APPEND would fail, not skip.
    gmail = await box.account(
        user_id,
        smtp_port=smtp.port,
        imap_host="127.0.0.1",
        imap_port=closed_port(),
        capabilities="IMAP4REV1 IDLE UIDPLUS X-GM-EXT-1",
    )
    no_sent = await box.account(
        user_id, smtp_port=smtp.port, imap_host="127.0.0.1", imap_port=closed_port()
    )
    await box.add_folder(gmail, "[Gmail]/Sent Mail", "sent")
    drafts = [await box.queue(gmail), await box.queue(no_sent)]
    for draft_id in drafts:
        assert await box.deliver(draft_id) == 1
    await box.settle()
    for draft_id in drafts:
        entry = await box.entry(draft_id)
        assert entry.status == DraftStatus.SENT
        assert entry.sent_copy == SentCopy.SKIPPED
    assert len(smtp.deliveries) == 2


async def test_a_sent_copy_that_cannot_be_filed_is_marked_failed(
    box: Outbox, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap_copy, "_RETRY_PAUSES", (0.01,))
    user_id = await box.user()
    account_id = await box.account(
        user_id, smtp_port=smtp.port, imap_host="127.0.0.1", imap_port=closed_port()
    )
    await box.add_folder(account_id, "Sent", "sent")
    draft_id = await box.queue(account_id)
    assert await box.deliver(draft_id) == 1
    await box.settle()
    entry = await box.entry(draft_id)
    # Delivered all the same: the copy is the only thing missing, and it says so.
    assert entry.status == DraftStatus.SENT
    assert entry.sent_copy == SentCopy.FAILED
