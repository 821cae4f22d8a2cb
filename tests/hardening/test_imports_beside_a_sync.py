"""Issue 12: two mbox imports and a mailbox sync at once, in one process, as `postwise serve`
runs them on SQLite (the embedded engine shares the app's engine).

Before the writer lane (postwise.db_sqlite) concurrent uploads answered 503
`database_unavailable` ("database is locked") and once crashed a mailbox's sync loop.
tests/imports/test_concurrent_imports.py has the imports beside another user's actions; here a
sync loop writes at the same time: every message of both imports and of the mailbox is stored,
no request answers 503, and the sync loop reports no failure and keeps running.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from postwise.mail.models import Message
from postwise.sync.context import build_sync_context
from postwise.sync.mailbox import MailboxSync
from tests.accounts.conftest import Harness, accounts_settings, make_harness
from tests.fixtures.dovecot import Dovecot
from tests.imports.test_concurrent_imports import finished, generated_mbox, upload
from tests.sync.conftest import Mailbox, add_mailbox, make_message, wait_for

__all__ = ["accounts_settings", "make_harness"]  # fixtures of the accounts harness

pytestmark = pytest.mark.backend

PER_IMPORT = 400
MAILBOX = 200


def _fill(mailbox: Mailbox, count: int) -> None:
    imap = mailbox.server.client(mailbox.username)
    try:
        for n in range(count):
            imap.append("INBOX", make_message(n)[0])
    finally:
        imap.logout()


async def _stored(h: Harness, account_id: uuid.UUID) -> int:
    async with h.services.sessionmaker() as db:
        count = await db.scalar(
            select(func.count(Message.id)).where(Message.account_id == account_id)
        )
    return int(count or 0)


async def test_two_imports_and_a_sync_at_once_store_everything_without_a_503(
    make_harness: Any, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small sync batches: many write transactions interleaved with the imports' batches.
    async with make_harness(sync_batch_size=25) as h:
        # The embedded engine's context: the app's own sessionmaker (so the app's writer
        # lane on SQLite) and Store.
        ctx = build_sync_context(
            h.settings,
            sessionmaker=h.services.sessionmaker,
            store=h.services.store,
            executor=None,
        )
        mailbox = await add_mailbox(ctx, dovecot)
        h.user_ids.append(mailbox.user_id)  # the harness deletes it with the others
        await asyncio.to_thread(_fill, mailbox, MAILBOX)

        # Every failure the loop reports (it retries after them, so the test would not
        # otherwise see a "database is locked" the loop recovered from).
        reported: list[str] = []
        report = MailboxSync._report

        async def recording(self: MailboxSync, error: Exception) -> None:
            reported.append(f"{type(error).__name__}: {error}")
            await report(self, error)

        monkeypatch.setattr(MailboxSync, "_report", recording)

        importers = [await h.sign_in(), await h.sign_in()]
        files = [generated_mbox(n * 100_000, PER_IMPORT) for n in range(len(importers))]
        loop = asyncio.create_task(MailboxSync(ctx, mailbox.account_id).run())
        try:
            ids = await asyncio.gather(
                *(
                    upload(h, headers, data, f"import{n}@x.example")
                    for n, (headers, data) in enumerate(zip(importers, files, strict=True))
                )
            )
            results = await asyncio.gather(
                *(finished(h, headers, i) for headers, i in zip(importers, ids, strict=True))
            )

            async def mirrored() -> bool:
                return await _stored(h, mailbox.account_id) == MAILBOX

            await wait_for(mirrored, timeout=120)
            assert not loop.done(), loop.exception() if loop.done() else None
        finally:
            loop.cancel()
            await asyncio.wait({loop}, timeout=10)

        assert reported == []
        account = await mailbox.account()
        assert account.last_error_code is None, account.last_error
        for result in results:
            assert (result["status"], result["imported"], result["errors"]) == (
                "done",
                PER_IMPORT,
                0,
            ), result
            assert await _stored(h, uuid.UUID(result["account_id"])) == PER_IMPORT
