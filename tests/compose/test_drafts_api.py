"""The drafts API over the real app and database: autosave with versions, another user's draft,
bad input, attachments (upload, download, limits), reply and forward prefill from stored mail,
sending into the outbox and taking it back."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select, update

from postwise.accounts.models import AccountKind
from postwise.compose.models import Draft, DraftAttachment
from postwise.events import user_channel
from postwise.mail.models import Attachment
from tests.accounts import conftest as accounts_conftest
from tests.accounts.conftest import Harness
from tests.compose.writing import (
    add_account,
    create,
    fields,
    mail,
    mailbox,
    store,
)

pytestmark = pytest.mark.backend

# The accounts suite's harness, under names of this module (tests/compose has no conftest).
accounts_settings = accounts_conftest.accounts_settings
make_harness = accounts_conftest.make_harness


@pytest.fixture
async def h(make_harness) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with make_harness() as harness:
        yield harness


async def test_autosave_round_trip_with_versions(h: Harness) -> None:
    box = await mailbox(h)
    draft = await create(h, box, to=[{"name": "Bob", "address": "Bob@Example.net"}])
    # The user's first mailbox, sending as itself, with a Message-ID on its domain.
    assert draft["account_id"] == str(box.account_id)
    assert draft["from_address"] == box.email
    assert draft["status"] == "draft" and draft["mode"] == "new" and draft["version"] == 1
    local, _, domain = draft["message_id"].partition("@")
    assert domain == "example.com" and len(local) == 32 and "<" not in draft["message_id"]
    assert draft["to"] == [{"name": "Bob", "address": "bob@example.net"}]

    url = f"/api/drafts/{draft['id']}"
    html = (
        '<p onclick="x()">Hi <b>Bob</b><script>alert(1)</script>'
        '<img src="cid:logo@postwise"><a href="javascript:evil()">x</a></p>'
    )
    saved = await h.http.patch(
        url,
        json={"version": 1, "subject": "Lunch", "text": "Hi Bob", "html": html},
        headers=box.headers,
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["version"] == 2 and body["subject"] == "Lunch"
    assert "<script" not in body["html"] and "onclick" not in body["html"]
    assert "javascript:" not in body["html"]
    assert '<img src="cid:logo@postwise">' in body["html"] and "<b>Bob</b>" in body["html"]
    # Only the fields sent change.
    assert body["to"] == draft["to"] and body["message_id"] == draft["message_id"]

    # An autosave written against version 1 arrives late: refused, the newer text stays.
    late = await h.http.patch(url, json={"version": 1, "text": "old"}, headers=box.headers)
    assert late.status_code == 409 and late.json()["code"] == "draft_conflict"
    assert late.json()["version"] == 2
    plain = await h.http.patch(url, json={"version": 2, "plain_text": True}, headers=box.headers)
    assert plain.json()["html"] is None and plain.json()["text"] == "Hi Bob"
    assert plain.json()["version"] == 3

    second = await create(h, box, subject="Second")
    listed = (await h.http.get("/api/drafts", headers=box.headers)).json()["items"]
    assert [item["id"] for item in listed] == [second["id"], draft["id"]]
    assert listed[1]["snippet"] == "Hi Bob" and listed[1]["has_attachments"] is False

    assert (await h.http.delete(url, headers=box.headers)).status_code == 204
    gone = await h.http.get(url, headers=box.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"


async def test_another_users_draft_is_not_found(h: Harness) -> None:
    owner = await mailbox(h)
    other = await mailbox(h)
    draft = await create(h, owner, subject="Private")
    url = f"/api/drafts/{draft['id']}"
    attempts = [
        h.http.get(url, headers=other.headers),
        h.http.patch(url, json={"subject": "Mine"}, headers=other.headers),
        h.http.delete(url, headers=other.headers),
        h.http.post(f"{url}/send", json={}, headers=other.headers),
        h.http.post(f"/api/outbox/{draft['id']}/cancel", headers=other.headers),
        h.http.post(f"{url}/attachments", files={"file": ("a.txt", b"x")}, headers=other.headers),
    ]
    for answer in await asyncio.gather(*attempts):
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "not_found"
        assert answer.json()["detail"] == "No such draft."
    # Writing from the other user's mailbox, or answering their mail, is refused the same way.
    (message,) = await store(
        h, owner.folders["inbox"], mail(sender="a@example.net", to=owner.email, subject="Hi")
    )
    stolen = await h.http.post(
        "/api/drafts", json={"account_id": str(owner.account_id)}, headers=other.headers
    )
    assert stolen.status_code == 404
    answered = await h.http.post(
        "/api/drafts",
        json={"mode": "reply", "reply_to_message_id": message.id},
        headers=other.headers,
    )
    assert answered.status_code == 404 and answered.json()["code"] == "message_not_found"
    unchanged = (await h.http.get(url, headers=owner.headers)).json()
    assert unchanged["subject"] == "Private" and unchanged["version"] == 1


async def test_bad_input_names_the_field(h: Harness) -> None:
    box = await mailbox(h)
    draft = await create(h, box)
    url = f"/api/drafts/{draft['id']}"
    cases = [
        ({"subject": "Hi\r\nBcc: victim@example.org"}, "subject"),
        (
            {"to": [{"name": "Bob\nBcc: victim@example.org", "address": "b@example.net"}]},
            "to[0].name",
        ),
        ({"cc": [{"address": "b@example.net"}, {"address": "not-an-address"}]}, "cc[1].address"),
        ({"bcc": [{"address": "b@exa mple.net"}]}, "bcc[0].address"),
        ({"text": "nul\x00byte"}, "text"),
    ]
    for body, field in cases:
        refused = await h.http.patch(url, json=body, headers=box.headers)
        assert refused.status_code == 422, body
        assert fields(refused) == [field], refused.text
    foreign = await h.http.patch(
        url, json={"from_address": "boss@example.org"}, headers=box.headers
    )
    assert foreign.status_code == 422 and foreign.json()["code"] == "invalid_from_address"
    assert fields(foreign) == ["from_address"]
    # Nothing was saved by any of them.
    assert (await h.http.get(url, headers=box.headers)).json()["version"] == 1

    reply = await h.http.post("/api/drafts", json={"mode": "reply"}, headers=box.headers)
    assert reply.status_code == 422 and fields(reply) == ["reply_to_message_id"]
    forward = await h.http.post(
        "/api/drafts", json={"mode": "forward", "reply_to_message_id": 1}, headers=box.headers
    )
    assert forward.status_code == 422 and fields(forward) == ["forward_of_message_id"]
    missing = await h.http.post(
        "/api/drafts", json={"mode": "forward", "forward_of_message_id": 2**62}, headers=box.headers
    )
    assert missing.status_code == 404 and missing.json()["code"] == "message_not_found"


async def test_a_user_without_a_mailbox_cannot_write(h: Harness) -> None:
    headers = await h.sign_in()
    refused = await h.http.post("/api/drafts", json={}, headers=headers)
    assert refused.status_code == 409 and refused.json()["code"] == "no_mailbox"


async def test_the_default_mailbox_is_the_first_one(h: Harness) -> None:
    box = await mailbox(h)
    newer, _ = await add_account(h, box.user_id, "second@example.org")
    older, _ = await add_account(
        h, box.user_id, "first@example.org", created_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert (await create(h, box))["account_id"] == str(older)
    chosen = await create(h, box, account_id=str(newer))
    assert chosen["from_address"] == "second@example.org"
    assert chosen["message_id"].endswith("@example.org")


async def test_a_draft_moves_to_another_mailbox_and_to_plain_text(h: Harness) -> None:
    box = await mailbox(h)
    other, _ = await add_account(
        h, box.user_id, "other@example.org", send_as=[{"name": "", "address": "alias@example.org"}]
    )
    draft = await create(h, box, subject="Moving", html="<p>Hi <b>there</b></p>")
    assert draft["plain_text"] is False
    moved = await h.http.patch(
        f"/api/drafts/{draft['id']}",
        json={"version": draft["version"], "account_id": str(other), "plain_text": True},
        headers=box.headers,
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["account_id"] == str(other)
    assert body["from_address"] == "other@example.org"
    # A Message-ID on the new mailbox's domain; nothing was sent under the old one.
    assert body["message_id"].endswith("@example.org") and body["message_id"] != draft["message_id"]
    assert body["plain_text"] is True and body["html"] is None
    aliased = await h.http.patch(
        f"/api/drafts/{draft['id']}",
        json={"account_id": str(box.account_id), "from_address": "alias@example.org"},
        headers=box.headers,
    )
    # The alias belongs to the other mailbox, not to the one it moves back to.
    assert aliased.status_code == 422 and aliased.json()["code"] == "invalid_from_address"
    stranger = await mailbox(h)
    taken = await h.http.patch(
        f"/api/drafts/{draft['id']}",
        json={"account_id": str(stranger.account_id)},
        headers=box.headers,
    )
    assert taken.status_code == 404


# --- reply and forward --------------------------------------------------------------------------


async def test_forward_keeps_the_original_attachments(h: Harness) -> None:
    box = await mailbox(h)
    pdf = b"%PDF-1.4 quarterly figures"
    (message,) = await store(
        h,
        box.folders["inbox"],
        mail(
            sender="Ada <ada@example.net>",
            to=box.email,
            cc="Carol <carol@example.net>",
            subject="Re: Figures",
            body="See attached.\n",
            attachments=[("q1.pdf", "application/pdf", pdf), ("notes.txt", "text/plain", b"n")],
        ),
    )
    draft = await create(h, box, mode="forward", forward_of_message_id=message.id)
    assert draft["subject"] == "Fwd: Figures" and draft["to"] == []
    assert draft["thread_id"] == str(message.thread_id)
    assert draft["references"] == [message.message_id] and draft["in_reply_to"] is None
    assert "---------- Forwarded message ----------\nFrom: Ada <ada@example.net>" in draft["text"]
    assert "Cc: Carol <carol@example.net>" in draft["text"]
    assert "See attached." in draft["text"]
    assert [(a["filename"], a["size"]) for a in draft["attachments"]] == [
        ("q1.pdf", len(pdf)),
        ("notes.txt", 1),
    ]
    async with h.services.sessionmaker() as db:
        originals = set(
            (
                await db.scalars(
                    select(Attachment.sha256).where(Attachment.message_id == message.id)
                )
            ).all()
        )
        copies = set(
            (
                await db.scalars(
                    select(DraftAttachment.sha256).where(
                        DraftAttachment.draft_id == uuid.UUID(draft["id"])
                    )
                )
            ).all()
        )
    assert copies == originals and len(copies) == 2
    download = await h.http.get(f"/api/drafts/{draft['id']}/attachments/0", headers=box.headers)
    assert download.content == pdf


async def test_reply_all_prefill(h: Harness) -> None:
    box = await mailbox(
        h,
        send_as=[{"name": "Sales", "address": "sales@example.com"}],
        signature_text="Me\nExample Ltd",
    )
    root = f"{uuid.uuid4().hex}@mail.example.net"
    (message,) = await store(
        h,
        box.folders["inbox"],
        mail(
            sender="Ada Lovelace <ada@example.net>",
            to=f"Me <{box.email}>, Bob <bob@example.net>",
            cc="sales@example.com, BOB@example.net, Carol <carol@example.net>",
            subject="RE: Re: Plans",
            body="Shall we meet?\n",
            references=f"<{root}>",
        ),
    )
    draft = await create(h, box, mode="reply_all", reply_to_message_id=message.id)
    assert [r["address"] for r in draft["to"]] == ["ada@example.net"]
    assert [r["address"] for r in draft["cc"]] == ["bob@example.net", "carol@example.net"]
    assert draft["subject"] == "Re: Plans"
    assert draft["in_reply_to"] == message.message_id
    assert draft["references"] == [root, message.message_id]
    assert draft["thread_id"] == str(message.thread_id)
    text = draft["text"]
    assert text.index("-- \nMe\nExample Ltd") < text.index("Ada Lovelace <ada@example.net> wrote:")
    assert "> Shall we meet?" in text
    assert '<blockquote type="cite">' in draft["html"]
    assert draft["html"].index("Example Ltd") < draft["html"].index("<blockquote")

    # Fields the request sends win over the prefill.
    mine = await create(
        h, box, mode="reply", reply_to_message_id=message.id, subject="Different", text="Short."
    )
    assert mine["subject"] == "Different" and mine["text"] == "Short." and mine["html"] is None
    assert [r["address"] for r in mine["to"]] == ["ada@example.net"] and mine["cc"] == []


async def test_a_reply_carries_the_inline_images_its_quote_shows(h: Harness) -> None:
    box = await mailbox(h)
    raw = mail(
        sender="Ada <ada@example.net>",
        to=box.email,
        subject="Logo",
        html='<p>Our logo: <img src="cid:logo@example.net"></p>',
        attachments=[("other.pdf", "application/pdf", b"%PDF other")],
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        b"\x89PNG logo", maintype="image", subtype="png", cid="<logo@example.net>"
    )
    (stored,) = await store(h, box.folders["inbox"], bytes(message))
    draft = await create(h, box, mode="reply", reply_to_message_id=stored.id)
    assert 'src="cid:logo@example.net"' in draft["html"]
    # The logo the quote shows comes along; the PDF (not shown) does not.
    assert [(a["content_id"], a["is_inline"]) for a in draft["attachments"]] == [
        ("logo@example.net", True)
    ]


# --- sending and the outbox ---------------------------------------------------------------------


class Events:
    """What the user's live connections are told, as it arrives."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def expect(self, wanted: dict[str, Any]) -> None:
        async with asyncio.timeout(10):
            while wanted not in self.seen:
                self.arrived.clear()
                await self.arrived.wait()


@asynccontextmanager
async def events(h: Harness, user_id: uuid.UUID) -> AsyncIterator[Events]:
    found = Events()
    async with h.services.store.subscribe(user_channel(user_id)) as messages:

        async def collect() -> None:
            async for message in messages:
                found.seen.append(json.loads(message.data))
                found.arrived.set()

        reader = asyncio.create_task(collect())
        try:
            yield found
        finally:
            reader.cancel()
            await asyncio.wait({reader}, timeout=5)


async def set_status(h: Harness, draft_id: str, status: str) -> None:
    async with h.services.sessionmaker() as db:
        await db.execute(update(Draft).where(Draft.id == uuid.UUID(draft_id)).values(status=status))
        await db.commit()


async def test_send_queues_for_the_undo_window_and_cancel_takes_it_back(h: Harness) -> None:
    box = await mailbox(h)
    draft = await create(h, box, to=[{"address": "bob@example.net"}], subject="Hi")
    draft_id = draft["id"]
    async with events(h, box.user_id) as seen:
        before = datetime.now(UTC)
        sent = await h.http.post(
            f"/api/drafts/{draft_id}/send", json={"version": 1}, headers=box.headers
        )
        assert sent.status_code == 202, sent.text
        entry = sent.json()
        assert entry["id"] == draft_id and entry["status"] == "queued"
        assert entry["scheduled"] is False and entry["attempts"] == 0
        send_at = datetime.fromisoformat(entry["send_at"])
        # The user's undo window: 10 seconds by default.
        assert before + timedelta(seconds=9) < send_at < datetime.now(UTC) + timedelta(seconds=11)
        await seen.expect(
            {
                "type": "outbox.updated",
                "data": {
                    "draft_id": draft_id,
                    "status": "queued",
                    "error_code": None,
                    "last_error": None,
                    "thread_id": None,
                },
            }
        )

        outbox = (await h.http.get("/api/outbox", headers=box.headers)).json()["items"]
        assert [item["id"] for item in outbox] == [draft_id]
        assert (await h.http.get("/api/drafts", headers=box.headers)).json()["items"] == []
        locked = await h.http.patch(
            f"/api/drafts/{draft_id}", json={"text": "x"}, headers=box.headers
        )
        assert locked.status_code == 409 and locked.json()["code"] == "draft_not_editable"
        assert (
            await h.http.delete(f"/api/drafts/{draft_id}", headers=box.headers)
        ).status_code == 409

        cancelled = await h.http.post(f"/api/outbox/{draft_id}/cancel", headers=box.headers)
        assert cancelled.status_code == 200, cancelled.text
        back = cancelled.json()
        assert back["status"] == "draft" and back["send_at"] is None and back["version"] == 2
        assert back["subject"] == "Hi" and back["to"] == draft["to"]
        await seen.expect(
            {
                "type": "outbox.updated",
                "data": {
                    "draft_id": draft_id,
                    "status": "draft",
                    "error_code": None,
                    "last_error": None,
                    "thread_id": None,
                },
            }
        )
    assert (await h.http.get("/api/outbox", headers=box.headers)).json()["items"] == []
    # A second undo (a double click) changes nothing.
    twice = await h.http.post(f"/api/outbox/{draft_id}/cancel", headers=box.headers)
    assert twice.status_code == 200 and twice.json()["version"] == 2
    # Sending the old version again is a conflict; the current one goes.
    stale = await h.http.post(
        f"/api/drafts/{draft_id}/send", json={"version": 1}, headers=box.headers
    )
    assert stale.status_code == 409 and stale.json()["code"] == "draft_conflict"


@pytest.mark.parametrize("status", ["sending", "sent"])
async def test_too_late_to_cancel(h: Harness, status: str) -> None:
    box = await mailbox(h)
    draft = await create(h, box, to=[{"address": "bob@example.net"}])
    assert (
        await h.http.post(f"/api/drafts/{draft['id']}/send", headers=box.headers)
    ).status_code == 202
    # What the worker's claim (or its delivery) does to the row.
    await set_status(h, draft["id"], status)
    late = await h.http.post(f"/api/outbox/{draft['id']}/cancel", headers=box.headers)
    assert late.status_code == 409 and late.json()["code"] == "already_sent"
    row = (await h.http.get(f"/api/drafts/{draft['id']}", headers=box.headers)).json()
    assert row["status"] == status


async def test_scheduled_send_and_what_send_refuses(h: Harness) -> None:
    box = await mailbox(h)
    empty = await create(h, box, subject="Nobody")
    refused = await h.http.post(f"/api/drafts/{empty['id']}/send", headers=box.headers)
    assert refused.status_code == 422 and refused.json()["code"] == "no_recipients"
    assert fields(refused) == ["to"]

    draft = await create(h, box, bcc=[{"address": "hidden@example.net"}])
    url = f"/api/drafts/{draft['id']}/send"
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    late = await h.http.post(url, json={"send_at": past}, headers=box.headers)
    assert late.status_code == 422 and late.json()["code"] == "send_at_in_past"
    assert fields(late) == ["send_at"]
    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    too_far = await h.http.post(url, json={"send_at": far}, headers=box.headers)
    assert too_far.status_code == 422 and fields(too_far) == ["send_at"]
    naive = await h.http.post(url, json={"send_at": "2030-01-01T09:00:00"}, headers=box.headers)
    assert naive.status_code == 422 and fields(naive) == ["send_at"]

    tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    scheduled = await h.http.post(url, json={"send_at": tomorrow.isoformat()}, headers=box.headers)
    assert scheduled.status_code == 202, scheduled.text
    entry = scheduled.json()
    assert entry["scheduled"] is True
    assert datetime.fromisoformat(entry["send_at"]) == tomorrow
    assert datetime.fromisoformat(entry["next_attempt_at"]) == tomorrow


async def test_a_local_mailbox_cannot_send(h: Harness) -> None:
    box = await mailbox(h, kind=AccountKind.LOCAL)
    draft = await create(h, box, to=[{"address": "bob@example.net"}])
    refused = await h.http.post(f"/api/drafts/{draft['id']}/send", headers=box.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "smtp_not_configured"
    assert (await h.http.get(f"/api/drafts/{draft['id']}", headers=box.headers)).json()[
        "status"
    ] == "draft"


async def test_a_failed_entry_is_sent_again_or_discarded(h: Harness) -> None:
    box = await mailbox(h)
    draft = await create(h, box, to=[{"address": "bob@example.net"}])
    assert (
        await h.http.post(f"/api/drafts/{draft['id']}/send", headers=box.headers)
    ).status_code == 202
    async with h.services.sessionmaker() as db:
        await db.execute(
            update(Draft)
            .where(Draft.id == uuid.UUID(draft["id"]))
            .values(status="failed", error_code="smtp_rejected", last_error="550", attempts=3)
        )
        await db.commit()
    outbox = (await h.http.get("/api/outbox", headers=box.headers)).json()["items"]
    assert outbox[0]["status"] == "failed" and outbox[0]["error_code"] == "smtp_rejected"
    # Sent entries stay listed for a day.
    old, recent = await create(h, box), await create(h, box)
    async with h.services.sessionmaker() as db:
        for entry, sent_at in ((old, timedelta(days=2)), (recent, timedelta(hours=1))):
            await db.execute(
                update(Draft)
                .where(Draft.id == uuid.UUID(entry["id"]))
                .values(status="sent", sent_at=datetime.now(UTC) - sent_at)
            )
        await db.commit()
    listed = (await h.http.get("/api/outbox", headers=box.headers)).json()["items"]
    assert {item["id"] for item in listed} == {draft["id"], recent["id"]}
    again = await h.http.post(f"/api/drafts/{draft['id']}/send", headers=box.headers)
    assert again.status_code == 202
    assert again.json()["attempts"] == 0 and again.json()["error_code"] is None
    await set_status(h, draft["id"], "failed")
    assert (
        await h.http.delete(f"/api/drafts/{draft['id']}", headers=box.headers)
    ).status_code == 204
    async with h.services.sessionmaker() as db:
        left = await db.scalar(
            select(func.count()).select_from(Draft).where(Draft.id == uuid.UUID(draft["id"]))
        )
    assert left == 0
