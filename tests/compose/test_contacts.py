"""The address book of past correspondents: counted from the stored mail, incrementally, and
ranked (sent to beats received from, recent beats old, names match by word prefix)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from postwise.compose.contacts import scan_messages
from postwise.mail.models import Message
from tests.accounts import conftest as accounts_conftest
from tests.accounts.conftest import Harness
from tests.compose.writing import Mailbox, mailbox

pytestmark = pytest.mark.backend

# The accounts suite's harness, under names of this module (tests/compose has no conftest).
accounts_settings = accounts_conftest.accounts_settings
make_harness = accounts_conftest.make_harness

NOW = datetime.now(UTC)


@pytest.fixture
async def h(make_harness) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with make_harness() as harness:
        yield harness


def person(address: str, name: str = "") -> dict[str, str]:
    return {"name": name, "address": address}


class Mail:
    """Message rows written straight into the database (the scan reads only these columns)."""

    def __init__(self, box: Mailbox) -> None:
        self.box = box
        self.uid = 0

    def row(
        self,
        folder: str,
        sender: dict[str, str],
        *,
        to: list[dict[str, str]] | None = None,
        cc: list[dict[str, str]] | None = None,
        bcc: list[dict[str, str]] | None = None,
        days_ago: float = 0,
        message_id: str | None = None,
        is_draft: bool = False,
    ) -> Message:
        self.uid += 1
        return Message(
            user_id=self.box.user_id,
            account_id=self.box.account_id,
            folder_id=self.box.folders[folder],
            uidvalidity=1,
            uid=self.uid,
            message_id=message_id or f"{uuid.uuid4().hex}@example.net",
            from_name=sender["name"],
            from_address=sender["address"],
            to=to if to is not None else [person(self.box.email)],
            cc=cc or [],
            bcc=bcc or [],
            received_at=NOW - timedelta(days=days_ago),
            raw_sha256="0" * 64,
            is_draft=is_draft,
        )

    async def add(self, h: Harness, *rows: Message) -> None:
        async with h.services.sessionmaker() as db:
            db.add_all(rows)
            await db.commit()


async def search(h: Harness, box: Mailbox, q: str = "", **params: Any) -> list[dict[str, Any]]:
    answer = await h.http.get("/api/contacts", params={"q": q, **params}, headers=box.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]  # type: ignore[no-any-return]


async def test_sent_to_ranks_above_received_from_and_recent_above_old(h: Harness) -> None:
    box = await mailbox(h, send_as=[{"name": "", "address": "alias@example.com"}])
    me = person(box.email, "Me")
    mail = Mail(box)
    await mail.add(
        h,
        # Bob: one mail sent to him (counts 3), Carol: two received from her (counts 2).
        mail.row("sent", me, to=[person("bob@example.net", "Bob Stone")]),
        mail.row("inbox", person("carol@example.net", "Carol")),
        mail.row("inbox", person("carol@example.net", "Carol King")),
        # Dave wrote often, long ago: 4 / (1 + 300/30) is far below Erin's 1 today.
        *[mail.row("inbox", person("dave@example.net"), days_ago=300) for _ in range(4)],
        mail.row("inbox", person("erin@example.net")),
        # My own addresses never become contacts, whatever folder and header they are in.
        mail.row("inbox", person("alias@example.com")),
        mail.row("sent", me, to=[person(box.email)], cc=[person("ALIAS@example.com")]),
        # Drafts and junk say nothing about who I write to.
        mail.row("drafts", me, to=[person("draft-only@example.net")], is_draft=True),
        mail.row("junk", person("spammer@example.org")),
    )
    found = await search(h, box)
    assert [c["address"] for c in found] == [
        "bob@example.net",
        "carol@example.net",
        "erin@example.net",
        "dave@example.net",
    ]
    bob, carol = found[0], found[1]
    assert (bob["sent_count"], bob["received_count"], bob["name"]) == (1, 0, "Bob Stone")
    # The newest name seen wins.
    assert (carol["sent_count"], carol["received_count"], carol["name"]) == (0, 2, "Carol King")
    assert len(await search(h, box, limit=2)) == 2


async def test_names_match_by_word_prefix_and_addresses_by_prefix(h: Harness) -> None:
    box = await mailbox(h)
    mail = Mail(box)
    await mail.add(
        h,
        mail.row("inbox", person("ada@example.net", "Ada Lovelace")),
        mail.row("inbox", person("grace@example.org", "Grace Hopper-Murray")),
        mail.row("inbox", person("x_y@example.org", "Ünal Öztürk")),
    )

    async def addresses(q: str) -> list[str]:
        return [c["address"] for c in await search(h, box, q)]

    assert await addresses("lov") == ["ada@example.net"]
    assert await addresses("LOVELACE") == ["ada@example.net"]
    assert await addresses("ada@ex") == ["ada@example.net"]
    assert await addresses("murr") == ["grace@example.org"]
    assert await addresses("ace") == []
    assert await addresses("example") == []
    assert await addresses("özt") == ["x_y@example.org"]
    # LIKE wildcards in the query are plain characters.
    assert await addresses("x_") == ["x_y@example.org"]
    assert await addresses("%") == []


async def test_the_scan_is_incremental_and_counts_each_mail_once(h: Harness) -> None:
    box = await mailbox(h)
    me = person(box.email)
    mail = Mail(box)
    shared = f"{uuid.uuid4().hex}@example.net"
    await mail.add(
        h,
        mail.row("inbox", person("ann@example.net"), message_id=shared),
        mail.row("sent", me, to=[person("ben@example.net")], cc=[person("BEN@example.net")]),
    )
    assert {c["address"]: c["received_count"] for c in await search(h, box)} == {
        "ann@example.net": 1,
        "ben@example.net": 0,
    }
    # Another copy of the same mail (an "all mail" folder), and one new mail: only the new one
    # counts, and what was counted before is not counted again.
    await mail.add(
        h,
        mail.row("inbox", person("ann@example.net"), message_id=shared),
        mail.row("inbox", person("ann@example.net", "Ann Lee")),
    )
    found = {c["address"]: c for c in await search(h, box)}
    assert found["ann@example.net"]["received_count"] == 2
    assert found["ann@example.net"]["name"] == "Ann Lee"
    assert found["ben@example.net"]["sent_count"] == 1
    # One mail sent (3) still outweighs two received (2).
    assert [c["address"] for c in await search(h, box)] == ["ben@example.net", "ann@example.net"]


async def test_a_large_backlog_is_read_a_slice_at_a_time(h: Harness) -> None:
    box = await mailbox(h)
    mail = Mail(box)
    await mail.add(h, *[mail.row("inbox", person(f"p{n}@example.net")) for n in range(5)])
    async with h.services.sessionmaker() as db:
        assert await scan_messages(db, box.user_id, limit=3) == 3
        await db.commit()
    async with h.services.sessionmaker() as db:
        assert await scan_messages(db, box.user_id, limit=3) == 2
        assert await scan_messages(db, box.user_id, limit=3) == 0
        await db.commit()
    assert len(await search(h, box, limit=10)) == 5


async def test_contacts_are_the_users_own(h: Harness) -> None:
    box = await mailbox(h)
    other = await mailbox(h)
    mail = Mail(box)
    await mail.add(h, mail.row("inbox", person("secret@example.net", "Secret Source")))
    assert [c["address"] for c in await search(h, box)] == ["secret@example.net"]
    assert await search(h, other) == []
    assert await search(h, other, "secret") == []
