"""Sync engine harness: a database, a Store, a private Dovecot and a mailbox row pointing at it."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import func, select

from postwise import db as database
from postwise.accounts.credentials import seal_password
from postwise.accounts.models import MailAccount, Security
from postwise.config import Settings
from postwise.kit.crypto import Keyring
from postwise.mail.models import Folder, Message
from postwise.store import create_store
from postwise.sync.context import SyncContext, build_sync_context
from postwise.sync.mailbox import MailboxSync
from postwise.users.models import User
from tests.fixtures.dovecot import Dovecot


def make_message(
    n: int,
    *,
    subject: str | None = None,
    when: datetime | None = None,
    reply_to: str | None = None,
    body: str | None = None,
) -> tuple[bytes, str]:
    """A plain message; returns (raw bytes, its Message-ID without <>)."""
    msgid = make_msgid(idstring=f"m{n}", domain="example.test")
    message = EmailMessage()
    message["From"] = f"Sender {n} <sender{n}@example.test>"
    message["To"] = "Reader <reader@example.test>"
    message["Subject"] = subject or f"Message number {n}"
    message["Date"] = format_datetime(when or datetime.now(UTC))
    message["Message-ID"] = msgid
    if reply_to:
        message["In-Reply-To"] = f"<{reply_to}>"
        message["References"] = f"<{reply_to}>"
    message.set_content(body or f"Hello, this is message {n}.\n")
    return bytes(message), msgid.strip("<>")


@dataclass
class Mailbox:
    """One Dovecot user mirrored into one MailAccount row."""

    server: Dovecot
    username: str
    account_id: uuid.UUID
    user_id: uuid.UUID
    ctx: SyncContext

    def append(
        self,
        raw: bytes,
        *,
        folder: str = "INBOX",
        flags: tuple[str, ...] = (),
        when: datetime | None = None,
    ) -> None:
        imap = self.server.client(self.username)
        try:
            imap.append(folder, raw, flags=flags, msg_time=when or datetime.now(UTC))
        finally:
            imap.logout()

    async def count(self, folder_name: str | None = None) -> int:
        async with self.ctx.sessionmaker() as db:
            query = select(func.count(Message.id)).where(Message.account_id == self.account_id)
            if folder_name is not None:
                query = query.join(Folder, Folder.id == Message.folder_id).where(
                    Folder.name == folder_name
                )
            return int(await db.scalar(query) or 0)

    async def messages(self, folder_name: str) -> list[Message]:
        async with self.ctx.sessionmaker() as db:
            rows = await db.scalars(
                select(Message)
                .join(Folder, Folder.id == Message.folder_id)
                .where(Message.account_id == self.account_id, Folder.name == folder_name)
                .order_by(Message.uid)
            )
            return list(rows.all())

    async def account(self) -> MailAccount:
        async with self.ctx.sessionmaker() as db:
            account = await db.get(MailAccount, self.account_id)
            assert account is not None
            return account

    @contextlib.asynccontextmanager
    async def syncing(self) -> AsyncIterator[MailboxSync]:
        """The mailbox's sync loop running in the background for the block's duration."""
        mailbox = MailboxSync(self.ctx, self.account_id)
        task = asyncio.create_task(mailbox.run())
        try:
            yield mailbox
        finally:
            task.cancel()
            await asyncio.wait({task}, timeout=10)
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]


async def wait_for(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 15.0,  # noqa: ASYNC109 (a number reads better than a context manager here)
    step: float = 0.05,
) -> float:
    """Poll `check` until true; returns the seconds it took, fails the test on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


@contextlib.asynccontextmanager
async def open_sync_context(settings: Settings) -> AsyncIterator[SyncContext]:
    engine = database.create_engine(settings)
    store = create_store(settings.redis_url, prefix=settings.store_prefix)
    ctx = build_sync_context(
        settings,
        sessionmaker=database.create_sessionmaker(engine),
        store=store,
        executor=None,
    )
    try:
        yield ctx
    finally:
        await store.close()
        await engine.dispose()


@pytest.fixture
async def sync_context(settings: Settings) -> AsyncIterator[SyncContext]:
    async with open_sync_context(settings) as ctx:
        yield ctx


async def add_mailbox(ctx: SyncContext, server: Dovecot, *, window_days: int = 3650) -> Mailbox:
    username, password = server.add_user()
    async with ctx.sessionmaker() as db:
        user = User(email=f"owner-{uuid.uuid4().hex[:8]}@example.test", password_hash="x")
        db.add(user)
        await db.flush()
        account = MailAccount(
            user_id=user.id,
            email=username,
            username=username,
            credentials=seal_password(Keyring(ctx.settings.secret()), password),
            imap_host=server.host,
            imap_port=server.imap_port,
            imap_security=Security.NONE,
            smtp_host=server.host,
            smtp_port=25,
            smtp_security=Security.NONE,
            sync_window_days=window_days,
        )
        db.add(account)
        await db.commit()
        ids = account.id, user.id
    return Mailbox(server=server, username=username, account_id=ids[0], user_id=ids[1], ctx=ctx)


@pytest.fixture
async def mailbox(sync_context: SyncContext, dovecot: Dovecot) -> Mailbox:
    return await add_mailbox(sync_context, dovecot)


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
