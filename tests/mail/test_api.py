"""The mail API over a real Dovecot mailbox mirrored by the embedded engine: folders, keyset
thread pages (stable while mail arrives), the unified inbox, a thread's messages, raw source and
attachments byte for byte, actions reaching the server, and 404 for other users' ids."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
from sqlalchemy import case, func, select

from postwise.mail.models import Message, ThreadFolder
from tests.accounts.conftest import Harness, account_body
from tests.fixtures.dovecot import Dovecot
from tests.sync.conftest import make_message

pytestmark = pytest.mark.backend

START = datetime(2026, 1, 1, 12, tzinfo=UTC)


def at(hours: int) -> datetime:
    """A message's date and INTERNALDATE (which orders the lists): an hour apart, never tied."""
    return START + timedelta(hours=hours)


def with_attachment(n: int, payload: bytes, filename: str, content_type: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Files <files@example.test>"
    message["To"] = "Reader <reader@example.test>"
    message["Subject"] = f"Attachment {n}"
    message["Date"] = format_datetime(START + timedelta(hours=n))
    message["Message-ID"] = make_msgid(idstring=f"a{n}", domain="example.test")
    message.set_content("See attached.\n")
    maintype, subtype = content_type.split("/")
    message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(message)


async def connect(h: Harness, dovecot: Dovecot, smtp: Any, box: tuple[str, str]) -> tuple:
    headers = await h.sign_in()
    created = await h.http.post(
        "/api/accounts", json=account_body(dovecot, smtp, box), headers=headers
    )
    assert created.status_code == 201, created.text
    return headers, created.json()["id"]


async def synced(h: Harness, headers: dict[str, str], account_id: str, messages: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        account = (await h.http.get(f"/api/accounts/{account_id}", headers=headers)).json()
        if account["sync_state"] == "idle" and account["counts"]["messages"] == messages:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not synced: {account}")


async def all_pages(h: Harness, headers: dict[str, str], **params: Any) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = await h.http.get("/api/threads", params=query, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


async def index_matches_messages(h: Harness) -> None:
    """thread_folders says exactly what the messages say, after every change so far."""
    async with h.services.sessionmaker() as db:
        indexed = {
            (r.thread_id, r.folder_id, r.message_count, r.unread_count)
            for r in (await db.scalars(select(ThreadFolder))).all()
        }
        truth = {
            (tid, fid, int(count), int(unread))
            for tid, fid, count, unread in await db.execute(
                select(
                    Message.thread_id,
                    Message.folder_id,
                    func.count(),
                    func.sum(case((Message.is_read, 0), else_=1)),
                ).group_by(Message.thread_id, Message.folder_id)
            )
        }
    assert indexed == truth and indexed


@pytest.fixture
async def h(make_harness, empty_database: None) -> AsyncIterator[Harness]:
    async with make_harness(sync_in_process=True) as harness:
        yield harness


async def test_folders_threads_pages_and_a_thread(h: Harness, dovecot, smtp_server, mailbox):
    imap = dovecot.client(mailbox[0])
    ids: list[str] = []
    for n in range(12):
        raw, msgid = make_message(n, when=START + timedelta(hours=n))
        imap.append("INBOX", raw, flags=("\\Seen",) if n % 3 else (), msg_time=at(n))
        ids.append(msgid)
    # Two replies to message 0: one thread of three, lifted to the top by the newest reply.
    reply1, reply1_id = make_message(
        100, subject="Re: Message number 0", reply_to=ids[0], when=START + timedelta(hours=20)
    )
    imap.append("INBOX", reply1, msg_time=at(20))
    reply2, _ = make_message(
        101, subject="Re: Message number 0", reply_to=reply1_id, when=START + timedelta(hours=21)
    )
    imap.append("Sent", reply2, flags=("\\Seen",), msg_time=at(21))
    imap.logout()
    headers, account_id = await connect(h, dovecot, smtp_server, mailbox)
    await synced(h, headers, account_id, 14)

    folders = (await h.http.get("/api/folders", headers=headers)).json()["items"]
    by_role = {f["role"]: f for f in folders if f["role"]}
    assert by_role["inbox"]["total_count"] == 13 and by_role["inbox"]["unread_count"] == 5
    assert by_role["sent"]["total_count"] == 1

    first = await h.http.get("/api/threads", params={"limit": 5}, headers=headers)
    assert first.status_code == 200, first.text
    top = first.json()["items"][0]
    assert top["subject"] == "Message number 0"
    assert top["message_count"] == 3 and top["unread"] is True
    assert [p["address"] for p in top["participants"]] == [
        "sender0@example.test",
        "sender100@example.test",
        "sender101@example.test",
    ]
    assert {label["role"] for label in top["labels"]} == {"inbox", "sent"}
    assert top["snippet"].startswith("Hello, this is message 101")

    items = await all_pages(h, headers, limit=5)
    assert len(items) == 12 and len({i["id"] for i in items}) == 12
    stamps = [i["last_message_at"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    sent = await all_pages(h, headers, folder="sent")
    assert [i["id"] for i in sent] == [top["id"]]

    thread = await h.http.get(f"/api/threads/{top['id']}", headers=headers)
    assert thread.status_code == 200, thread.text
    body = thread.json()
    assert [m["subject"] for m in body["messages"]] == [
        "Message number 0",
        "Re: Message number 0",
        "Re: Message number 0",
    ]
    assert body["messages"][0]["from"] == {"name": "Sender 0", "address": "sender0@example.test"}
    assert body["messages"][0]["body_text"] == "Hello, this is message 0."


async def test_pages_stay_stable_while_mail_arrives(h: Harness, dovecot, smtp_server, mailbox):
    imap = dovecot.client(mailbox[0])
    for n in range(9):
        imap.append("INBOX", make_message(n, when=at(n))[0], msg_time=at(n))
    headers, account_id = await connect(h, dovecot, smtp_server, mailbox)
    await synced(h, headers, account_id, 9)
    first = (await h.http.get("/api/threads", params={"limit": 4}, headers=headers)).json()
    # New mail arrives between two pages (IDLE brings it in).
    for n in range(9, 12):
        imap.append("INBOX", make_message(n, when=at(n))[0], msg_time=at(n))
    imap.logout()
    await synced(h, headers, account_id, 12)
    rest: list[dict] = []
    cursor = first["next_cursor"]
    while cursor:
        page = await h.http.get(
            "/api/threads", params={"limit": 4, "cursor": cursor}, headers=headers
        )
        rest += page.json()["items"]
        cursor = page.json()["next_cursor"]
    seen = [i["subject"] for i in first["items"] + rest]
    # Every thread of the first listing exactly once, in order; the new ones are on page one.
    assert seen == [f"Message number {n}" for n in range(8, -1, -1)]
    fresh = (await h.http.get("/api/threads", params={"limit": 3}, headers=headers)).json()
    assert [i["subject"] for i in fresh["items"]] == [f"Message number {n}" for n in (11, 10, 9)]


async def test_unified_inbox_merges_mailboxes(h: Harness, dovecot, smtp_server):
    headers = await h.sign_in()
    accounts = []
    for offset in (0, 1):
        box = dovecot.add_user()
        imap = dovecot.client(box[0])
        for n in range(offset, 8, 2):
            imap.append("INBOX", make_message(n, when=at(n))[0], msg_time=at(n))
        imap.logout()
        created = await h.http.post(
            "/api/accounts", json=account_body(dovecot, smtp_server, box), headers=headers
        )
        assert created.status_code == 201, created.text
        accounts.append(created.json()["id"])
    for account_id in accounts:
        await synced(h, headers, account_id, 4)
    unified = await all_pages(h, headers, limit=3)
    assert [i["subject"] for i in unified] == [f"Message number {n}" for n in range(7, -1, -1)]
    assert {i["account_id"] for i in unified} == set(accounts)
    one = await all_pages(h, headers, account_id=accounts[1])
    assert [i["subject"] for i in one] == [f"Message number {n}" for n in (7, 5, 3, 1)]


async def test_raw_and_attachments_download_byte_identical(h, dovecot, smtp_server, mailbox):
    payload = bytes(range(256)) * 40
    html = b"<html><script>alert(1)</script></html>"
    raw = with_attachment(1, payload, "r\u00e9sum\u00e9 ../x.bin", "application/octet-stream")
    raw_html = with_attachment(2, html, "page.html", "text/html")
    imap = dovecot.client(mailbox[0])
    imap.append("INBOX", raw)
    imap.append("INBOX", raw_html)
    imap.logout()
    headers, account_id = await connect(h, dovecot, smtp_server, mailbox)
    await synced(h, headers, account_id, 2)
    items = await all_pages(h, headers)
    by_subject = {i["subject"]: i for i in items}
    assert by_subject["Attachment 1"]["has_attachments"] is True
    thread = (
        await h.http.get(f"/api/threads/{by_subject['Attachment 1']['id']}", headers=headers)
    ).json()
    message = thread["messages"][0]
    got = await h.http.get(f"/api/messages/{message['id']}/raw", headers=headers)
    assert got.status_code == 200, got.text
    # IMAP serves every message with CRLF line ends: exactly what the server gave.
    assert got.content == raw.replace(b"\n", b"\r\n")
    assert got.headers["content-type"] == "message/rfc822"
    attachment = message["attachments"][0]
    assert attachment["filename"] == "r\u00e9sum\u00e9 .._x.bin"
    got = await h.http.get(attachment["url"], headers=headers)
    assert got.status_code == 200, got.text
    assert got.content == payload
    assert got.headers["content-type"] == "application/octet-stream"
    disposition = got.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;") and "filename*=utf-8''r%C3%A9sum%C3%A9" in disposition
    )
    assert "/" not in disposition.split("''", 1)[1]
    thread = (
        await h.http.get(f"/api/threads/{by_subject['Attachment 2']['id']}", headers=headers)
    ).json()
    got = await h.http.get(thread["messages"][0]["attachments"][0]["url"], headers=headers)
    assert got.content == html
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in got.headers["content-security-policy"]
    assert got.headers["x-content-type-options"] == "nosniff"
    missing = await h.http.get(f"/api/messages/{message['id']}/attachments/7", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_actions_reach_the_server(h: Harness, dovecot, smtp_server, mailbox):
    imap = dovecot.client(mailbox[0])
    for n in range(3):
        imap.append("INBOX", make_message(n, when=at(n))[0], msg_time=at(n))
    headers, account_id = await connect(h, dovecot, smtp_server, mailbox)
    await synced(h, headers, account_id, 3)
    items = {i["subject"]: i["id"] for i in await all_pages(h, headers)}
    star = await h.http.post(
        "/api/threads/actions",
        json={"thread_ids": [items["Message number 0"]], "action": "star"},
        headers=headers,
    )
    assert star.status_code == 200, star.text
    assert star.json() == {"thread_ids": [items["Message number 0"]], "message_count": 1}
    # The list shows it at once: the thread's stored list item was refreshed with the flag.
    starred = {i["subject"]: i["starred"] for i in await all_pages(h, headers)}
    assert starred == {
        "Message number 0": True,
        "Message number 1": False,
        "Message number 2": False,
    }
    archived = await h.http.post(
        "/api/threads/actions",
        json={"thread_ids": [items["Message number 1"]], "action": "archive"},
        headers=headers,
    )
    assert archived.status_code == 200, archived.text
    # At once locally: the inbox no longer lists it, the archive does.
    inbox = [i["subject"] for i in await all_pages(h, headers)]
    assert inbox == ["Message number 2", "Message number 0"]
    archive = [i["subject"] for i in await all_pages(h, headers, folder="archive")]
    assert archive == ["Message number 1"]
    # And on the server, once the engine has written it back.
    deadline = time.monotonic() + 20
    while True:
        imap.select_folder("INBOX")
        inbox_subjects = {
            data[b"ENVELOPE"].subject.decode()
            for data in imap.fetch(imap.search(), ["ENVELOPE"]).values()
        }
        flagged = imap.search(["FLAGGED"])
        imap.select_folder("Archive")
        archived_count = len(imap.search())
        if (
            inbox_subjects == {"Message number 0", "Message number 2"}
            and flagged
            and archived_count == 1
        ):
            break
        assert time.monotonic() < deadline, (inbox_subjects, flagged, archived_count)
        await asyncio.sleep(0.2)
    imap.logout()
    await index_matches_messages(h)
    bad = await h.http.post(
        "/api/threads/actions",
        json={"thread_ids": [items["Message number 0"]], "action": "move"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_folder"


async def test_other_users_ids_answer_404(h: Harness, dovecot, smtp_server, mailbox):
    payload = b"secret attachment"
    imap = dovecot.client(mailbox[0])
    imap.append("INBOX", with_attachment(1, payload, "a.bin", "application/octet-stream"))
    imap.logout()
    owner, account_id = await connect(h, dovecot, smtp_server, mailbox)
    await synced(h, owner, account_id, 1)
    thread = (await all_pages(h, owner))[0]
    detail = (await h.http.get(f"/api/threads/{thread['id']}", headers=owner)).json()
    message_id = detail["messages"][0]["id"]
    folder_id = detail["labels"][0]["folder_id"]
    intruder = await h.sign_in()
    for path in (
        f"/api/threads/{thread['id']}",
        f"/api/messages/{message_id}/raw",
        f"/api/messages/{message_id}/attachments/0",
        f"/api/threads/{uuid.uuid4()}",
        "/api/threads/not-a-uuid",
    ):
        response = await h.http.get(path, headers=intruder)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "not_found"
    listing = await h.http.get("/api/threads", params={"folder": folder_id}, headers=intruder)
    assert listing.status_code == 404
    for path in ("/api/threads", "/api/folders", "/api/search"):
        by_account = await h.http.get(
            path, params={"account_id": account_id, "q": "attachment"}, headers=intruder
        )
        assert by_account.status_code == 404, (path, by_account.text)
        assert by_account.json()["code"] == "not_found"
    assert (await h.http.get("/api/folders", headers=intruder)).json() == {"items": []}
    assert (await all_pages(h, intruder)) == []
    patched = await h.http.patch(
        f"/api/messages/{message_id}", json={"show_images": True}, headers=intruder
    )
    assert patched.status_code == 404
    acted = await h.http.post(
        "/api/threads/actions",
        json={"thread_ids": [thread["id"]], "action": "trash"},
        headers=intruder,
    )
    assert acted.status_code == 404
    # The owner still has it, untouched.
    assert (await all_pages(h, owner))[0]["id"] == thread["id"]


async def test_bad_parameters_are_clear_problems(h: Harness):
    headers = await h.sign_in()
    for params, code in (
        ({"cursor": "garbage!"}, "invalid_cursor"),
        ({"folder": "nonsense"}, "invalid_folder"),
        ({"limit": "0"}, "validation_error"),
    ):
        response = await h.http.get("/api/threads", params=params, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code


HOSTILE = """<html><head><style>body{background:url(https://t.example/bg.png)}</style>
<script>alert(1)</script><meta http-equiv="refresh" content="0;url=https://evil.example"></head>
<body onload="steal()"><p onclick="x()">Hello <a href="javascript:alert(1)">click</a>
<a href="https://ok.example/page">fine</a></p>
<form action="https://evil.example/login"><input name="password"></form>
<img src="https://cdn.example/photo.png" width="300" height="200">
<img src="https://track.example/o.gif" width="1" height="1">
<iframe src="https://evil.example"></iframe><svg onload="x()"><script>y()</script></svg>
<object data="https://evil.example/x.swf"></object>
<div style="background-image:url('https://t.example/x.png')">styled</div></body></html>"""


async def test_thread_html_is_sanitised_and_images_switch_on(h, dovecot, smtp_server, mailbox):
    message = EmailMessage()
    message["From"] = "News <news@example.test>"
    message["To"] = "Reader <reader@example.test>"
    message["Subject"] = "Hostile"
    message["Message-ID"] = make_msgid(domain="example.test")
    message.set_content("plain version")
    message.add_alternative(HOSTILE, subtype="html")
    imap = dovecot.client(mailbox[0])
    imap.append("INBOX", bytes(message))
    imap.logout()
    headers, account_id = await connect(h, dovecot, smtp_server, mailbox)
    await synced(h, headers, account_id, 1)
    thread = (await all_pages(h, headers))[0]
    detail = (await h.http.get(f"/api/threads/{thread['id']}", headers=headers)).json()
    shown = detail["messages"][0]
    html = shown["body_html"].lower()
    for banned in (
        "<script",
        "onload",
        "onclick",
        "javascript:",
        "<form",
        "<input",
        "<iframe",
        "<object",
        "<svg",
        "<meta",
        "<style",
        "http-equiv",
        "url(",
    ):
        assert banned not in html, banned
    # Remote resources are not loaded until asked: the photo waits, the tracker is gone.
    assert ' src="https://' not in html
    assert "track.example" not in html
    assert 'href="https://ok.example/page"' in html and "noopener" in html
    assert shown["has_remote_images"] is True and shown["has_tracking_pixel"] is True
    switched = await h.http.patch(
        f"/api/messages/{shown['id']}", json={"show_images": True}, headers=headers
    )
    assert switched.status_code == 200, switched.text
    html = switched.json()["body_html"]
    assert 'src="https://cdn.example/photo.png"' in html
    assert "track.example" not in html and "<script" not in html.lower()
    again = (await h.http.get(f"/api/threads/{thread['id']}", headers=headers)).json()
    assert again["messages"][0]["show_images"] is True
