"""The dashboard of the demo mailbox, loaded through the real import path (parse, store, thread,
count) and read over HTTP by the demo user, against figures counted in plain Python from the
stored rows: what a new user sees after "Load the demo mailbox"."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postwise.imports.demo import DEMO_MAILBOX_EMAIL, create_demo
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Folder, Message
from tests.accounts.conftest import API, Harness

pytestmark = pytest.mark.backend


async def test_the_demo_mailbox(h: Harness) -> None:
    demo = await create_demo(
        h.services.sessionmaker,
        settings=h.settings,
        blobs=BlobStore(h.settings.effective_blob_dir, fsync=False),
        executor=None,
        email=f"demo-{uuid.uuid4().hex[:8]}@example.com",
    )
    h.user_ids.append(demo.user_id)
    assert demo.password is not None
    login = await h.http.post(
        "/api/auth/login", json={"email": demo.user_email, "password": demo.password}, headers=API
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    answer = await h.http.get("/api/dashboard", params={"days": 90, "tz": "UTC"}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    now = datetime.now(UTC)

    async with h.services.sessionmaker() as db:
        rows = (
            await db.execute(
                select(
                    Message.id,
                    Message.message_id,
                    Message.thread_id,
                    Message.from_address,
                    Message.received_at,
                    Message.size,
                    Folder.role,
                )
                .join(Folder, Folder.id == Message.folder_id)
                .where(Message.user_id == demo.user_id)
            )
        ).all()
    assert len(rows) > 100
    first_day = now.date() - timedelta(days=89)
    mine = {DEMO_MAILBOX_EMAIL}
    sent: Counter[str] = Counter()
    received: Counter[str] = Counter()
    senders: Counter[str] = Counter()
    seen: set[str] = set()
    for row in rows:
        key = row.message_id or f"#{row.id}"
        day = row.received_at.date()
        if day < first_day or key in seen or row.role == "drafts":
            continue
        seen.add(key)
        if row.role == "sent" or row.from_address.lower() in mine:
            sent[day.isoformat()] += 1
        else:
            received[day.isoformat()] += 1
            senders[row.from_address.lower()] += 1
    days = body["activity"]["days"]
    assert len(days) == 90 and days[-1]["day"] == now.date().isoformat()
    assert {d["day"]: d["received"] for d in days if d["received"]} == dict(received)
    assert {d["day"]: d["sent"] for d in days if d["sent"]} == dict(sent)
    assert body["activity"]["received"] > 50 and body["activity"]["sent"] > 5
    top = sorted(senders.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert [(s["address"], s["count"]) for s in body["top_senders"]] == top

    newest: dict[uuid.UUID, tuple[datetime, str, str | None]] = {}
    for row in rows:
        if row.thread_id and (
            row.thread_id not in newest or row.received_at > newest[row.thread_id][0]
        ):
            newest[row.thread_id] = (row.received_at, row.from_address.lower(), row.role)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    waiting = sorted(
        (at, str(thread_id))
        for thread_id, (at, sender, role) in newest.items()
        if sender in mine
        and start <= at < now - timedelta(days=3)
        and role not in ("trash", "junk", "drafts")
    )
    assert body["waiting"]["count"] == len(waiting)
    assert [w["thread_id"] for w in body["waiting"]["threads"]] == [t for _, t in waiting][:10]

    (mailbox,) = body["mailboxes"]
    assert (mailbox["email"], mailbox["kind"], mailbox["is_demo"]) == (
        DEMO_MAILBOX_EMAIL,
        "local",
        True,
    )
    assert mailbox["message_count"] == len(rows)
    assert mailbox["storage_bytes"] == sum(row.size for row in rows) > 0
    assert body["unread_total"] == sum(u["unread"] for u in body["unread"]) > 0
