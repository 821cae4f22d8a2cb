"""Without SMTP, mail is kept in the dev outbox and the log says where, never what."""

from __future__ import annotations

import json

import pytest

from postwise.notify import outbox
from postwise.notify.mailer import EmailMessage, OutboxMailer
from postwise.notify.outbox import OUTBOX_TTL, DevOutbox, find_links
from postwise.notify.templates import render_email
from postwise.store import Store

TOKEN = "tok_Q2xpcHBlZCBhbmQgc2VjcmV0"
LINK = f"https://mail.example.com/reset-password/?token={TOKEN}"


def _reset_mail(to: str = "ada@example.com") -> EmailMessage:
    return render_email(
        "password_reset", to=to, context={"name": "Ada", "link": LINK, "expires_minutes": 60}
    )


@pytest.mark.backend
async def test_keeps_the_message_and_logs_no_link(store: Store, logs) -> None:
    message = _reset_mail()
    await OutboxMailer(store).send(message)

    [item] = await DevOutbox(store).items()
    assert (item.to, item.subject) == ("ada@example.com", "Reset your Postwise password")
    assert (item.text, item.html) == (message.text, message.html)
    assert item.links == [LINK]

    [event] = [e for e in logs.events() if e["event"] == "mail_kept_in_dev_outbox"]
    assert event["to"] == "ada@example.com"
    assert event["subject"] == "Reset your Postwise password"
    assert event["hint"] == "open /api/dev/outbox"
    rendered = logs.rendered()
    assert "mail_kept_in_dev_outbox" in rendered
    for secret in (TOKEN, "reset-password", "Choose a new password"):
        assert secret not in rendered
    [line] = [line for line in rendered.splitlines() if "mail_kept_in_dev_outbox" in line]
    assert json.loads(line)["hint"] == "open /api/dev/outbox"


@pytest.mark.backend
async def test_items_expire_after_a_week(store: Store) -> None:
    item = await DevOutbox(store).keep(_reset_mail())
    remaining = await store.ttl(f"outbox:item:{item.id}")
    assert remaining is not None and OUTBOX_TTL - 60 < remaining <= OUTBOX_TTL
    index_ttl = await store.ttl(outbox.INDEX_KEY)
    assert index_ttl is not None and index_ttl > OUTBOX_TTL - 60


@pytest.mark.backend
async def test_lists_newest_first_and_at_most_fifty(store: Store) -> None:
    box = DevOutbox(store)
    for number in range(55):
        await box.keep(_reset_mail(to=f"user{number}@example.com"))
    items = await box.items()
    assert len(items) == 50
    assert items[0].to == "user54@example.com"
    assert items[-1].to == "user5@example.com"
    assert [i.created_at for i in items] == sorted((i.created_at for i in items), reverse=True)


@pytest.mark.backend
async def test_keeps_a_bounded_number(store: Store, monkeypatch) -> None:
    monkeypatch.setattr(outbox, "MAX_KEPT", 3)
    box = DevOutbox(store)
    kept = [await box.keep(_reset_mail(to=f"u{n}@example.com")) for n in range(5)]
    assert [i.to for i in await box.items()] == [
        "u4@example.com",
        "u3@example.com",
        "u2@example.com",
    ]
    assert await store.get(f"outbox:item:{kept[0].id}") is None
    assert len(await store.smembers(outbox.INDEX_KEY)) == 3


@pytest.mark.backend
async def test_expired_items_leave_the_index(store: Store) -> None:
    box = DevOutbox(store)
    gone = await box.keep(_reset_mail(to="gone@example.com"))
    await box.keep(_reset_mail(to="kept@example.com"))
    await store.delete(f"outbox:item:{gone.id}")  # what the TTL does after a week
    assert [i.to for i in await box.items()] == ["kept@example.com"]
    assert gone.id not in await store.smembers(outbox.INDEX_KEY)


@pytest.mark.backend
async def test_clear(store: Store) -> None:
    box = DevOutbox(store)
    first = await box.keep(_reset_mail())
    await box.keep(_reset_mail())
    assert await box.clear() == 2
    assert await box.items() == []
    assert await store.get(f"outbox:item:{first.id}") is None
    assert await box.clear() == 0


def test_find_links() -> None:
    text = (
        "Open https://a.example/x?t=1&u=2. Or (http://b.example/y), "
        "again https://a.example/x?t=1&u=2 but not ftp://c.example or mailto:d@e.f\n"
        "<https://c.example/z>"
    )
    assert find_links(text) == [
        "https://a.example/x?t=1&u=2",
        "http://b.example/y",
        "https://c.example/z",
    ]
