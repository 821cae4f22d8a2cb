"""POST /api/accounts/demo: the first-run button that gives a user the demo mailbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from postwise.accounts.models import AccountKind, MailAccount
from postwise.events import user_channel
from postwise.imports.demo import DEMO_MAILBOX_EMAIL, demo_messages
from postwise.mail.models import Message
from tests.accounts.conftest import Harness

pytestmark = pytest.mark.backend


async def message_count(h: Harness, account_id: str) -> int:
    async with h.services.sessionmaker() as db:
        count = await db.scalar(
            select(func.count(Message.id)).where(Message.account_id == uuid.UUID(account_id))
        )
        return int(count or 0)


async def test_demo_mailbox_is_created_filled_live_and_only_once(h: Harness) -> None:
    headers = await h.sign_in()
    user_id = await h.user_id(headers)
    seen: list[dict[str, Any]] = []
    async with h.services.store.subscribe(user_channel(user_id)) as events:

        async def collect() -> None:
            async for event in events:
                seen.append(json.loads(event.data))

        reader = asyncio.create_task(collect())
        try:
            created = await h.http.post("/api/accounts/demo", headers=headers)
            assert created.status_code == 201, created.text
            account = created.json()
            assert (account["kind"], account["email"], account["is_demo"]) == (
                "local",
                DEMO_MAILBOX_EMAIL,
                True,
            )
            await h.jobs.drain()
            for _ in range(100):  # the last events may trail the job's end by a moment
                if any(event["type"] == "sync.status" for event in seen):
                    break
                await asyncio.sleep(0.02)
        finally:
            reader.cancel()
            await asyncio.wait({reader}, timeout=5)

    async with h.services.sessionmaker() as db:
        row = await db.get(MailAccount, uuid.UUID(account["id"]))
        assert row is not None
        expected = len(demo_messages(row.created_at))
    assert expected >= 100
    assert await message_count(h, account["id"]) == expected
    types = {event["type"] for event in seen}
    # The inbox fills live, as for any import, and the mailbox list learns it is done.
    assert {"message.created", "thread.updated", "folder.counts"} <= types
    done = [event["data"] for event in seen if event["type"] == "sync.status"]
    assert done == [{"account_id": account["id"], "state": "idle", "error": None}]

    listed = (await h.http.get("/api/accounts", headers=headers)).json()["items"]
    assert [item["id"] for item in listed] == [account["id"]]
    assert listed[0]["counts"]["messages"] == expected

    again = await h.http.post("/api/accounts/demo", headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == account["id"]
    await h.jobs.drain()
    assert await message_count(h, account["id"]) == expected
    listed = (await h.http.get("/api/accounts", headers=headers)).json()["items"]
    assert len(listed) == 1


async def test_each_user_gets_their_own_demo_mailbox(h: Harness) -> None:
    first = await h.sign_in()
    second = await h.sign_in()
    one = await h.http.post("/api/accounts/demo", headers=first)
    two = await h.http.post("/api/accounts/demo", headers=second)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["id"] != two.json()["id"]
    await h.jobs.drain()
    theirs = await h.http.get(f"/api/accounts/{one.json()['id']}", headers=second)
    assert theirs.status_code == 404


async def test_demo_address_taken_by_a_connected_mailbox_is_refused(h: Harness) -> None:
    headers = await h.sign_in()
    user_id = await h.user_id(headers)
    async with h.services.sessionmaker() as db:
        db.add(
            MailAccount(
                user_id=user_id,
                kind=AccountKind.IMAP,
                email=DEMO_MAILBOX_EMAIL,
                imap_host="imap.example.com",
                imap_port=993,
                smtp_host="smtp.example.com",
                smtp_port=465,
            )
        )
        await db.commit()
    refused = await h.http.post("/api/accounts/demo", headers=headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "account_not_local"
    listed = (await h.http.get("/api/accounts", headers=headers)).json()["items"]
    assert [item["kind"] for item in listed] == ["imap"]


async def test_demo_needs_a_signed_in_user(h: Harness) -> None:
    response = await h.http.post("/api/accounts/demo")
    assert response.status_code == 401
