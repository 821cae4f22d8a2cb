"""The outbox worker against a real SMTP server (aiosmtpd): what arrives, retries, permanent
failures, the claim and the sweep, one session per mailbox."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from postwise.accounts.models import Security
from postwise.compose import outbox as transitions
from postwise.compose.models import DraftStatus, SentCopy
from postwise.db import utcnow
from postwise.mail.blob_gc import collect_blobs
from postwise.notifications.models import NotificationKind
from tests.accounts.servers import tls_smtp_server
from tests.compose.outbox_harness import Outbox, ago, open_outbox
from tests.fixtures import smtp as smtp_fixtures
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.smtp import RECIPIENT_REJECTED, MakeSmtpServer, SmtpServer

pytestmark = pytest.mark.backend
# The shared fixture, under a name of this module (tests/compose has no conftest of its own).
smtp_servers = smtp_fixtures.make_smtp_server

MakeOutbox = Callable[..., AbstractAsyncContextManager[Outbox]]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4


@pytest.fixture
def make_outbox(make_settings: Any) -> MakeOutbox:
    def make(**overrides: Any) -> AbstractAsyncContextManager[Outbox]:
        values: dict[str, Any] = {"send_retry_base_seconds": 0.05, "mail_connect_timeout": 5}
        values.update(overrides)
        return open_outbox(make_settings(**values))

    return make


@pytest.fixture
def smtp(smtp_servers: MakeSmtpServer) -> SmtpServer:
    """An SMTP server that accepts every message."""
    return smtp_servers()


@pytest.fixture
async def box(make_outbox: MakeOutbox) -> AsyncIterator[Outbox]:
    async with make_outbox() as outbox:
        yield outbox


async def mailbox(box: Outbox, server: SmtpServer, **fields: Any) -> tuple[uuid.UUID, uuid.UUID]:
    user_id = await box.user()
    return user_id, await box.account(user_id, smtp_port=server.port, **fields)


def text(part: EmailMessage) -> str:
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


def parts(message: EmailMessage) -> dict[str, EmailMessage]:
    return {part.get_content_type(): part for part in message.walk()}


async def test_the_message_arrives_as_written(box: Outbox, smtp: SmtpServer) -> None:
    user_id, account_id = await mailbox(box, smtp, email="zoe@example.test")
    draft_id = await box.queue(
        account_id,
        to=[{"name": "Ann Élise Łukasiewicz", "address": "ann@example.org"}],
        cc=[{"name": "", "address": "bob@example.org"}],
        bcc=[{"name": "Boss", "address": "boss@example.org"}],
        subject="Grüße aus Köln — 日本語の件名",
        text="Hallo Ann,\nschön dich zu sehen.\n",
        html='<p>Hallo <b>Ann</b>,</p><p><img src="cid:logo@pw"></p>',
        in_reply_to="orig@example.org",
        references=["root@example.org", "orig@example.org"],
        attachments=[
            ("Überweisung März.pdf", "application/pdf", PDF, None),
            ("logo.png", "image/png", PNG, "logo@pw"),
        ],
    )
    async with box.events(user_id) as events:
        assert await box.deliver(draft_id) == 1

    [delivery] = smtp.deliveries
    message = delivery.message
    entry = await box.entry(draft_id)
    assert delivery.mail_from == "zoe@example.test"
    assert delivery.rcpt_tos == ["ann@example.org", "bob@example.org", "boss@example.org"]
    assert "Bcc" not in message
    assert b"boss@example.org" not in delivery.raw
    assert message["From"].addresses[0].display_name == "Zoë Ærøskøbing"
    assert message["To"].addresses[0].display_name == "Ann Élise Łukasiewicz"
    assert message["Subject"] == "Grüße aus Köln — 日本語の件名"
    assert message["Message-ID"] == f"<{entry.message_id}>"
    assert message["In-Reply-To"] == "<orig@example.org>"
    assert message["References"].split() == ["<root@example.org>", "<orig@example.org>"]
    assert delivery.raw.isascii()  # RFC 2047 and 7-bit bodies: no server needs 8BITMIME
    found = parts(message)
    assert found["multipart/alternative"] is not None
    assert text(found["text/plain"]) == "Hallo Ann,\nschön dich zu sehen.\n"
    assert "<b>Ann</b>" in found["text/html"].get_content()
    related = found["multipart/related"]
    image = next(p for p in related.iter_parts() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<logo@pw>"
    assert image.get_content() == PNG
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "Überweisung März.pdf"
    assert attachment.get_content() == PDF

    assert entry.status == DraftStatus.SENT
    assert entry.smtp_reply is not None and entry.smtp_reply.startswith("250")
    assert entry.sent_at is not None and entry.attempts == 1
    assert entry.data_started_at is not None
    # The bytes kept for the Sent copy are the bytes delivered.
    assert entry.raw_sha256 is not None
    assert box.blobs.get(entry.raw_sha256) == delivery.raw
    assert events.outbox() == [
        (str(draft_id), "sending", None),
        (str(draft_id), "sent", None),
    ]


async def test_starttls_and_auth(make_outbox: MakeOutbox, dovecot: Dovecot) -> None:
    # The SMTP server uses Dovecot's self-signed certificate, trusted here as a private CA.
    async with make_outbox(mail_ca_file=dovecot.cert_path) as box:
        with tls_smtp_server(
            dovecot.cert_path, implicit=False, users={"ada@example.test": "pw-ada-2291"}
        ) as server:
            user_id = await box.user()
            account_id = await box.account(
                user_id,
                smtp_host="localhost",
                smtp_port=server.port,
                security=Security.STARTTLS,
                username="ada@example.test",
                password="pw-ada-2291",
            )
            draft_id = await box.queue(account_id)
            assert await box.deliver(draft_id) == 1
            [delivery] = server.deliveries
        assert (await box.entry(draft_id)).status == DraftStatus.SENT
    assert delivery.login == "ada@example.test"


async def test_a_421_is_retried_and_the_message_arrives_once(
    box: Outbox, smtp_servers: MakeSmtpServer
) -> None:
    server = smtp_servers(
        temporary_failures=1, temporary_reply="421 4.3.2 System shutting down, come back"
    )
    _, account_id = await mailbox(box, server)
    draft_id = await box.queue(account_id)

    assert await box.deliver(draft_id) == 0
    entry = await box.entry(draft_id)
    assert entry.status == DraftStatus.QUEUED
    assert entry.error_code == "smtp_unavailable"
    assert entry.smtp_reply == "421 4.3.2 System shutting down, come back"
    assert entry.attempts == 1
    assert entry.next_attempt_at is not None and entry.first_attempt_at is not None
    assert entry.next_attempt_at - entry.first_attempt_at >= timedelta(seconds=0.05)
    assert server.deliveries == []

    await asyncio.sleep(0.1)  # the backoff: send_retry_base_seconds
    assert await box.deliver(draft_id) == 1
    entry = await box.entry(draft_id)
    assert entry.status == DraftStatus.SENT and entry.attempts == 2
    assert entry.error_code is None
    assert len(server.deliveries) == 1
    # Nothing is left to send, by any path.
    await box.sweep()
    await box.settle()
    assert len(server.deliveries) == 1
    assert server.data_attempts == 2


async def test_a_550_is_not_retried_and_the_user_is_told(
    box: Outbox, smtp_servers: MakeSmtpServer
) -> None:
    server = smtp_servers(reject_recipients=RECIPIENT_REJECTED)
    user_id, account_id = await mailbox(box, server)
    draft_id = await box.queue(account_id, subject="Quarterly numbers")
    async with box.events(user_id) as events:
        assert await box.deliver(draft_id) == 0
        await box.settle()

    entry = await box.entry(draft_id)
    assert entry.status == DraftStatus.FAILED
    assert entry.error_code == "smtp_rejected"
    assert entry.smtp_reply == RECIPIENT_REJECTED
    assert entry.last_error is not None and RECIPIENT_REJECTED in entry.last_error
    assert (str(draft_id), "failed", "smtp_rejected") in events.outbox()
    [notice] = await box.notifications(user_id)
    assert notice.kind == NotificationKind.SEND_FAILED
    assert notice.title == "Not sent: Quarterly numbers"
    assert notice.data == {"draft_id": str(draft_id), "code": "smtp_rejected"}
    assert events.of("notification.created")

    await asyncio.sleep(0.1)
    await box.sweep()
    await box.settle()
    assert server.rcpt_attempts == 1
    assert server.data_attempts == 0
    assert (await box.entry(draft_id)).status == DraftStatus.FAILED


async def test_a_changed_password_fails_and_keeps_the_message(
    box: Outbox, smtp_servers: MakeSmtpServer
) -> None:
    server = smtp_servers(users={"ada@example.test": "the-new-password"})
    _, account_id = await mailbox(
        box, server, username="ada@example.test", password="the-old-password"
    )
    draft_id = await box.queue(account_id, text="Keep me.\n")
    assert await box.deliver(draft_id) == 0
    entry = await box.entry(draft_id)
    assert entry.status == DraftStatus.FAILED
    assert entry.error_code == "smtp_auth_failed"
    assert entry.last_error is not None and "Settings → Mailboxes" in entry.last_error
    assert entry.smtp_reply is not None and entry.smtp_reply.startswith("535")
    assert entry.text == "Keep me.\n"
    assert server.failed_logins >= 1
    assert server.deliveries == []


async def test_a_refused_host_is_never_contacted(make_outbox: MakeOutbox, smtp: SmtpServer) -> None:
    async with make_outbox(mail_private_hosts="deny") as box:
        _, account_id = await mailbox(box, smtp)
        draft_id = await box.queue(account_id)
        assert await box.deliver(draft_id) == 0
        entry = await box.entry(draft_id)
    assert entry.status == DraftStatus.FAILED
    assert entry.error_code == "host_not_allowed"
    assert smtp.connections == 0


async def test_retries_end_when_the_retry_time_is_used_up(
    make_outbox: MakeOutbox, smtp_servers: MakeSmtpServer
) -> None:
    server = smtp_servers(temporary_failures=5)
    async with make_outbox(send_retry_seconds=0) as box:
        _, account_id = await mailbox(box, server)
        draft_id = await box.queue(account_id)
        assert await box.deliver(draft_id) == 0
        entry = await box.entry(draft_id)
    assert entry.status == DraftStatus.FAILED
    assert entry.error_code == "delivery_failed"
    assert entry.smtp_reply == "451 4.3.0 Temporary local problem, try again later"
    assert entry.last_error is not None and "451 4.3.0" in entry.last_error


async def test_a_worker_dying_after_data_never_sends_twice(
    make_outbox: MakeOutbox, smtp_servers: MakeSmtpServer
) -> None:
    # The server takes the message, then is slow to say so: the worker dies in between.
    server = smtp_servers(reply_delay=30)
    async with make_outbox() as box:
        user_id, account_id = await mailbox(box, server)
        draft_id = await box.queue(account_id)
        worker = asyncio.create_task(box.deliver(draft_id))
        await server.wait_for(1)
        worker.cancel()
        await asyncio.wait({worker})
        entry = await box.entry(draft_id)
        assert entry.status == DraftStatus.SENDING
        assert entry.data_started_at is not None
        await box.sweep()  # the claim has not expired yet: nothing is decided
        assert (await box.entry(draft_id)).status == DraftStatus.SENDING

        await box.change(draft_id, claimed_until=ago(1))
        await box.sweep()
        await box.settle()
        entry = await box.entry(draft_id)
        assert entry.status == DraftStatus.FAILED
        assert entry.error_code == "delivery_uncertain"
        assert entry.last_error is not None and "may have been sent" in entry.last_error
        [notice] = await box.notifications(user_id)
        assert notice.data["code"] == "delivery_uncertain"
        await box.sweep()
        await box.settle()
    assert server.data_attempts == 1
    assert len(server.deliveries) == 1


async def test_a_claim_that_expired_before_data_is_sent_once(box: Outbox, smtp: SmtpServer) -> None:
    _, account_id = await mailbox(box, smtp)
    draft_id = await box.queue(account_id)
    # A worker claims the entry and dies before DATA.
    async with box.ctx.transaction() as db:
        claim = await transitions.claim(db, draft_id, now=utcnow(), claim_seconds=60)
    assert claim is not None
    assert await box.deliver(draft_id) == 0  # claimed: no one else sends it
    await box.change(draft_id, claimed_until=ago(1))

    counts = await box.sweep()
    await box.settle()
    assert counts["requeued"] == 1
    entry = await box.entry(draft_id)
    assert entry.status == DraftStatus.SENT
    assert entry.attempts == 2
    assert len(smtp.deliveries) == 1
    # The dead worker coming back changes nothing: its claim is gone.
    async with box.ctx.transaction() as db:
        assert not await transitions.start_data(db, claim, now=utcnow(), claim_seconds=60)
        assert not await transitions.mark_sent(
            db, claim, now=utcnow(), reply="250 late", sent_copy=SentCopy.PENDING
        )


async def test_a_scheduled_send_waits_for_its_time(box: Outbox, smtp: SmtpServer) -> None:
    _, account_id = await mailbox(box, smtp)
    later = utcnow() + timedelta(hours=2)
    draft_id = await box.queue(account_id, due=later, scheduled=True)
    assert await box.deliver(draft_id) == 0
    assert (await box.sweep())["woken"] == 0
    await box.settle()
    assert smtp.connections == 0

    # Two hours later (a restart in between: no job waits for it, the row is all there is).
    await box.change(draft_id, next_attempt_at=ago(1))
    assert (await box.sweep())["woken"] == 1
    await box.settle()
    assert (await box.entry(draft_id)).status == DraftStatus.SENT
    assert len(smtp.deliveries) == 1


async def test_the_undo_window_is_waited_out(box: Outbox, smtp: SmtpServer) -> None:
    _, account_id = await mailbox(box, smtp)
    draft_id = await box.queue(account_id, due=utcnow() + timedelta(seconds=0.3))
    cancelled = await box.queue(account_id, due=utcnow() + timedelta(seconds=0.3))
    await box.change(cancelled, status=DraftStatus.DRAFT)  # undone during the window
    assert await box.deliver(draft_id) == 1
    assert await box.deliver(cancelled) == 0
    assert [d.message["Message-ID"] for d in smtp.deliveries] == [
        f"<{(await box.entry(draft_id)).message_id}>"
    ]


async def test_a_mailbox_drains_over_one_connection(box: Outbox, smtp: SmtpServer) -> None:
    _, account_id = await mailbox(box, smtp)
    drafts = [await box.queue(account_id, subject=f"Message {n}") for n in range(22)]
    # Several jobs at once, as the send route and the sweep may start them.
    sent = await asyncio.gather(*(box.deliver(d) for d in drafts[:3]))
    assert sum(sent) == 22
    assert smtp.connections == 1
    assert len({d.peer for d in smtp.deliveries}) == 1
    ids = [d.message["Message-ID"] for d in smtp.deliveries]
    assert len(ids) == len(set(ids)) == 22
    for draft_id in drafts:
        assert (await box.entry(draft_id)).status == DraftStatus.SENT


async def test_a_job_that_finds_the_mailbox_draining_leaves_at_once(
    box: Outbox, smtp_servers: MakeSmtpServer
) -> None:
    # The server is slow to accept, so the first drain is still running when the second
    # message is queued and its job starts.
    server = smtp_servers(reply_delay=0.3)
    _, account_id = await mailbox(box, server)
    first = await box.queue(account_id, subject="First")
    running = asyncio.create_task(box.deliver(first))
    await server.wait_for(1)
    second = await box.queue(account_id, subject="Second")
    # No worker slot is held waiting for the lock: the job returns without sending...
    assert await asyncio.wait_for(box.deliver(second), timeout=0.2) == 0
    # ...and the running drain looks again before it ends, sending it over its connection.
    assert await running == 2
    assert server.connections == 1
    assert (await box.entry(second)).status == DraftStatus.SENT


async def test_a_non_ascii_address_needs_smtputf8(
    box: Outbox, smtp_servers: MakeSmtpServer
) -> None:
    utf8_server = smtp_servers()
    plain_server = smtp_servers(smtputf8=False)
    to = [{"name": "Jörg", "address": "jörg@example.org"}]
    _, utf8_account = await mailbox(box, utf8_server)
    _, plain_account = await mailbox(box, plain_server)
    delivered = await box.queue(utf8_account, to=to)
    refused = await box.queue(plain_account, to=to)
    assert await box.deliver(delivered) == 1
    assert await box.deliver(refused) == 0

    [delivery] = utf8_server.deliveries
    assert delivery.rcpt_tos == ["jörg@example.org"]
    parsed = email.message_from_string(delivery.raw.decode(), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == "jörg@example.org"
    entry = await box.entry(refused)
    assert entry.status == DraftStatus.FAILED
    assert entry.error_code == "smtputf8_unsupported"
    assert plain_server.deliveries == []


async def test_a_removed_send_as_address_is_refused(box: Outbox, smtp: SmtpServer) -> None:
    _, account_id = await mailbox(box, smtp)
    draft_id = await box.queue(account_id, from_address="gone@example.test")
    assert await box.deliver(draft_id) == 0
    entry = await box.entry(draft_id)
    assert entry.status == DraftStatus.FAILED
    assert entry.error_code == "invalid_message"
    assert smtp.connections == 0


async def collect_everything(box: Outbox) -> None:
    """A blob collector run for which every blob is old enough: only references keep one."""
    async with box.ctx.sessionmaker() as db:
        await collect_blobs(db, box.blobs, grace=timedelta(seconds=-60))


async def test_sent_entries_go_after_a_week_and_draft_blobs_are_kept(
    box: Outbox, smtp: SmtpServer
) -> None:
    _, account_id = await mailbox(box, smtp)
    sent_part, draft_part = b"sent attachment", b"draft attachment"
    old = await box.queue(account_id, attachments=[("a.bin", "text/plain", sent_part, None)])
    kept = await box.queue(
        account_id,
        status=DraftStatus.DRAFT,
        attachments=[("b.txt", "text/plain", draft_part, None)],
    )
    assert await box.deliver(old) == 1
    old_raw = (await box.entry(old)).raw_sha256
    assert old_raw is not None
    orphan = box.blobs.put(b"nobody names me")

    await collect_everything(box)
    assert not box.blobs.exists(orphan)
    assert box.blobs.exists(old_raw)
    assert box.blobs.exists(hashlib.sha256(sent_part).hexdigest())
    assert box.blobs.exists(hashlib.sha256(draft_part).hexdigest())

    await box.change(old, sent_at=utcnow() - timedelta(days=8))
    assert (await box.sweep())["deleted"] == 1
    await collect_everything(box)
    assert not box.blobs.exists(old_raw)
    assert not box.blobs.exists(hashlib.sha256(sent_part).hexdigest())
    assert box.blobs.exists(hashlib.sha256(draft_part).hexdigest())
    assert (await box.entry(kept)).status == DraftStatus.DRAFT
