"""Two big mbox uploads at once, while another user keeps acting on their mail.

On SQLite every writer shares one database lock. Before the writer lane (postwise.db_sqlite)
three concurrent 3,000-message uploads answered one request 503 `database_unavailable`
("database is locked") and stalled another user's actions for seconds. Here every message of
both imports must be stored and every interactive action must succeed; the action latencies
are printed (run with -s) rather than asserted, since a loaded machine makes any bound flaky.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from postwise.mail.models import Message
from tests.accounts.conftest import Harness

pytestmark = pytest.mark.backend

MBOX = {"Content-Type": "application/mbox"}
PER_IMPORT = 1_500
BODY = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 10


def generated_mbox(first: int, count: int) -> bytes:
    """`count` messages from number `first`, four in five replying to the one before (written
    out directly: building them with `email` took seconds of the test's budget)."""
    start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    parts = []
    for n in range(first, first + count):
        reply = n % 5 != 0
        parent = f"<m{n - 1}@example.com>"
        parts.append(
            "From sender@example.com Tue Mar  5 09:30:00 2024\n"
            f"From: Sender {n} <sender{n}@example.com>\n"
            "To: Reader <reader@example.com>\n"
            f"Subject: {f'Re: Topic {n - 1}' if reply else f'Topic {n}'}\n"
            f"Date: {format_datetime(start + timedelta(minutes=n))}\n"
            f"Message-ID: <m{n}@example.com>\n"
            + (f"In-Reply-To: {parent}\nReferences: {parent}\n" if reply else "")
            + "X-Gmail-Labels: Inbox\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            f"\n{BODY}\n"
        )
    return "".join(parts).encode()


async def upload(h: Harness, headers: dict[str, str], data: bytes, email: str) -> str:
    response = await h.http.post(
        f"/api/accounts/import?account_email={email}",
        content=data,
        headers={**headers, **MBOX},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["import_id"])


async def finished(h: Harness, headers: dict[str, str], import_id: str) -> dict[str, Any]:
    for _ in range(1_800):
        response = await h.http.get(f"/api/accounts/import/{import_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "importing":
            return body
        await asyncio.sleep(0.1)
    raise AssertionError("the import did not finish in 180 s")


async def stored(h: Harness, account_id: str) -> int:
    async with h.services.sessionmaker() as db:
        count = await db.scalar(
            select(func.count(Message.id)).where(Message.account_id == uuid.UUID(account_id))
        )
    return int(count or 0)


async def test_two_imports_and_another_users_actions_all_succeed(h: Harness) -> None:
    importers = [await h.sign_in(), await h.sign_in()]
    files = [generated_mbox(i * 100_000, PER_IMPORT) for i in range(len(importers))]
    # The other user's own small mailbox, imported before the rush.
    reader = await h.sign_in()
    done = await finished(
        h, reader, await upload(h, reader, generated_mbox(900_000, 20), "r@x.example")
    )
    assert done["status"] == "done", done
    page = await h.http.get("/api/threads?folder=inbox&limit=5", headers=reader)
    assert page.status_code == 200, page.text
    thread_id = page.json()["items"][0]["id"]

    latencies: list[float] = []
    failures: list[str] = []
    imports_over = asyncio.Event()

    async def act() -> None:
        """Marks a thread read and unread by turns until the imports are over."""
        n = 0
        while not imports_over.is_set():
            action = "read" if n % 2 == 0 else "unread"
            started = time.perf_counter()
            response = await h.http.post(
                "/api/threads/actions",
                json={"thread_ids": [thread_id], "action": action},
                headers=reader,
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text}")
            n += 1
            await asyncio.sleep(0.02)

    actor = asyncio.create_task(act())
    started = time.perf_counter()
    try:
        ids = await asyncio.gather(
            *(
                upload(h, headers, data, f"import{i}@x.example")
                for i, (headers, data) in enumerate(zip(importers, files, strict=True))
            )
        )
        results = await asyncio.gather(
            *(finished(h, headers, i) for headers, i in zip(importers, ids, strict=True))
        )
        elapsed = time.perf_counter() - started
    finally:
        imports_over.set()
        await actor

    assert latencies
    ordered = sorted(latencies)
    # Printed before the checks, so a failing run shows its figures too.
    print(
        f"\n{len(importers)} imports x {PER_IMPORT} messages in {elapsed:.1f} s; "
        f"{len(latencies)} actions: median {statistics.median(ordered) * 1000:.0f} ms, "
        f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.0f} ms, "
        f"worst {ordered[-1] * 1000:.0f} ms, failed {len(failures)}"
    )
    assert failures == []
    for result in results:
        assert (result["status"], result["imported"], result["errors"]) == (
            "done",
            PER_IMPORT,
            0,
        ), result
        assert await stored(h, result["account_id"]) == PER_IMPORT
