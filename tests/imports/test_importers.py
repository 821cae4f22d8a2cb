"""Mail import: the streaming mbox and Maildir readers, the import loop on a real database, and
`postwise import` as a user runs it."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise import db as database
from postwise.accounts.models import AccountKind, MailAccount, SyncState
from postwise.config import Settings
from postwise.imports.importer import (
    AccountConflictError,
    ImportProgress,
    ensure_local_account,
    import_messages,
)
from postwise.imports.readers import (
    EmptySourceError,
    MaildirSource,
    MboxSource,
    NotMailError,
    open_source,
    sniff,
    split_mbox,
    takeout_mapping,
)
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Folder, Message, Thread
from postwise.mail.parsing import parse_pool
from postwise.users.models import User

WHEN = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)


def make_raw(
    n: int,
    *,
    body: str | None = None,
    labels: str | None = None,
    date: str | None = "default",
    reply_to: int | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Sender {n} <sender{n}@example.com>"
    message["To"] = "Reader <reader@example.com>"
    message["Subject"] = f"Re: Topic {reply_to}" if reply_to is not None else f"Topic {n}"
    if date == "default":
        message["Date"] = format_datetime(WHEN + timedelta(hours=n))
    elif date is not None:
        message["Date"] = date
    message["Message-ID"] = f"<m{n}@example.com>"
    if reply_to is not None:
        message["In-Reply-To"] = f"<m{reply_to}@example.com>"
        message["References"] = f"<m{reply_to}@example.com>"
    if labels is not None:
        message["X-Gmail-Labels"] = labels
    for name, value in (extra or {}).items():
        message[name] = value
    message.set_content(body or f"Hello, this is message {n}.\n")
    return bytes(message)


def mboxrd(
    raws: list[bytes], *, crlf: bool = False, from_date: str = "Tue Mar  5 09:30:00 2024"
) -> bytes:
    """An mboxrd file: every `>*From ` body line gets one more `>`, a blank line ends each."""
    newline = b"\r\n" if crlf else b"\n"
    out = bytearray()
    for raw in raws:
        out += b"From sender@example.com " + from_date.encode() + newline
        for line in raw.splitlines(keepends=True):
            out += b">" + line if re.match(rb">*From ", line) else line
        out += newline
    return bytes(out)


def read_all(data: bytes) -> list[bytes]:
    return [raw for _, raw, _ in split_mbox(io.BytesIO(data))]


# --- the mbox reader ---------------------------------------------------------------------------


def test_from_lines_in_bodies_survive_the_round_trip() -> None:
    tricky = "Intro\n\nFrom here on, all is quoted.\n>From the archive\n>>From deeper\nend\n"
    raws = [make_raw(1), make_raw(2, body=tricky), make_raw(3)]
    data = mboxrd(raws)
    assert b"\n>From here on" in data and b"\n>>>From deeper" in data
    assert read_all(data) == raws


def test_last_message_without_a_trailing_newline() -> None:
    raws = [make_raw(1), make_raw(2).rstrip(b"\n")]
    data = mboxrd(raws).rstrip(b"\n")
    assert read_all(data) == raws


def test_crlf_files_split_the_same_way() -> None:
    raws = [make_raw(n).replace(b"\n", b"\r\n") for n in range(4)]
    assert read_all(mboxrd(raws, crlf=True)) == raws


def test_a_from_line_needs_a_blank_line_unless_it_looks_like_one() -> None:
    # A writer that leaves no blank line still separates with a proper "From sender date".
    # An unquoted "From " paragraph without a sender and a time stays in the body.
    data = (
        b"From a Tue Mar  5 09:30:00 2024\nSubject: one\n\nbody\n"
        b"From b Tue Mar  5 10:30:00 2024\nSubject: two\n\nFrom the team, thanks\n"
    )
    assert read_all(data) == [
        b"Subject: one\n\nbody\n",
        b"Subject: two\n\nFrom the team, thanks\n",
    ]


def test_open_source_refuses_what_is_not_mail(tmp_path: Path) -> None:
    (tmp_path / "empty.mbox").write_bytes(b"")
    (tmp_path / "notes.txt").write_bytes(b"Dear diary\nFrom today on\n")
    (tmp_path / "dir").mkdir()
    with pytest.raises(EmptySourceError):
        open_source(tmp_path / "empty.mbox")
    with pytest.raises(NotMailError, match="not an mbox"):
        open_source(tmp_path / "notes.txt")
    with pytest.raises(NotMailError, match="not a Maildir"):
        open_source(tmp_path / "dir")
    with pytest.raises(NotMailError, match="does not exist"):
        open_source(tmp_path / "missing.mbox")


def _peak_reading(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(1 for _ in MboxSource(path).messages())
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_uses_bounded_memory_whatever_the_file_size(tmp_path: Path) -> None:
    """Peak memory is one message plus the 1 MiB read buffer: the same for 1,000 and 5,000
    messages, and far below the file size (a reader that slurped the file would need all of
    it). 3 MiB leaves room for the buffer, one message's lines and its joined copy."""
    body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 30
    sizes = {}
    for count in (1_000, 5_000):
        path = tmp_path / f"{count}.mbox"
        with path.open("wb") as out:
            for start in range(0, count, 500):
                out.write(mboxrd([make_raw(n, body=body) for n in range(start, start + 500)]))
        read, peak = _peak_reading(path)
        assert read == count
        sizes[count] = (peak, path.stat().st_size)
    small_peak, _ = sizes[1_000]
    large_peak, large_file = sizes[5_000]
    assert large_file > 8_000_000
    assert large_peak < 3 * 1024 * 1024
    assert large_peak < small_peak * 1.25 + 64 * 1024


# --- Takeout labels and mbox flags ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "folder", "flags"),
    [
        (["Inbox", "Opened", "Category Updates"], "INBOX", ["\\Seen", "Category Updates"]),
        (["Inbox", "Unread", "Starred"], "INBOX", ["\\Flagged"]),
        (["Sent"], "Sent", ["\\Seen"]),
        (["Spam", "Inbox", "Unread"], "Junk", []),
        (["Trash", "Opened", "Sent"], "Trash", ["\\Seen"]),
        (["Drafts"], "Drafts", ["\\Seen", "\\Draft"]),
        (["Archived", "Opened", "My label"], "Archive", ["\\Seen", "My label"]),
        ([], "Archive", ["\\Seen"]),
        (["Unread", "Opened", "Important"], "Archive", ["\\Seen", "Important"]),
    ],
)
def test_takeout_labels_choose_folder_and_flags(
    labels: list[str], folder: str, flags: list[str]
) -> None:
    target, got = takeout_mapping(labels)
    assert target.name == folder
    assert list(got) == flags


def test_takeout_headers_and_plain_mbox_status(tmp_path: Path) -> None:
    raws = [
        make_raw(1, labels='Inbox,Opened,"Work, 2024",=?UTF-8?Q?Fran=C3=A7ais?=',
                 extra={"X-GM-THRID": "1791234567890123456"}),
        make_raw(2, extra={"Status": "RO", "X-Status": "AF"}),
        make_raw(3, extra={"Status": "O"}),
        make_raw(4, labels="Sent"),
    ]  # fmt: skip
    path = tmp_path / "takeout.mbox"
    path.write_bytes(mboxrd(raws))
    got = list(MboxSource(path).messages())
    assert [m.folder.name for m in got] == ["INBOX", "INBOX", "INBOX", "Sent"]
    assert got[0].flags == ("\\Seen", "Work, 2024", "Français")
    assert got[0].gm_thrid == 1791234567890123456
    assert got[1].flags == ("\\Seen", "\\Flagged", "\\Answered")
    assert got[2].flags == ()
    assert [m.message_id for m in got] == [
        "m1@example.com",
        "m2@example.com",
        "m3@example.com",
        "m4@example.com",
    ]
    assert got[-1].position == path.stat().st_size
    forced = list(MboxSource(path, folder="Old/Takeout").messages())
    assert {m.folder.name for m in forced} == {"Old/Takeout"}


def test_internal_date_falls_back_from_the_date_header(tmp_path: Path) -> None:
    future = format_datetime(datetime.now(UTC) + timedelta(days=30))
    raws = [
        make_raw(1),
        make_raw(2, date=None),
        make_raw(3, date="not a date"),
        make_raw(4, date=future),
    ]
    path = tmp_path / "dates.mbox"
    path.write_bytes(mboxrd(raws, from_date="Wed Jan 17 08:00:00 2024"))
    dates = [m.internal_date for m in MboxSource(path).messages()]
    from_line = datetime(2024, 1, 17, 8, 0, tzinfo=UTC)
    assert dates == [WHEN + timedelta(hours=1), from_line, from_line, from_line]


# --- Maildir ---------------------------------------------------------------------------------


def _deliver(folder: Path, name: str, raw: bytes, *, new: bool = False) -> None:
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / ("new" if new else "cur") / name).write_bytes(raw)


def make_maildir(root: Path) -> None:
    _deliver(root, "1700000001.a.host:2,S", make_raw(1))
    _deliver(root, "1700000002.b.host:2,FR", make_raw(2))
    _deliver(root, "1700000003.c.host", make_raw(3), new=True)
    _deliver(root, "1700000004.d.host:2,ST", make_raw(4))  # trashed, not yet expunged
    _deliver(root / ".Sent", "1700000005.e.host:2,S", make_raw(5))
    _deliver(root / ".Entw&APw-rfe", "1700000006.f.host:2,DS", make_raw(6))
    _deliver(root / ".Work.Projects", "1700000007.g.host:2,", make_raw(7, date=None))
    _deliver(root / "Archive" / "2023", "1700000008.h.host:2,S", make_raw(8))
    (root / "cur" / ".hidden").write_bytes(b"not mail")


def test_maildir_folders_flags_and_dates(tmp_path: Path) -> None:
    make_maildir(tmp_path)
    mtime = datetime(2023, 11, 14, 22, 13, tzinfo=UTC)
    late = tmp_path / ".Work.Projects" / "cur" / "1700000007.g.host:2,"
    os.utime(late, (mtime.timestamp(), mtime.timestamp()))
    source = open_source(tmp_path)
    assert isinstance(source, MaildirSource)
    got = {m.message_id: m for m in source.messages()}
    assert len(got) == 8
    folders = {m.message_id: (m.folder.name, m.folder.role) for m in got.values()}
    assert folders == {
        "m1@example.com": ("INBOX", "inbox"),
        "m2@example.com": ("INBOX", "inbox"),
        "m3@example.com": ("INBOX", "inbox"),
        "m4@example.com": ("Trash", "trash"),
        "m5@example.com": ("Sent", "sent"),
        "m6@example.com": ("Entwürfe", None),
        "m7@example.com": ("Work/Projects", None),
        "m8@example.com": ("Archive/2023", None),
    }
    assert got["m1@example.com"].flags == ("\\Seen",)
    assert got["m2@example.com"].flags == ("\\Flagged", "\\Answered")
    assert got["m3@example.com"].flags == ()
    assert got["m6@example.com"].flags == ("\\Seen", "\\Draft")
    assert got["m7@example.com"].internal_date == mtime
    assert source.total_bytes == sum(len(m.raw) for m in got.values())


def test_a_maildir_without_new_or_without_tmp_is_still_a_maildir(tmp_path: Path) -> None:
    # git and some export tools keep no empty directories: a read-only Maildir loses new/ and
    # tmp/, a never-read one may keep only new/.
    (tmp_path / "cur").mkdir()
    (tmp_path / "cur" / "1700000001.a.host:2,S").write_bytes(make_raw(1))
    (tmp_path / ".Sent" / "new").mkdir(parents=True)
    (tmp_path / ".Sent" / "new" / "1700000002.b.host").write_bytes(make_raw(2))
    (tmp_path / "Archive" / "cur").mkdir(parents=True)
    (tmp_path / "Archive" / "cur" / "1700000003.c.host:2,S").write_bytes(make_raw(3))
    (tmp_path / "Scratch" / "tmp").mkdir(parents=True)  # tmp/ alone says nothing
    source = open_source(tmp_path)
    assert isinstance(source, MaildirSource)
    folders = {m.message_id: m.folder.name for m in source.messages()}
    assert folders == {
        "m1@example.com": "INBOX",
        "m2@example.com": "Sent",
        "m3@example.com": "Archive",
    }
    only_tmp = tmp_path / "Scratch"
    with pytest.raises(NotMailError, match="not a Maildir"):
        open_source(only_tmp)


# --- the import loop ---------------------------------------------------------------------------


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = database.create_engine(settings)
    try:
        yield database.create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def new_user(sessionmaker: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with sessionmaker() as db:
        user = User(email=f"importer-{uuid.uuid4().hex[:10]}@example.com", password_hash="x")
        db.add(user)
        await db.commit()
        return user.id


async def local_account(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID
) -> uuid.UUID:
    async with sessionmaker() as db:
        account = await ensure_local_account(db, user_id=user_id, email="Old@Example.com")
        await db.commit()
        return account.id


def takeout_mbox() -> list[bytes]:
    """30 messages: 3 conversations of 4, the rest single, across the Gmail system labels."""
    raws = []
    for n in range(30):
        thread = n // 4 if n < 12 else None
        reply = thread * 4 if thread is not None and n % 4 else None
        labels = ["Inbox,Opened", "Inbox,Unread,Starred", "Sent", "Archived,Opened", "Trash"][n % 5]
        raws.append(make_raw(n, labels=labels, reply_to=reply))
    return raws


async def folder_counts(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> dict[str, tuple[str | None, int, int]]:
    async with sessionmaker() as db:
        rows = await db.scalars(select(Folder).where(Folder.account_id == account_id))
        return {f.name: (f.role, f.total_count, f.unread_count) for f in rows}


@pytest.mark.backend
async def test_import_end_to_end_and_again(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    user_id = await new_user(sessionmaker)
    account_id = await local_account(sessionmaker, user_id)
    raws = takeout_mbox()
    path = tmp_path / "takeout.mbox"
    path.write_bytes(mboxrd([*raws, raws[0]]))  # the first message twice
    seen: list[ImportProgress] = []

    async def record(progress: ImportProgress) -> None:
        seen.append(progress)

    blobs = BlobStore(tmp_path / "blobs")
    result = await import_messages(
        sessionmaker, account_id=account_id, source=MboxSource(path), blobs=blobs,
        executor=None, on_progress=record, batch_size=8,
    )  # fmt: skip
    assert (result.messages, result.imported, result.skipped, result.errors) == (31, 30, 1, 0)
    assert [p.messages for p in seen] == [8, 16, 24, 31, 31]
    assert seen[-1].bytes_read == seen[-1].bytes_total == path.stat().st_size
    assert await folder_counts(sessionmaker, account_id) == {
        "INBOX": ("inbox", 12, 6),
        "Sent": ("sent", 6, 0),
        "Archive": ("archive", 6, 0),
        "Trash": ("trash", 6, 0),
    }
    async with sessionmaker() as db:
        account = await db.get(MailAccount, account_id)
        assert account is not None
        assert (account.kind, account.email, account.sync_state) == (
            AccountKind.LOCAL,
            "old@example.com",
            SyncState.IDLE,
        )
        starred = await db.scalar(
            select(func.count()).where(
                Message.account_id == account_id, Message.is_starred.is_(True)
            )
        )
        assert starred == 6
        inbox = await db.scalar(
            select(Folder).where(Folder.account_id == account_id, Folder.name == "INBOX")
        )
        assert inbox is not None and inbox.uidvalidity == 1 and inbox.uidnext == 13
        uids = (await db.scalars(select(Message.uid).where(Message.folder_id == inbox.id))).all()
        assert sorted(uids) == list(range(1, 13))
        sizes = (
            await db.scalars(select(Thread.message_count).where(Thread.account_id == account_id))
        ).all()
        assert sorted(sizes, reverse=True)[:3] == [4, 4, 4]
        assert sum(sizes) == 30
    again = await import_messages(
        sessionmaker, account_id=account_id, source=MboxSource(path), blobs=blobs, executor=None
    )
    assert (again.imported, again.skipped) == (0, 31)
    assert sum(c[1] for c in (await folder_counts(sessionmaker, account_id)).values()) == 30


@pytest.mark.backend
async def test_an_interrupted_import_resumes_without_duplicates(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """What a crash after 10 committed messages leaves: the re-run adds only the rest."""
    user_id = await new_user(sessionmaker)
    account_id = await local_account(sessionmaker, user_id)
    raws = takeout_mbox()
    partial, full = tmp_path / "partial.mbox", tmp_path / "full.mbox"
    partial.write_bytes(mboxrd(raws[:10]))
    full.write_bytes(mboxrd(raws))
    blobs = BlobStore(tmp_path / "blobs")
    first = await import_messages(
        sessionmaker, account_id=account_id, source=MboxSource(partial), blobs=blobs, executor=None
    )
    rest = await import_messages(
        sessionmaker, account_id=account_id, source=MboxSource(full), blobs=blobs, executor=None
    )
    assert (first.imported, rest.imported, rest.skipped) == (10, 20, 10)
    async with sessionmaker() as db:
        ids = (
            await db.scalars(select(Message.message_id).where(Message.account_id == account_id))
        ).all()
    assert sorted(ids) == sorted(f"m{n}@example.com" for n in range(30))


@pytest.mark.backend
async def test_same_message_id_with_other_content_is_kept(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    user_id = await new_user(sessionmaker)
    account_id = await local_account(sessionmaker, user_id)
    no_id = make_raw(9).replace(b"Message-ID: <m9@example.com>\n", b"")
    path = tmp_path / "a.mbox"
    path.write_bytes(mboxrd([make_raw(1), make_raw(1, body="A different copy\n"), no_id, no_id]))
    blobs = BlobStore(tmp_path / "blobs")
    result = await import_messages(
        sessionmaker, account_id=account_id, source=MboxSource(path), blobs=blobs, executor=None
    )
    assert (result.imported, result.skipped) == (3, 1)
    again = await import_messages(
        sessionmaker, account_id=account_id, source=MboxSource(path), blobs=blobs, executor=None
    )
    assert (again.imported, again.skipped) == (0, 4)


@pytest.mark.backend
async def test_odd_message_ids_are_recognised_on_reimport(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """The duplicate check reads the Message-ID with the same function that stored it: odd
    spacing, comments, a second id and 8-bit bytes (SMTPUTF8 mail) all match again."""
    spellings = [
        b"< Odd.ID@Example.com > (the sender's comment)",
        b"(comment first)\n <c@example.com>\n\t<second@example.com>",
        b"<caf\xc3\xa9@example.com>",
        b"<latin\xe9@example.com>",
    ]
    raws = [
        make_raw(n).replace(b"Message-ID: <m%d@example.com>" % n, b"Message-ID: " + spelling)
        for n, spelling in enumerate(spellings)
    ]
    assert all(b"Message-ID: " + s in raw for s, raw in zip(spellings, raws, strict=True))
    user_id = await new_user(sessionmaker)
    account_id = await local_account(sessionmaker, user_id)
    path = tmp_path / "odd.mbox"
    path.write_bytes(mboxrd(raws))
    blobs = BlobStore(tmp_path / "blobs")
    first = await import_messages(
        sessionmaker, account_id=account_id, source=MboxSource(path), blobs=blobs, executor=None
    )
    again = await import_messages(
        sessionmaker, account_id=account_id, source=MboxSource(path), blobs=blobs, executor=None
    )
    assert (first.imported, again.imported, again.skipped) == (4, 0, 4)
    async with sessionmaker() as db:
        stored = (
            await db.scalars(select(Message.message_id).where(Message.account_id == account_id))
        ).all()
    assert sorted(stored) == sorted(
        ["Odd.ID@Example.com", "c@example.com", "café@example.com", "latiné@example.com"]
    )
    assert sorted(stored) == sorted(str(sniff(raw).message_id) for raw in raws)


@pytest.mark.backend
async def test_maildir_import_and_connected_mailboxes_are_refused(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    user_id = await new_user(sessionmaker)
    account_id = await local_account(sessionmaker, user_id)
    make_maildir(tmp_path / "mail")
    result = await import_messages(
        sessionmaker, account_id=account_id, source=open_source(tmp_path / "mail"),
        blobs=BlobStore(tmp_path / "blobs"), executor=None,
    )  # fmt: skip
    assert (result.imported, result.errors) == (8, 0)
    counts = await folder_counts(sessionmaker, account_id)
    assert counts["INBOX"] == ("inbox", 3, 2)
    assert counts["Trash"] == ("trash", 1, 0)
    assert counts["Work/Projects"] == (None, 1, 1)
    async with sessionmaker() as db:
        db.add(MailAccount(user_id=user_id, email="imap@example.com", kind=AccountKind.IMAP))
        await db.commit()
        with pytest.raises(AccountConflictError):
            await ensure_local_account(db, user_id=user_id, email="IMAP@example.com")


@pytest.mark.backend
async def test_a_large_import_through_the_parse_pool_costs_statements_per_batch_not_per_message(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    """1,500 messages (three batches) through the process pool, every one stored and threaded;
    the SQL statements grow with the batches, never with the messages, so a per-message query
    storm fails here. The speed itself is the sync benchmark's (`make bench-sync`): a timed test
    would only measure how busy the machine is."""
    user_id = await new_user(sessionmaker)
    account_id = await local_account(sessionmaker, user_id)
    path = tmp_path / "1500.mbox"
    body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 20
    with path.open("wb") as out:
        for start in range(0, 1_500, 500):
            out.write(mboxrd([
                make_raw(n, body=body, labels="Inbox,Opened", reply_to=n - 1 if n % 5 else None)
                for n in range(start, start + 500)
            ]))  # fmt: skip
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    engine = sessionmaker.kw["bind"]
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        # The suite parses in the calling thread (tests/conftest.py); this one uses the pool.
        with parse_pool(settings.model_copy(update={"sync_parse_processes": 2})) as executor:
            result = await import_messages(
                sessionmaker, account_id=account_id, source=MboxSource(path),
                blobs=BlobStore(tmp_path / "blobs", fsync=False), executor=executor,
            )  # fmt: skip
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert result.imported == 1_500
    async with sessionmaker() as db:
        stored = await db.scalar(
            select(func.count()).select_from(Message).where(Message.account_id == account_id)
        )
        threads = await db.scalar(
            select(func.count()).select_from(Thread).where(Thread.account_id == account_id)
        )
    assert stored == 1_500
    # Every fifth message starts a conversation; the other four reply to the one before.
    assert threads == 300
    # About 20 per batch of 100 (301 here); one statement per message would be 1,800 or more.
    # Rows that differ in which columns are None once split the messages' INSERT into one
    # statement per two or three messages (886 here).
    assert statements < 1_500 / 3, statements


# --- postwise import -------------------------------------------------------------------------


def _cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWISE_")}
    env.update(
        POSTWISE_DATA_DIR=str(tmp_path / "data"),
        POSTWISE_DATABASE_URL=database_url,
        POSTWISE_SYNC_PARSE_PROCESSES="1",
        POSTWISE_LOG_LEVEL="WARNING",
    )
    return env


async def _postwise(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "postwise", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.backend
async def test_cli_imports_then_skips_on_a_second_run(
    sessionmaker: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    async with sessionmaker() as db:
        email = f"cli-{uuid.uuid4().hex[:10]}@example.com"
        db.add(User(email=email, password_hash="x"))
        await db.commit()
    path = tmp_path / "mail.mbox"
    path.write_bytes(mboxrd(takeout_mbox()))
    env = _cli_env(tmp_path, database_url)
    first = await _postwise("import", "--user", email.upper(), str(path), env=env)
    assert first.returncode == 0, first.stderr
    assert "Imported 30 messages into Imported mail <imported@postwise.local>" in first.stdout
    assert "0 skipped" in first.stdout
    assert re.search(r"30 messages .*\(100%\)", first.stderr)
    second = await _postwise("import", "--user", email, "--folder", "Takeout", str(path), env=env)
    assert second.returncode == 0, second.stderr
    assert "Imported 0 messages" in second.stdout and "30 skipped" in second.stdout
    async with sessionmaker() as db:
        count = await db.scalar(
            select(func.count(Message.id))
            .join(User, User.id == Message.user_id)
            .where(User.email == email)
        )
    assert count == 30


@pytest.mark.backend
async def test_cli_explains_what_is_wrong(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    path.write_bytes(mboxrd([make_raw(1)]))
    env = _cli_env(tmp_path, database_url)
    nobody = await _postwise("import", "--user", "nobody@example.com", str(path), env=env)
    assert nobody.returncode == 1
    assert "no Postwise user with the email nobody@example.com" in nobody.stderr
    (tmp_path / "notes.txt").write_text("hello\n")
    wrong = await _postwise(
        "import", "--user", "x@example.com", str(tmp_path / "notes.txt"), env=env
    )
    assert wrong.returncode == 1
    assert "is not an mbox file" in wrong.stderr
    fresh = _cli_env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    unmigrated = await _postwise("import", "--user", "x@example.com", str(path), env=fresh)
    assert unmigrated.returncode == 1
    assert "run `postwise migrate` first" in unmigrated.stderr
