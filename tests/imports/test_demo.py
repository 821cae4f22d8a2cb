"""The demo mailbox: what it generates, and `create_demo` / `postwise demo` on a real database."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise import db as database
from postwise.accounts.models import AccountKind, MailAccount
from postwise.auth.models import AuthSession
from postwise.auth.passwords import PasswordHasher
from postwise.config import Settings
from postwise.imports.demo import (
    DEMO_DAYS,
    DEMO_USER_EMAIL,
    DemoError,
    DemoResult,
    create_demo,
    demo_messages,
)
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Attachment, Folder, Message, Thread
from postwise.users.models import User

ANCHOR = datetime(2024, 6, 1, 12, 0, 0, 250_000, tzinfo=UTC)
EXAMPLE_DOMAIN = re.compile(r"(^|\.)example\.(com|org|net)$")


def parsed(raw: bytes) -> EmailMessage:
    # Generated with CRLF line ends, as sent over SMTP; LF makes the text checks simpler.
    message = message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_same_mailbox_every_time() -> None:
    first = demo_messages(ANCHOR)
    # Another sub-second part of the anchor: the dates are kept to whole seconds.
    again = demo_messages(ANCHOR.replace(microsecond=900_000))
    assert [m.raw for m in first] == [m.raw for m in again]
    later = demo_messages(ANCHOR + timedelta(days=3))
    assert [m.raw for m in later] != [m.raw for m in first]
    assert len(later) == len(first)


def test_realistic_mix_of_mail() -> None:
    items = demo_messages(ANCHOR)
    assert 130 <= len(items) <= 170
    assert Counter(m.folder.name for m in items).keys() == {"INBOX", "Sent", "Archive", "Trash"}
    assert all(ANCHOR - timedelta(days=DEMO_DAYS) <= m.internal_date < ANCHOR for m in items)
    flags = Counter(flag for m in items for flag in m.flags)
    unread = sum(1 for m in items if "\\Seen" not in m.flags)
    assert flags["\\Flagged"] >= 3 and flags["\\Answered"] >= 10 and 10 <= unread <= 60
    messages = [parsed(m.raw) for m in items]
    for message in messages:
        pairs = getaddresses([str(message.get(h, "")) for h in ("From", "To", "Cc")])
        assert all(EXAMPLE_DOMAIN.search(addr.rpartition("@")[2]) for _, addr in pairs if addr)
    replies = [m for m in messages if m["In-Reply-To"] and str(m["Subject"]).startswith("Re: ")]
    assert len(replies) >= 30
    assert any(" wrote:\n> " in str(m.get_body(("plain",)).get_content()) for m in replies)  # type: ignore[union-attr]
    assert max(len(str(m["References"]).split()) for m in replies) >= 4
    newsletters = [m for m in messages if m["List-Id"] and m["List-Unsubscribe"]]
    assert len(newsletters) >= 20
    html = [str(m.get_body(("html",)).get_content()) for m in newsletters if m.get_body(("html",))]  # type: ignore[union-attr]
    assert any('width="1" height="1"' in h and "https://img." in h for h in html)
    types = Counter(part.get_content_type() for m in messages for part in m.walk())
    assert types["application/pdf"] >= 5 and types["text/calendar"] >= 3
    assert types["multipart/related"] == 1
    inline = next(m for m in messages if m.get_content_type() == "multipart/mixed" and any(
        part["Content-ID"] for part in m.walk()
    ))  # fmt: skip
    assert "cid:ridge-lake@example.org" in str(inline.get_body(("html",)).get_content())  # type: ignore[union-attr]
    sent = [m for m, item in zip(messages, items, strict=True) if item.folder.name == "Sent"]
    assert sent and all("demo.user@example.com" in str(m["From"]) for m in sent)


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = database.create_engine(settings)
    try:
        yield database.create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def run_demo(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, **options: object
) -> DemoResult:
    return await create_demo(
        sessionmaker,
        settings=settings,
        blobs=BlobStore(settings.effective_blob_dir, fsync=False),
        executor=None,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.backend
async def test_demo_end_to_end_and_idempotent(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    email = f"demo-{uuid.uuid4().hex[:8]}@postwise.local"
    first = await run_demo(sessionmaker, settings, email=email)
    assert first.user_created and first.password is not None
    expected = len(demo_messages(datetime.now(UTC)))
    assert (first.progress.imported, first.progress.skipped) == (expected, 0)
    async with sessionmaker() as db:
        user = await db.get(User, first.user_id)
        assert user is not None and user.email_verified and not user.is_admin
        assert user.name == "Demo User"
        verified = await _verify(settings, user.password_hash, first.password)
        assert verified
        account = await db.get(MailAccount, first.account_id)
        assert account is not None
        assert (account.kind, account.is_demo, account.display_name) == (
            AccountKind.LOCAL, True, "Demo mailbox"
        )  # fmt: skip
        assert account.credentials is None
        folders = {
            f.name: (f.role, f.total_count)
            for f in await db.scalars(select(Folder).where(Folder.account_id == account.id))
        }
        assert set(folders) == {"INBOX", "Sent", "Archive", "Trash"}
        assert [folders[n][0] for n in ("INBOX", "Sent", "Archive", "Trash")] == [
            "inbox", "sent", "archive", "trash"
        ]  # fmt: skip
        assert sum(total for _, total in folders.values()) == expected
        threads = (
            await db.scalars(select(Thread.message_count).where(Thread.account_id == account.id))
        ).all()
        assert max(threads) == 6 and sum(1 for n in threads if n > 1) >= 15
        pixels = await db.scalar(
            select(func.count()).where(
                Message.account_id == account.id, Message.has_tracking_pixel.is_(True)
            )
        )
        assert pixels and pixels >= 20
        pdfs = await db.scalar(
            select(func.count())
            .select_from(Attachment)
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.account_id == account.id, Attachment.content_type == "application/pdf")
        )
        assert pdfs and pdfs >= 5
    again = await run_demo(sessionmaker, settings, email=email)
    assert not again.user_created and again.password is None
    assert again.account_id == first.account_id
    assert (again.progress.imported, again.progress.skipped) == (0, expected)
    assert await _count(sessionmaker, first.account_id) == expected


async def _verify(settings: Settings, password_hash: str, password: str) -> bool:
    hasher = PasswordHasher(settings)
    try:
        return (await hasher.verify(password_hash, password)).ok
    finally:
        hasher.close()


async def _count(sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID) -> int:
    async with sessionmaker() as db:
        query = select(func.count(Message.id)).where(Message.account_id == account_id)
        return int(await db.scalar(query) or 0)


@pytest.mark.backend
async def test_reset_rebuilds_and_password_can_be_chosen(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    email = f"demo-{uuid.uuid4().hex[:8]}@postwise.local"
    first = await run_demo(sessionmaker, settings, email=email)
    with pytest.raises(DemoError, match="too easy to guess"):
        await run_demo(sessionmaker, settings, email=email, password="password1")
    chosen = "Granite-Otter-kettle-4471"
    reset = await run_demo(sessionmaker, settings, email=email, password=chosen, reset=True)
    assert reset.account_id != first.account_id and reset.password == chosen
    assert reset.progress.imported == first.progress.imported
    assert await _count(sessionmaker, first.account_id) == 0
    async with sessionmaker() as db:
        user = await db.get(User, first.user_id)
        assert user is not None
        assert await _verify(settings, user.password_hash, chosen)
        demo_boxes = await db.scalar(
            select(func.count()).where(
                MailAccount.user_id == user.id, MailAccount.is_demo.is_(True)
            )
        )
    assert demo_boxes == 1


@pytest.mark.backend
async def test_postwise_demo_command(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWISE_")}
    email = f"demo-{uuid.uuid4().hex[:8]}@postwise.local"
    env.update(
        POSTWISE_DATA_DIR=str(tmp_path),
        POSTWISE_DATABASE_URL=database_url,
        POSTWISE_SYNC_PARSE_PROCESSES="1",
        POSTWISE_LOG_LEVEL="WARNING",
        POSTWISE_PORT="9000",
    )

    async def demo(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "postwise", "demo", "--email", email, *args]
        return await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
        )

    first = await demo()
    assert first.returncode == 0, first.stderr
    assert f"Demo user:    {email} (created)" in first.stdout
    assert re.search(r"Password:     \S{12,}  \(shown once\)", first.stdout)
    assert re.search(r"Demo mailbox: (\d+) messages \(\1 new, 0 already there\)", first.stdout)
    # Where the server of these settings listens (POSTWISE_PORT), not a fixed port 8000.
    assert "Sign in at http://127.0.0.1:9000" in first.stdout
    second = await demo()
    assert second.returncode == 0, second.stderr
    assert f"Demo user:    {email} (already there)" in second.stdout
    # The password exists only as a hash: the second run says how to get a new one.
    assert "Password:     unchanged; `postwise demo --reset-password` sets a new one" in (
        second.stdout
    )
    assert re.search(r"Demo mailbox: (\d+) messages \(0 new, \1 already there\)", second.stdout)
    renewed = await demo("--reset-password")
    assert renewed.returncode == 0, renewed.stderr
    old_password = re.search(r"Password:     (\S+)  \(shown once\)", first.stdout)
    new_password = re.search(r"Password:     (\S+)  \(shown once\)", renewed.stdout)
    assert old_password and new_password
    assert len(new_password[1]) >= 12 and new_password[1] != old_password[1]
    weak = await demo("--password", "demo")
    assert weak.returncode == 1 and "too easy to guess" in weak.stderr


API = {"X-Postwise-Client": "api"}


async def _sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=API
    )


@pytest.mark.backend
async def test_the_demo_user_signs_in_through_the_api(
    empty_database: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
) -> None:
    # What a new user does: `postwise demo`, then sign in with what it printed. The address is
    # on .local, which sign-in must take like any other well-formed address.
    result = await run_demo(sessionmaker, settings)
    assert result.user_email == DEMO_USER_EMAIL == "demo@postwise.local"
    assert result.user_created and result.password is not None
    signed_in = await _sign_in(client, DEMO_USER_EMAIL, result.password)
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == DEMO_USER_EMAIL


@pytest.mark.backend
async def test_reset_password_sets_a_new_one_and_ends_sessions(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
) -> None:
    email = f"demo-{uuid.uuid4().hex[:8]}@postwise.local"
    first = await run_demo(sessionmaker, settings, email=email)
    assert first.password is not None
    session = await _sign_in(client, email, first.password)
    assert session.status_code == 200, session.text
    again = await run_demo(sessionmaker, settings, email=email)
    assert (again.password, again.sessions_revoked) == (None, 0)

    renewed = await run_demo(sessionmaker, settings, email=email, reset_password=True)
    assert not renewed.user_created
    assert renewed.password is not None and renewed.password != first.password
    assert renewed.sessions_revoked == 1
    assert (await _sign_in(client, email, first.password)).status_code == 401
    refresh = await client.post(
        "/api/auth/refresh", json={"refresh_token": session.json()["refresh_token"]}, headers=API
    )
    assert refresh.status_code == 401
    async with sessionmaker() as db:
        open_sessions = await db.scalar(
            select(func.count()).where(
                AuthSession.user_id == first.user_id, AuthSession.revoked_at.is_(None)
            )
        )
    assert open_sessions == 0
    assert (await _sign_in(client, email, renewed.password)).status_code == 200

    # A password given on every run (POSTWISE_DEMO_PASSWORD) is set once, not again and again
    # with every session signed out each time.
    chosen = "Granite-Otter-kettle-4471"
    assert (await run_demo(sessionmaker, settings, email=email, password=chosen)).password == chosen
    kept = await _sign_in(client, email, chosen)
    same = await run_demo(sessionmaker, settings, email=email, password=chosen)
    assert (same.password, same.sessions_revoked) == (None, 0)
    still = await client.post(
        "/api/auth/refresh", json={"refresh_token": kept.json()["refresh_token"]}, headers=API
    )
    assert still.status_code == 200, still.text


@pytest.mark.backend
async def test_an_invalid_demo_address_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    with pytest.raises(DemoError, match="not a valid email address"):
        await run_demo(sessionmaker, settings, email="demo at postwise")
