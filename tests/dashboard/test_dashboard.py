"""GET /api/dashboard and the figures behind it, on crafted mail whose every number is worked
out by hand: days in the user's time zone across a daylight-saving switch and zero-filled, sent
against received, a mail in several folders counted once, the user's own addresses left out of
the top senders, unread per folder, storage of a Gmail-like mailbox, the rules of "waiting for
a reply", and nothing of another user's mail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from postwise.dashboard.service import build_dashboard
from tests.accounts.conftest import Harness
from tests.dashboard.conftest import Mailbox, new_user

pytestmark = pytest.mark.backend

# New York moved its clocks forward on 8 March 2026 (05:00 → 04:00 UTC at local midnight).
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
GMAIL = {
    "INBOX": "inbox",
    "[Gmail]/Sent Mail": "sent",
    "[Gmail]/All Mail": "all",
    "[Gmail]/Drafts": "drafts",
    "[Gmail]/Trash": "trash",
    "[Gmail]/Spam": "junk",
    "Work/Clients": None,
}
PLAIN = {"INBOX": "inbox", "Sent": "sent", "Archive": "archive"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def dashboard(h: Harness, user_id, *, tz: ZoneInfo = NEW_YORK, days: int = 7):  # type: ignore[no-untyped-def]
    async with h.services.sessionmaker() as db:
        return await build_dashboard(db, user_id=user_id, tz=tz, days=days, now=NOW)


async def ana_mailboxes(h: Harness, user_id) -> tuple[Mailbox, Mailbox]:  # type: ignore[no-untyped-def]
    gmail = Mailbox.new(
        user_id,
        "ana@example.com",
        GMAIL,
        sync_state="error",
        last_error="Login failed: check the password",
        last_synced_at=at("2026-03-10T11:00"),
        created_at=at("2026-01-01T00:00"),
    )
    work = Mailbox.new(
        user_id,
        "ana@work.test",
        PLAIN,
        kind="local",
        sync_state="idle",
        created_at=at("2026-01-02T00:00"),
    )
    # Received. The comments give the New York day.
    gmail.mail("INBOX", at("2026-03-04T04:59"), "bo@example.org")  # 3 March: before the window
    gmail.mail("INBOX", at("2026-03-04T05:00"), "bo@example.org", name="Bo")  # 4 March, 00:00
    copy = gmail.mail("INBOX", at("2026-03-08T04:30"), "bo@example.org", name="Bo Stone", size=3000)
    gmail.mail(  # the same mail in All Mail: 7 March, once
        "[Gmail]/All Mail", at("2026-03-08T04:30"), "bo@example.org", message_id=copy, size=3000
    )
    gmail.mail("Work/Clients", at("2026-03-08T06:59"), "CY@Example.org")  # 8 March, 01:59 EST
    work.mail("INBOX", at("2026-03-09T03:30"), "cy@example.org")  # 8 March, 23:30 EDT
    work.mail("Archive", at("2026-03-09T04:30"), "bo@example.org", size=2500)  # 9 March, 00:30 EDT
    gmail.mail("[Gmail]/Spam", at("2026-03-10T11:00"), "spam@junk.test", size=50)  # 10 March
    gmail.mail("[Gmail]/Trash", at("2026-03-09T12:00"), "dee@example.org", size=700)  # 9 March
    for folder in ("INBOX", "Work/Clients"):  # no Message-ID: each row is a mail of its own
        gmail.mail(folder, at("2026-03-10T10:00"), "eve@example.org", message_id=None)
    gmail.mail("INBOX", at("2026-03-11T05:00"), "bo@example.org")  # 11 March: after the window
    # Sent: 6 March twice (one mail in two folders, then a copy to herself), 9 and 10 March.
    sent = gmail.mail("[Gmail]/Sent Mail", at("2026-03-06T10:00"), "ana@example.com", size=500)
    gmail.mail(
        "[Gmail]/All Mail", at("2026-03-06T10:00"), "ana@example.com", message_id=sent, size=500
    )
    gmail.mail("INBOX", at("2026-03-06T11:00"), "ANA@example.com")
    work.mail("Sent", at("2026-03-09T13:00"), "ana+alias@work.test")  # sent, by its folder
    work.mail("INBOX", at("2026-03-10T09:00"), "ana@work.test")  # sent, by its address
    # Drafts are neither.
    gmail.mail("[Gmail]/Drafts", at("2026-03-07T12:00"), "ana@example.com")
    gmail.mail(
        "[Gmail]/All Mail", at("2026-03-07T13:00"), "ana@example.com", is_draft=True, size=200
    )
    gmail.unread("INBOX", 3)
    gmail.unread("Work/Clients", 2)
    gmail.unread("[Gmail]/All Mail", 5)
    work.unread("INBOX", 2)
    work.unread("Archive", 1)
    return gmail, work


async def test_every_figure_of_a_crafted_week(h: Harness) -> None:
    _, ana = await new_user(h)
    gmail, work = await ana_mailboxes(h, ana)
    await gmail.write(h)
    await work.write(h)
    # Another user, whose address is one of Ana's correspondents, with mail in the same days.
    _, bo = await new_user(h)
    other = Mailbox.new(bo, "bo@example.org", PLAIN)
    other.mail("INBOX", at("2026-03-06T12:00"), "ana@example.com")
    other.mail("Sent", at("2026-03-06T13:00"), "bo@example.org")
    other.unread("INBOX", 4)
    await other.write(h)

    result = await dashboard(h, ana)

    assert result.timezone == "America/New_York"
    assert result.since == date(2026, 3, 4)
    assert [(d.day.isoformat(), d.received, d.sent) for d in result.activity.days] == [
        ("2026-03-04", 1, 0),
        ("2026-03-05", 0, 0),
        ("2026-03-06", 0, 2),
        ("2026-03-07", 1, 0),
        ("2026-03-08", 2, 0),
        ("2026-03-09", 2, 1),
        ("2026-03-10", 3, 1),
    ]
    assert (result.activity.received, result.activity.sent) == (9, 4)
    assert [(s.name, s.address, s.count) for s in result.top_senders] == [
        ("Bo Stone", "bo@example.org", 3),
        ("", "cy@example.org", 2),
        ("", "eve@example.org", 2),
        ("", "dee@example.org", 1),
        ("", "spam@junk.test", 1),
    ]
    assert [(u.mailbox, u.folder, u.role, u.unread) for u in result.unread] == [
        ("ana@example.com", "INBOX", "inbox", 3),
        ("ana@example.com", "Clients", None, 2),
        ("ana@work.test", "INBOX", "inbox", 2),
        ("ana@work.test", "Archive", "archive", 1),
    ]
    assert result.unread_total == 8
    # Gmail-like: All Mail, Trash and Spam hold each mail once (the other folders are labels).
    # All Mail: 3,000 + 500 + 200; Trash 700; Spam 50. The plain mailbox: every folder.
    assert [
        (m.email, m.sync_state, m.last_error, m.message_count, m.storage_bytes)
        for m in result.mailboxes
    ] == [
        ("ana@example.com", "error", "Login failed: check the password", 5, 4450),
        ("ana@work.test", "idle", None, 4, 5500),
    ]
    assert result.mailboxes[0].last_synced_at == at("2026-03-10T11:00")
    assert result.mailboxes[1].kind == "local"

    theirs = await dashboard(h, bo)
    assert (theirs.activity.received, theirs.activity.sent) == (1, 1)
    assert [(s.address, s.count) for s in theirs.top_senders] == [("ana@example.com", 1)]
    assert [(u.mailbox, u.unread) for u in theirs.unread] == [("bo@example.org", 4)]
    assert [(m.email, m.message_count) for m in theirs.mailboxes] == [("bo@example.org", 2)]


async def test_the_same_mail_counted_on_the_days_of_another_zone(h: Harness) -> None:
    _, ana = await new_user(h)
    gmail, work = await ana_mailboxes(h, ana)
    await gmail.write(h)
    await work.write(h)

    result = await dashboard(h, ana, tz=ZoneInfo("UTC"))

    # In UTC the window starts at midnight UTC, so the mail of 4 March 04:59 is in it; the
    # mail of 8 March 04:30 (7 March in New York) and of 9 March 03:30 (8 March there) move.
    assert [(d.day.isoformat(), d.received, d.sent) for d in result.activity.days] == [
        ("2026-03-04", 2, 0),
        ("2026-03-05", 0, 0),
        ("2026-03-06", 0, 2),
        ("2026-03-07", 0, 0),
        ("2026-03-08", 2, 0),
        ("2026-03-09", 3, 1),
        ("2026-03-10", 3, 1),
    ]


async def test_waiting_for_a_reply(h: Harness) -> None:
    _, wes = await new_user(h)
    gmail = Mailbox.new(wes, "wes@example.com", GMAIL)
    work = Mailbox.new(wes, "wes@work.test", PLAIN)
    me, them = "wes@example.com", "kim@client.test"

    quote = gmail.thread("Quote for March")
    gmail.mail("INBOX", at("2026-03-05T09:00"), them, thread=quote)
    mine = gmail.mail("[Gmail]/Sent Mail", at("2026-03-06T10:00"), me, to=them, thread=quote)
    gmail.mail("[Gmail]/All Mail", at("2026-03-06T10:00"), me, message_id=mine, thread=quote)

    answered = gmail.thread("Answered")
    gmail.mail("[Gmail]/Sent Mail", at("2026-03-05T10:00"), me, thread=answered)
    gmail.mail("INBOX", at("2026-03-09T08:00"), them, thread=answered)

    recent = gmail.thread("Too recent")  # 2 days and 3 hours
    gmail.mail("[Gmail]/Sent Mail", at("2026-03-08T09:00"), me, thread=recent)

    just = gmail.thread("Three days and an hour")
    gmail.mail("[Gmail]/Sent Mail", at("2026-03-07T11:00"), me, thread=just)

    trashed_answer = gmail.thread("Answer since trashed")
    gmail.mail("[Gmail]/Sent Mail", at("2026-03-04T06:00"), me, thread=trashed_answer)
    gmail.mail("[Gmail]/Trash", at("2026-03-06T08:00"), them, thread=trashed_answer)

    before = gmail.thread("Before the window")
    gmail.mail("[Gmail]/Sent Mail", at("2026-03-03T10:00"), me, thread=before)

    other_box = work.thread("From the other mailbox")
    work.mail(
        "Sent", at("2026-03-04T08:00"), "wes@work.test", to="lee@partner.test", thread=other_box
    )

    binned = gmail.thread("Trashed by me")
    gmail.mail("[Gmail]/Trash", at("2026-03-05T08:00"), me, thread=binned)

    writing = gmail.thread("Writing again")
    gmail.mail("INBOX", at("2026-03-04T10:00"), them, thread=writing)
    gmail.mail("[Gmail]/Drafts", at("2026-03-05T08:00"), me, thread=writing)

    twice = gmail.thread("Followed up")
    gmail.mail("[Gmail]/Sent Mail", at("2026-03-04T09:00"), me, thread=twice)
    gmail.mail("[Gmail]/Sent Mail", at("2026-03-05T09:00"), me, thread=twice)

    shouting = gmail.thread("Upper case")
    gmail.mail("[Gmail]/Sent Mail", at("2026-03-05T12:00"), "Wes@Example.com", thread=shouting)

    await gmail.write(h)
    await work.write(h)
    # Someone else's unanswered mail in the same days, from an address Wes also has.
    _, someone = await new_user(h)
    theirs = Mailbox.new(someone, "wes@example.com", PLAIN)
    theirs.mail("Sent", at("2026-03-05T09:00"), me, thread=theirs.thread("Not Wes's"))
    await theirs.write(h)

    waiting = (await dashboard(h, wes, tz=ZoneInfo("UTC"))).waiting

    assert waiting.after_days == 3
    assert [(w.subject, w.sent_at, w.days_waiting) for w in waiting.threads] == [
        ("From the other mailbox", at("2026-03-04T08:00"), 6),
        ("Followed up", at("2026-03-05T09:00"), 5),
        ("Upper case", at("2026-03-05T12:00"), 5),
        ("Quote for March", at("2026-03-06T10:00"), 4),
        ("Three days and an hour", at("2026-03-07T11:00"), 3),
    ]
    assert waiting.count == 5
    assert waiting.threads[0].thread_id == other_box
    assert [(r.name, r.address) for r in waiting.threads[0].to] == [("", "lee@partner.test")]
    assert waiting.threads[3].thread_id == quote
    assert [r.address for r in waiting.threads[3].to] == [them]


async def test_waiting_counts_all_and_shows_the_ten_oldest(h: Harness) -> None:
    _, user = await new_user(h)
    box = Mailbox.new(user, "sam@example.com", PLAIN)
    start = at("2026-03-04T06:00")
    for n in range(12):
        thread = box.thread(f"Proposal {n}")
        box.mail("Sent", start + timedelta(hours=n), "sam@example.com", thread=thread)
    await box.write(h)

    waiting = (await dashboard(h, user)).waiting

    assert waiting.count == 12
    assert [w.subject for w in waiting.threads] == [f"Proposal {n}" for n in range(10)]


async def test_the_endpoint(h: Harness) -> None:
    assert (await h.http.get("/api/dashboard")).status_code == 401
    headers, user = await new_user(h)

    empty = await h.http.get("/api/dashboard", headers=headers)
    assert empty.status_code == 200, empty.text
    body = empty.json()
    today = datetime.now(UTC).date()
    assert (body["days"], body["timezone"]) == (30, "UTC")
    assert [d["day"] for d in body["activity"]["days"]] == [
        (today - timedelta(days=n)).isoformat() for n in range(29, -1, -1)
    ]
    assert {(d["received"], d["sent"]) for d in body["activity"]["days"]} == {(0, 0)}
    assert body["top_senders"] == body["unread"] == body["mailboxes"] == []
    assert body["waiting"] == {"count": 0, "after_days": 3, "threads": []}

    box = Mailbox.new(user, "pat@example.com", PLAIN)
    box.mail("INBOX", datetime.now(UTC) - timedelta(minutes=5), "joe@example.org", name="Joe")
    await box.write(h)
    answer = await h.http.get(
        "/api/dashboard", params={"days": 7, "tz": "Asia/Kathmandu"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    kathmandu_today = datetime.now(ZoneInfo("Asia/Kathmandu")).date()
    assert body["since"] == (kathmandu_today - timedelta(days=6)).isoformat()
    arrived = (datetime.now(UTC) - timedelta(minutes=5)).astimezone(ZoneInfo("Asia/Kathmandu"))
    by_day = {d["day"]: d["received"] for d in body["activity"]["days"]}
    assert by_day[arrived.date().isoformat()] == 1
    assert sum(by_day.values()) == 1
    assert body["top_senders"] == [{"name": "Joe", "address": "joe@example.org", "count": 1}]

    for params, code in [
        ({"tz": "Mars/Olympus_Mons"}, "invalid_timezone"),
        ({"tz": "zone.tab"}, "invalid_timezone"),
        ({"tz": "../../etc/passwd"}, "invalid_timezone"),
        ({"days": 6}, "validation_error"),
        ({"days": 91}, "validation_error"),
    ]:
        refused = await h.http.get("/api/dashboard", params=params, headers=headers)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == code
