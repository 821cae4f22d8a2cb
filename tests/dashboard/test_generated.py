"""The dashboard over the benchmark's generated mailbox (a smaller one), against figures worked
out in plain Python from the generated rows: the SQL, its indexes and the day CASE agree with an
independent count on mail shaped like the 100,000 messages of `bench/dashboard`."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bench.dashboard.seed import ME, generate, write

from postwise.dashboard.service import WAITING_SHOWN, build_dashboard
from tests.accounts.conftest import Harness
from tests.dashboard.conftest import new_user

pytestmark = pytest.mark.backend

NOW = datetime(2026, 10, 30, 9, 15, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")  # back to winter time on 25 October 2026


async def test_the_generated_mailbox(h: Harness) -> None:
    _, user = await new_user(h)
    # Two years of mail is too thin for a month's figures at this size: 120 days instead.
    box = generate(user_id=user, messages=3000, now=NOW, seed=5, people=60)
    for message in box.messages:
        message["received_at"] = NOW - (NOW - message["received_at"]) / 6
        message["sent_at"] = message["received_at"]
    newest = {
        t["id"]: max(m["received_at"] for m in box.messages if m["thread_id"] == t["id"])
        for t in box.threads
    }
    for thread in box.threads:
        thread["last_message_at"] = newest[thread["id"]]
    for entry in box.thread_folders:
        entry["last_message_at"] = newest[entry["thread_id"]]
    await write(h.services.engine, box)

    async with h.services.sessionmaker() as db:
        result = await build_dashboard(db, user_id=user, tz=PARIS, days=30, now=NOW)

    role = {f["id"]: f["role"] for f in box.folders.values()}
    days = [NOW.astimezone(PARIS).date() - timedelta(days=n) for n in range(29, -1, -1)]
    in_window = [m for m in box.messages if m["received_at"].astimezone(PARIS).date() in days]
    sent = Counter[object]()
    received = Counter[object]()
    senders = Counter[str]()
    names: defaultdict[str, set[str]] = defaultdict(set)
    for m in in_window:
        day = m["received_at"].astimezone(PARIS).date()
        if role[m["folder_id"]] == "sent" or m["from_address"] == ME:
            sent[day] += 1
        else:
            received[day] += 1
            senders[m["from_address"]] += 1
            names[m["from_address"]].add(m["from_name"])
    assert [(d.day, d.received, d.sent) for d in result.activity.days] == [
        (day, received[day], sent[day]) for day in days
    ]
    assert result.activity.received > 300 and result.activity.sent > 100
    top = sorted(senders.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert [(s.address, s.count, s.name) for s in result.top_senders] == [
        (address, count, max(names[address])) for address, count in top
    ]

    start = datetime.combine(days[0], datetime.min.time(), tzinfo=PARIS)
    last_of: dict[object, dict[str, object]] = {}
    for m in box.messages:
        if (
            m["thread_id"] not in last_of
            or m["received_at"] > last_of[m["thread_id"]]["received_at"]
        ):
            last_of[m["thread_id"]] = m
    waiting = sorted(
        (m["received_at"], m["thread_id"])
        for m in last_of.values()
        if m["from_address"] == ME
        and start <= m["received_at"] < NOW - timedelta(days=3)
        and role[m["folder_id"]] not in ("trash", "junk", "drafts")
    )
    assert result.waiting.count == len(waiting) > WAITING_SHOWN
    assert [(w.sent_at, w.thread_id) for w in result.waiting.threads] == waiting[:WAITING_SHOWN]

    assert [(u.folder, u.unread) for u in result.unread] == sorted(
        ((f["name"], f["unread_count"]) for f in box.folders.values() if f["unread_count"]),
        key=lambda item: (-item[1], item[0]),
    )
    (mailbox,) = result.mailboxes
    assert mailbox.message_count == len(box.messages)
    assert mailbox.storage_bytes == sum(m["size"] for m in box.messages)
