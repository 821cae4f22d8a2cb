"""Where notifications come from: a mailbox whose connection broke (once, however often the
engine retries, and read again once it recovers), a finished import, a sign-in from a new
device."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from postwise.accounts.connection import ConnectionProblem
from postwise.accounts.credentials import seal_password
from postwise.accounts.models import MailAccount, Security, SyncState
from postwise.kit.crypto import Keyring
from postwise.notifications.models import Notification
from postwise.sync import mailbox as mailbox_module
from postwise.sync.context import build_sync_context
from postwise.sync.mailbox import MailboxSync
from tests.accounts.conftest import API, USER_PASSWORD, Harness
from tests.accounts.servers import closed_port
from tests.imports.test_import_api import MBOX, wait_done
from tests.imports.test_importers import mboxrd, takeout_mbox
from tests.notifications.conftest import events_of, eventually, rows_of

pytestmark = pytest.mark.backend


async def _broken_mailbox(h: Harness, user_id: uuid.UUID) -> uuid.UUID:
    async with h.services.sessionmaker() as db:
        account = MailAccount(
            user_id=user_id,
            email=f"ada-{uuid.uuid4().hex[:6]}@example.test",
            username="ada",
            credentials=seal_password(Keyring(h.settings.secret()), "secret"),
            imap_host="127.0.0.1",
            imap_port=closed_port(),
            imap_security=Security.NONE,
        )
        db.add(account)
        await db.commit()
        return account.id


async def test_a_failing_mailbox_is_told_once_and_cleared_when_it_recovers(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mailbox_module, "reconnect_delay", lambda failures: 0.02)
    await h.sign_in()
    user_id = h.user_ids[-1]
    account_id = await _broken_mailbox(h, user_id)
    ctx = build_sync_context(
        h.settings, sessionmaker=h.services.sessionmaker, store=h.services.store, executor=None
    )
    sync = MailboxSync(ctx, account_id)
    failures = 0
    report = sync._report

    async def counted(error: Exception) -> None:
        nonlocal failures
        failures += 1
        await report(error)

    monkeypatch.setattr(sync, "_report", counted)
    async with events_of(h, user_id) as events:
        task = asyncio.create_task(sync.run())
        try:

            async def retried() -> bool:
                return failures >= 4

            await eventually(retried)
        finally:
            task.cancel()
            await asyncio.wait({task}, timeout=10)
    [row] = await rows_of(h, user_id)
    assert row.kind == "mailbox_error" and row.read_at is None
    assert row.title.endswith("stopped syncing") and row.title.startswith("ada-")
    assert row.body.startswith("Couldn't reach 127.0.0.1.")
    assert row.link == "/settings/mailboxes/"
    assert row.data == {"account_id": str(account_id), "code": "host_unreachable"}
    [event] = events.of("notification.created")
    assert event["id"] == str(row.id) and event["kind"] == "mailbox_error"

    # It connects again: the problem is gone, and so is the unread mark.
    await sync._state(SyncState.SYNCING)
    [row] = await rows_of(h, user_id)
    assert row.read_at is not None
    # A new failure (the password changed on the server) is news again.
    await sync._report(ConnectionProblem("auth_failed", "imap", "refused"))
    rows = await rows_of(h, user_id)
    assert len(rows) == 2
    assert rows[-1].read_at is None
    assert rows[-1].body.startswith("The mail server refused the password.")


async def test_a_database_outage_is_not_the_mailboxs_problem(h: Harness) -> None:
    await h.sign_in()
    user_id = h.user_ids[-1]
    account_id = await _broken_mailbox(h, user_id)
    ctx = build_sync_context(
        h.settings, sessionmaker=h.services.sessionmaker, store=h.services.store, executor=None
    )
    sync = MailboxSync(ctx, account_id)
    await sync._state(SyncState.ERROR, error="database down", code="database_unavailable")
    assert await rows_of(h, user_id) == []


async def test_a_finished_import_says_how_many_messages_came_in(h: Harness) -> None:
    headers = await h.sign_in()
    user_id = h.user_ids[-1]
    data = mboxrd(takeout_mbox())
    async with events_of(h, user_id) as events:
        started = await h.http.post(
            "/api/accounts/import", content=data, headers={**headers, **MBOX}
        )
        assert started.status_code == 202, started.text
        account_id = started.json()["account_id"]
        assert (await wait_done(h, started.json()["import_id"], headers))["status"] == "done"

        async def told() -> bool:
            return bool(events.of("notification.created"))

        await eventually(told)
    [row] = await rows_of(h, user_id)
    assert row.kind == "import_finished" and row.title == "Import finished"
    assert row.body == "30 messages imported into imported@postwise.local."
    assert row.link == f"/?account={account_id}"
    assert row.data == {
        "account_id": account_id,
        "imported": 30,
        "skipped": 0,
        "errors": 0,
        "failed": False,
    }


async def _sign_in_from(h: Harness, email: str, agent: str) -> None:
    response = await h.http.post(
        "/api/auth/login",
        json={"email": email, "password": USER_PASSWORD},
        headers={**API, "User-Agent": agent},
    )
    assert response.status_code == 200, response.text


async def test_a_sign_in_from_a_new_device_is_told(h: Harness) -> None:
    headers = await h.sign_in()  # the first device: not news
    user_id = h.user_ids[-1]
    email = (await h.http.get("/api/users/me", headers=headers)).json()["email"]
    await _sign_in_from(h, email, h.http.headers["User-Agent"])  # the same device again
    await _sign_in_from(h, email, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")

    async def told() -> list[Notification]:
        return await rows_of(h, user_id)

    async def one() -> bool:
        return len(await told()) == 1

    await eventually(one)
    [row] = await told()
    assert row.kind == "new_sign_in" and row.link == "/settings/security/"
    assert "127.0.0.1" in row.body and "change your password" in row.body
    assert row.data["user_agent"].startswith("Mozilla/5.0")
