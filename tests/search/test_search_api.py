"""GET /api/search against a generated mailbox with known answers, on SQLite FTS5 and on
PostgreSQL full text: every operator, negation, OR, grouping, paging, trash and spam left out
unless asked for, other users' mail never found, malformed queries as 422 with a position.

The expected answers come from an independent evaluator over the same generated rows (plain
Python sets of words), not from the SQL under test.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from postwise.accounts.models import MailAccount
from postwise.mail.models import Attachment, Folder, Message, Thread
from postwise.search import service
from postwise.search.query import (
    Age,
    And,
    DateBound,
    Flag,
    InFolder,
    Node,
    Not,
    Or,
    Size,
    Text,
    parse_query,
)
from tests.accounts.conftest import Harness

pytestmark = pytest.mark.backend

WORDS = [
    "apple",
    "banana",
    "cherry",
    "delta",
    "echo",
    "falcon",
    "garden",
    "harbor",
    "island",
    "jungle",
    "kettle",
    "lemon",
]
PEOPLE = [
    ("Ada Lovelace", "ada@example.com"),
    ("Bob Stone", "bob@example.org"),
    ("Cleo Park", "cleo@mail.test"),
    ("Dan Ruiz", "dan@example.com"),
    ("Eve Moss", "eve@corp.example"),
    ("Fay Lin", "fay@mail.test"),
]
FOLDERS = {
    "INBOX": "inbox",
    "Archive": "archive",
    "Sent": "sent",
    "Trash": "trash",
    "Junk": "junk",
    "Projects": None,
}
FILES = ["report.pdf", "photo.jpg", "budget.xlsx", "notes.txt"]


@dataclass
class Row:
    id: int
    thread_id: uuid.UUID
    folder: str
    subject: str
    body: str
    sender: tuple[str, str]
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    bcc: list[tuple[str, str]]
    received_at: datetime
    is_read: bool
    is_starred: bool
    size: int
    files: list[str] = field(default_factory=list)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def people_words(people: list[tuple[str, str]]) -> list[str]:
    return [w for name, address in people for w in words(name + " " + address)]


def contains(haystack: list[str], needle: str) -> bool:
    wanted = words(needle)
    n = len(wanted)
    return n > 0 and any(haystack[i : i + n] == wanted for i in range(len(haystack) - n + 1))


def matches(node: Node, row: Row, now: datetime) -> bool:
    if isinstance(node, Text):
        fields = {
            "subject": words(row.subject),
            "from": people_words([row.sender]),
            "to": people_words(row.to),
            "cc": people_words(row.cc),
            "bcc": people_words(row.bcc),
        }
        if node.field == "filename":
            return any(node.value.lower() in f for f in row.files)
        if node.field is not None:
            return contains(fields[node.field], node.value)
        return any(contains(v, node.value) for v in [*fields.values(), words(row.body)])
    if isinstance(node, Flag):
        return {
            "attachment": bool(row.files),
            "unread": not row.is_read,
            "read": row.is_read,
            "starred": row.is_starred,
            "unstarred": not row.is_starred,
        }[node.name]
    if isinstance(node, InFolder):
        if node.role == "all":
            return True
        role = {"spam": "junk"}.get(node.role or "", node.role)
        return FOLDERS[row.folder] == role or row.folder.lower() == node.folder.lower()
    if isinstance(node, DateBound):
        start = datetime.combine(node.day, time(0), tzinfo=UTC)
        return row.received_at >= start if node.op == "after" else row.received_at < start
    if isinstance(node, Age):
        return (
            row.received_at >= node.cutoff if node.op == "newer" else row.received_at < node.cutoff
        )
    if isinstance(node, Size):
        return row.size > node.bytes if node.op == "larger" else row.size < node.bytes
    if isinstance(node, Not):
        return not matches(node.node, row, now)
    if isinstance(node, And):
        return all(matches(child, row, now) for child in node.nodes)
    if isinstance(node, Or):
        return any(matches(child, row, now) for child in node.nodes)
    raise TypeError(node)


def mentions_folder(node: Node) -> bool:
    if isinstance(node, InFolder):
        return True
    if isinstance(node, Not):
        return mentions_folder(node.node)
    if isinstance(node, And | Or):
        return any(mentions_folder(c) for c in node.nodes)
    return False


def expected(rows: list[Row], query: str) -> list[str]:
    now = datetime.now(UTC)
    node = parse_query(query, now=now)
    hide = not mentions_folder(node)
    newest: dict[uuid.UUID, datetime] = {}
    for row in rows:
        if hide and FOLDERS[row.folder] in ("trash", "junk"):
            continue
        if matches(node, row, now):
            newest[row.thread_id] = max(newest.get(row.thread_id, row.received_at), row.received_at)
    return [str(t) for t, _ in sorted(newest.items(), key=lambda kv: kv[1], reverse=True)]


def generate(count: int, seed: int) -> list[Row]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows: list[Row] = []
    threads: list[uuid.UUID] = []
    for n in range(count):
        if threads and rng.random() < 0.3:
            thread_id = rng.choice(threads)
        else:
            thread_id = uuid.uuid4()
            threads.append(thread_id)
        files = rng.sample(FILES, k=rng.choice((0, 0, 0, 1, 2)))
        rows.append(
            Row(
                id=n + 1,
                thread_id=thread_id,
                folder=rng.choice(list(FOLDERS)),
                subject=" ".join(rng.sample(WORDS, 3)).capitalize(),
                body=" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30))),
                sender=rng.choice(PEOPLE),
                to=rng.sample(PEOPLE, rng.randint(1, 2)),
                cc=rng.sample(PEOPLE, rng.choice((0, 0, 1))),
                bcc=rng.sample(PEOPLE, rng.choice((0, 0, 0, 1))),
                # Whole days and a half apart from now: no age cutoff falls near a message.
                received_at=now - timedelta(days=n * 3 + 0.5, minutes=n),
                is_read=rng.random() < 0.6,
                is_starred=rng.random() < 0.15,
                size=rng.randint(1_000, 3_000_000),
                files=files,
            )
        )
    return rows


async def store(h: Harness, user_id: uuid.UUID, rows: list[Row]) -> None:
    async with h.services.sessionmaker() as db:
        account_id = uuid.uuid4()
        await db.execute(
            insert(MailAccount),
            [{"id": account_id, "user_id": user_id, "kind": "local", "email": "s@example.com"}],
        )
        folder_ids = {name: uuid.uuid4() for name in FOLDERS}
        await db.execute(
            insert(Folder),
            [
                {
                    "id": fid,
                    "user_id": user_id,
                    "account_id": account_id,
                    "name": name,
                    "role": FOLDERS[name],
                    "uidvalidity": 1,
                }
                for name, fid in folder_ids.items()
            ],
        )
        by_thread: dict[uuid.UUID, list[Row]] = {}
        for row in rows:
            by_thread.setdefault(row.thread_id, []).append(row)
        await db.execute(
            insert(Thread),
            [
                {
                    "id": tid,
                    "user_id": user_id,
                    "account_id": account_id,
                    "subject": members[0].subject,
                    "message_count": len(members),
                    "last_message_at": max(r.received_at for r in members),
                }
                for tid, members in by_thread.items()
            ],
        )
        ids: dict[int, int] = {}
        for row in rows:
            message = Message(
                user_id=user_id,
                account_id=account_id,
                folder_id=folder_ids[row.folder],
                thread_id=row.thread_id,
                uidvalidity=1,
                uid=row.id,
                subject=row.subject,
                from_name=row.sender[0],
                from_address=row.sender[1],
                to=[{"name": n, "address": a} for n, a in row.to],
                cc=[{"name": n, "address": a} for n, a in row.cc],
                bcc=[{"name": n, "address": a} for n, a in row.bcc],
                received_at=row.received_at,
                is_read=row.is_read,
                is_starred=row.is_starred,
                size=row.size,
                body_text=row.body,
                snippet=row.body[:40],
                has_attachments=bool(row.files),
                raw_sha256="0" * 64,
            )
            db.add(message)
            await db.flush()
            ids[row.id] = message.id
        attachments = [
            {
                "message_id": ids[row.id],
                "position": n,
                "filename": name,
                "content_type": "application/octet-stream",
                "size": 10,
                "sha256": "1" * 64,
            }
            for row in rows
            for n, name in enumerate(row.files)
        ]
        if attachments:
            await db.execute(insert(Attachment), attachments)
        await db.commit()


@pytest.fixture
async def h(make_harness, empty_database: None) -> AsyncIterator[Harness]:
    async with make_harness() as harness:
        yield harness


async def search_all(h: Harness, headers: dict[str, str], q: str, limit: int = 100) -> list[str]:
    found: list[str] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"q": q, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await h.http.get("/api/search", params=params, headers=headers)
        assert response.status_code == 200, (q, response.text)
        found += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("too many pages")


QUERIES = [
    "apple",
    "APPLE banana",
    '"cherry delta"',
    "from:ada",
    "from:bob@example.org",
    "from:(ada OR cleo)",
    "to:fay",
    "cc:dan",
    "bcc:eve",
    "subject:garden",
    'subject:"harbor island"',
    "has:attachment",
    "filename:pdf",
    "filename:budget.xlsx",
    "is:unread",
    "is:read apple",
    "is:starred",
    "in:inbox",
    "in:sent lemon",
    "in:trash",
    "in:spam",
    "in:anywhere kettle",
    "in:projects",
    "-in:inbox",
    "newer_than:60d",
    "older_than:1y",
    "larger:1M",
    "smaller:500K",
    "apple -banana",
    "-from:ada -from:bob",
    "apple OR zebra",
    "(apple OR banana) cherry",
    "from:ada has:attachment -is:read newer_than:2y",
    "zebra",
    "example.com",
]


@pytest.mark.parametrize("selective", [2000, 3], ids=["from-rare-terms", "walking-by-date"])
async def test_every_operator_finds_exactly_the_known_answers(
    h: Harness, selective: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite a query starts from a rare term's few messages or walks the mailbox newest
    # first (service._sqlite_plan); a low threshold sends every query down the second way.
    monkeypatch.setattr(service, "_SELECTIVE", selective)
    headers = await h.sign_in()
    rows = generate(160, seed=5)
    await store(h, await h.user_id(headers), rows)
    day = (datetime.now(UTC) - timedelta(days=100)).date()
    dated = [f"after:{day:%Y/%m/%d}", f"before:{day:%Y-%m-%d}", f"after:{day:%Y/%m/%d} delta"]
    nonempty = 0
    for query in [*QUERIES, *dated]:
        want = expected(rows, query)
        got = await search_all(h, headers, query)
        assert got == want, query
        nonempty += bool(want)
    # The corpus makes almost every query find something: the test is not vacuous.
    assert nonempty >= len(QUERIES) - 2


async def test_pages_hold_every_conversation_once(h: Harness) -> None:
    headers = await h.sign_in()
    rows = generate(120, seed=9)
    await store(h, await h.user_id(headers), rows)
    for query in ("apple", "in:anywhere", "-is:starred"):
        paged = await search_all(h, headers, query, limit=7)
        assert paged == expected(rows, query), query
        assert len(paged) == len(set(paged))


async def test_other_users_mail_is_never_found(h: Harness) -> None:
    owner = await h.sign_in()
    await store(h, await h.user_id(owner), generate(40, seed=3))
    intruder = await h.sign_in()
    for query in ("apple", "in:anywhere", "-zebra", "has:attachment"):
        assert await search_all(h, intruder, query) == [], query
    assert await search_all(h, owner, "in:anywhere")


async def test_malformed_queries_are_422_with_a_position(h: Harness) -> None:
    headers = await h.sign_in()
    for query, code, position in (
        ('from:"ada', "unbalanced_quote", 5),
        ("(apple", "unbalanced_parenthesis", 0),
        ("before:2024/13/01", "invalid_date", 7),
        ("apple OR", "dangling_operator", 6),
        ("   ", "empty_query", 0),
    ):
        response = await h.http.get("/api/search", params={"q": query}, headers=headers)
        assert response.status_code == 422, (query, response.text)
        body = response.json()
        assert body["code"] == "invalid_query"
        assert body["errors"][0]["code"] == code, (query, body)
        assert body["errors"][0]["position"] == position, (query, body)
    bad_cursor = await h.http.get(
        "/api/search", params={"q": "apple", "cursor": "nope"}, headers=headers
    )
    assert bad_cursor.status_code == 422 and bad_cursor.json()["code"] == "invalid_cursor"
