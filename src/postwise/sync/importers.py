"""Importing mail from files: streaming mbox and Maildir readers, and the import loop.

Readers never hold more than one message in memory (an mbox is read line by line through a
buffered file; a Maildir one file at a time), so a multi-gigabyte Google Takeout file imports in
constant memory. Everything they yield goes through `store_batch`, the same pipeline as IMAP
sync: imported mail is parsed, threaded and stored exactly like synced mail.

Re-running an import never duplicates: a message is skipped when the mailbox already holds one
with the same Message-ID and the same raw bytes (SHA-256) — see `_known_keys`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_tz
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Protocol

from imapclient import imap_utf7
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import ColumnElement

from postwise.accounts.models import AccountKind, MailAccount, SyncState
from postwise.db import utcnow
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Folder, Message
from postwise.store import Store
from postwise.sync.events import EventType, announce
from postwise.sync.imap import NAME_ROLES
from postwise.sync.ingest import IncomingMessage, store_batch

IMPORT_BATCH = 250
INBOX = "INBOX"
# Local folders are named with "/" between levels, whatever the source used.
DELIMITER = "/"
# A Date header this far in the future is a sender's broken clock, not a delivery time.
FUTURE_SLACK = timedelta(days=1)


# --- what readers yield ------------------------------------------------------------------------


class NotMailError(ValueError):
    """The path is neither an mbox file nor a Maildir; the message says what was found."""


class EmptySourceError(NotMailError):
    """The file is empty: nothing to import."""


@dataclass(frozen=True, slots=True)
class TargetFolder:
    name: str
    role: str | None


@dataclass(frozen=True, slots=True)
class SourceMessage:
    raw: bytes
    folder: TargetFolder
    flags: tuple[str, ...]
    internal_date: datetime
    message_id: str | None
    sha256: str
    gm_thrid: int | None
    # Bytes of the source consumed once this message has been read (for progress).
    position: int


class MailSource(Protocol):
    kind: str
    total_bytes: int
    # Messages that could not be read at all (an unreadable file, an empty mbox entry).
    read_errors: int

    def messages(self) -> Generator[SourceMessage, None, None]: ...


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The few headers the importer needs before the full parse in `store_batch`."""

    message_id: str | None
    date: datetime | None
    labels: list[str] | None
    status: str
    gm_thrid: int | None


_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_PARSER = BytesHeaderParser(policy=compat32)


_MSG_ID = re.compile(r"<([^<>]{1,998})>")


def normalize_message_id(value: str | None) -> str | None:
    """The first id of a Message-ID header, exactly as `mime.parse_message` stores it (the
    duplicate check compares the two)."""
    if not value:
        return None
    ids = [found.strip() for found in _MSG_ID.findall(value)]
    if not ids:  # ids without angle brackets, as some mailers write them
        ids = [token.strip("<>") for token in value.replace(",", " ").split() if "@" in token]
    return next((i for i in ids if i and not any(c.isspace() for c in i)), None)


def _decoded(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parts = parsedate_tz(value)
        if parts is None:
            return None
        naive = datetime(*parts[:6])
    except (ValueError, OverflowError, IndexError, TypeError):
        return None
    offset = parts[9] or 0
    return (naive - timedelta(seconds=offset)).replace(tzinfo=UTC)


def sniff(raw: bytes) -> Sniffed:
    """Read only the header block: the body can be megabytes and is parsed later anyway."""
    match = _HEADER_END.search(raw)
    headers: EmailMessage = _HEADER_PARSER.parsebytes(raw[: match.end()] if match else raw)
    message_id = " ".join(str(headers.get("Message-ID") or "").split())
    labels_header = headers.get("X-Gmail-Labels")
    labels = None
    if labels_header is not None:
        text = " ".join(_decoded(str(labels_header)).split())
        # Labels are comma-separated and quoted when they hold a comma or a quote: CSV rules.
        labels = [label.strip() for row in csv.reader([text]) for label in row if label.strip()]
    thrid = str(headers.get("X-GM-THRID", "")).strip()
    return Sniffed(
        message_id=normalize_message_id(message_id),
        date=parse_date(str(headers.get("Date") or "")),
        labels=labels,
        status=str(headers.get("Status") or "") + str(headers.get("X-Status") or ""),
        gm_thrid=int(thrid) if thrid.isdigit() and int(thrid) < 2**63 else None,
    )


def internal_date(*candidates: datetime | None, now: datetime | None = None) -> datetime:
    """The first plausible date: Date header, then the source's own date (mbox From line,
    file mtime), then now."""
    now = now or utcnow()
    for candidate in candidates:
        if candidate is not None and candidate <= now + FUTURE_SLACK:
            return candidate
    return now


def source_message(
    raw: bytes,
    *,
    folder: TargetFolder,
    flags: Sequence[str],
    internal_date: datetime,
    position: int,
    sniffed: Sniffed | None = None,
) -> SourceMessage:
    sniffed = sniffed or sniff(raw)
    return SourceMessage(
        raw=raw,
        folder=folder,
        flags=tuple(flags),
        internal_date=internal_date,
        message_id=sniffed.message_id,
        sha256=hashlib.sha256(raw).hexdigest(),
        gm_thrid=sniffed.gm_thrid,
        position=position,
    )


def folder_for_name(name: str) -> TargetFolder:
    if name.upper() == INBOX:
        return TargetFolder(INBOX, "inbox")
    leaf = name.rsplit(DELIMITER, 1)[-1]
    return TargetFolder(name, NAME_ROLES.get(leaf.strip().lower()))


# --- Google Takeout labels and mbox status flags -------------------------------------------------

TAKEOUT_FOLDERS = {
    "trash": TargetFolder("Trash", "trash"),
    "spam": TargetFolder("Junk", "junk"),
    "drafts": TargetFolder("Drafts", "drafts"),
    "inbox": TargetFolder(INBOX, "inbox"),
    "sent": TargetFolder("Sent", "sent"),
}
TAKEOUT_ARCHIVE = TargetFolder("Archive", "archive")
# Labels that become a folder or a flag; every other label is kept as a keyword.
_TAKEOUT_SYSTEM = {*TAKEOUT_FOLDERS, "archived", "starred", "unread", "opened"}


def takeout_mapping(labels: Sequence[str]) -> tuple[TargetFolder, tuple[str, ...]]:
    """Gmail labels → one folder and flags. Trash and Spam win (Gmail hides such mail from
    every other view), then Drafts, Inbox, Sent; mail with no system label is archived."""
    lowered = {label.lower() for label in labels}
    folder = next(
        (target for key, target in TAKEOUT_FOLDERS.items() if key in lowered), TAKEOUT_ARCHIVE
    )
    flags: list[str] = []
    if "unread" not in lowered or "opened" in lowered:
        flags.append("\\Seen")
    if "starred" in lowered:
        flags.append("\\Flagged")
    if "drafts" in lowered:
        flags.append("\\Draft")
    flags.extend(label for label in labels if label.lower() not in _TAKEOUT_SYSTEM)
    return folder, tuple(dict.fromkeys(flags))


def status_flags(status: str) -> tuple[str, ...]:
    """mbox `Status:`/`X-Status:` letters (mutt, Thunderbird): R read, F flagged, A answered,
    T draft. O ("old", seen by the client but unread) carries nothing."""
    letters = {"R": "\\Seen", "F": "\\Flagged", "A": "\\Answered", "T": "\\Draft"}
    return tuple(flag for letter, flag in letters.items() if letter in status)


# --- mbox --------------------------------------------------------------------------------------

# A From_ line as writers produce it: "From sender Wed Jan  4 12:34:56 [+0000 ]2023"; and
# the least a separator after a blank line must have (a sender and a time), so an unquoted
# "From the team, thanks" paragraph in a sloppily written file stays in its message.
_STRICT_FROM = re.compile(rb"From \S+ +[A-Z][a-z]{2} +[A-Z][a-z]{2} +\d{1,2} +\d{1,2}:\d\d")
_LOOSE_FROM = re.compile(rb"From \S+ .*\d{1,2}:\d\d")
_QUOTED_FROM = re.compile(rb">+From ")
_BLANK = (b"\n", b"\r\n")
_BOM = b"\xef\xbb\xbf"
READ_BUFFER = 1 << 20


def _finish(lines: list[bytes]) -> bytes:
    # The blank line before the next From_ line belongs to the separator, not the message.
    if lines and lines[-1] in _BLANK:
        lines.pop()
    return b"".join(lines)


def split_mbox(stream: BinaryIO) -> Iterator[tuple[bytes, bytes, int]]:
    """Yield (From_ line, raw message, bytes consumed) for each message, unquoting mboxrd.

    A "From " line with a sender and a time separates messages at the start of the file or
    after a blank line; one that looks exactly like a From_ line (sender, asctime date)
    separates anywhere, for writers that omit the blank line. Body lines starting "From " are
    expected quoted (">From "), as mboxrd and mboxo writers do.
    """
    from_line: bytes | None = None
    lines: list[bytes] = []
    position = 0
    previous_blank = True
    for read in stream:
        line = read[len(_BOM) :] if position == 0 and read.startswith(_BOM) else read
        if line.startswith(b"From ") and (
            _STRICT_FROM.match(line) or (previous_blank and _LOOSE_FROM.match(line))
        ):
            if from_line is not None:
                yield from_line, _finish(lines), position
            elif any(part.strip() for part in lines):
                raise NotMailError("the file does not start with a 'From ' line: not an mbox")
            from_line, lines = line, []
        else:
            lines.append(line[1:] if line[:1] == b">" and _QUOTED_FROM.match(line) else line)
        position += len(read)
        previous_blank = line in _BLANK
    if from_line is not None:
        yield from_line, _finish(lines), position


def _from_line_date(line: bytes) -> datetime | None:
    parts = line.decode("latin-1").split(None, 2)
    return parse_date(parts[2]) if len(parts) == 3 else None


def looks_like_mbox(head: bytes) -> bool:
    """Whether the first bytes of a file start with a From_ line."""
    first = head.removeprefix(_BOM).lstrip(b"\r\n")
    return bool(_STRICT_FROM.match(first) or _LOOSE_FROM.match(first))


@dataclass
class MboxSource:
    """One mbox file; `folder` (if given) receives every message, Takeout labels or not."""

    path: Path
    folder: str | None = None
    kind: str = "mbox"
    total_bytes: int = 0
    read_errors: int = 0

    def __post_init__(self) -> None:
        self.total_bytes = self.path.stat().st_size

    def messages(self) -> Generator[SourceMessage, None, None]:
        forced = folder_for_name(self.folder) if self.folder else None
        with self.path.open("rb", buffering=READ_BUFFER) as stream:
            for from_line, raw, position in split_mbox(stream):
                if not raw.strip():
                    self.read_errors += 1
                    continue
                yield self._message(raw, from_line, position, forced)

    @staticmethod
    def _message(
        raw: bytes, from_line: bytes, position: int, forced: TargetFolder | None
    ) -> SourceMessage:
        sniffed = sniff(raw)
        if sniffed.labels is not None:
            folder, flags = takeout_mapping(sniffed.labels)
        else:
            folder, flags = folder_for_name(INBOX), status_flags(sniffed.status)
        return source_message(
            raw,
            folder=forced or folder,
            flags=flags,
            internal_date=internal_date(sniffed.date, _from_line_date(from_line)),
            position=position,
            sniffed=sniffed,
        )


# --- Maildir -----------------------------------------------------------------------------------

_MAILDIR_FLAGS = {"S": "\\Seen", "F": "\\Flagged", "R": "\\Answered", "D": "\\Draft"}
_INFO = re.compile(r"[:;!]2,([A-Za-z]*)$")
TRASH = TargetFolder("Trash", "trash")


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _folder_name(parts: Iterable[str]) -> str:
    decoded = []
    for part in parts:
        try:
            decoded.append(imap_utf7.decode(part.encode("ascii")))
        except (UnicodeError, ValueError):
            decoded.append(part)
    return DELIMITER.join(decoded)


def maildir_folders(root: Path, top: str) -> list[tuple[TargetFolder, Path]]:
    """The root (if it is a Maildir) and its subfolders: Maildir++ (`.Sent`, `.Work.2024`) and
    nested directories (`Sent/`, `Work/2024/`, as mbsync and Dovecot's fs layout write them)."""
    found: list[tuple[TargetFolder, Path]] = []
    if is_maildir(root):
        found.append((folder_for_name(top), root))

    def nested(directory: Path, prefix: list[str]) -> None:
        for child in sorted(directory.iterdir()):
            # Symbolic links are not followed: a link back up the tree would never end.
            if child.is_symlink() or not child.is_dir() or child.name in {"cur", "new", "tmp"}:
                continue
            if child.name.startswith("."):
                if directory == root and is_maildir(child):
                    name = _folder_name(child.name[1:].split("."))
                    found.append((folder_for_name(name), child))
                continue
            parts = [*prefix, child.name]
            if is_maildir(child):
                found.append((folder_for_name(_folder_name(parts)), child))
            nested(child, parts)

    nested(root, [])
    return found


def _maildir_flags(name: str, in_new: bool) -> tuple[tuple[str, ...], bool]:
    """Flags from the `:2,` info suffix, and whether the message is marked trashed (T)."""
    match = _INFO.search(name)
    if in_new or match is None:
        return (), False
    letters = match.group(1)
    return tuple(flag for letter, flag in _MAILDIR_FLAGS.items() if letter in letters), (
        "T" in letters
    )


@dataclass
class MaildirSource:
    """A Maildir tree. Messages marked T (trashed, waiting for an expunge) go to Trash rather
    than being dropped or shown again where they were deleted from."""

    path: Path
    folder: str | None = None
    kind: str = "maildir"
    total_bytes: int = 0
    read_errors: int = 0
    folders: list[tuple[TargetFolder, Path]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folders = maildir_folders(self.path, self.folder or INBOX)
        self.total_bytes = sum(size for _, size in self._files())

    def _files(self, directory: Path | None = None) -> Iterator[tuple[os.DirEntry[str], int]]:
        for _, path in self.folders if directory is None else [(None, directory)]:
            for sub in ("new", "cur"):
                with contextlib.suppress(FileNotFoundError), os.scandir(path / sub) as it:
                    for entry in it:
                        if not entry.name.startswith(".") and entry.is_file():
                            yield entry, entry.stat().st_size

    def messages(self) -> Generator[SourceMessage, None, None]:
        position = 0
        for target, path in self.folders:
            # Sorted by name: Maildir names start with the delivery time, so uids follow it.
            entries = sorted((entry for entry, _ in self._files(path)), key=lambda e: e.name)
            for entry in entries:
                try:
                    raw = Path(entry.path).read_bytes()
                    mtime = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
                except OSError:
                    self.read_errors += 1
                    continue
                position += len(raw)
                if not raw.strip():
                    self.read_errors += 1
                    continue
                in_new = Path(entry.path).parent.name == "new"
                flags, trashed = _maildir_flags(entry.name, in_new)
                sniffed = sniff(raw)
                yield source_message(
                    raw,
                    folder=TRASH if trashed else target,
                    flags=flags,
                    internal_date=internal_date(sniffed.date, mtime),
                    position=position,
                    sniffed=sniffed,
                )


def open_source(path: Path, *, folder: str | None = None) -> MboxSource | MaildirSource:
    """Detect what `path` is: an mbox file or a Maildir (or a directory of Maildirs)."""
    if path.is_dir():
        source = MaildirSource(path, folder=folder)
        if not source.folders:
            raise NotMailError(f"{path} is a directory but not a Maildir (no cur/ and new/)")
        return source
    if not path.is_file():
        raise NotMailError(f"{path} does not exist or is not a regular file")
    with path.open("rb") as stream:
        head = stream.read(64 * 1024)
    if not head.strip():
        raise EmptySourceError(f"{path} is empty")
    if not looks_like_mbox(head):
        raise NotMailError(f"{path} is not an mbox file: it does not start with a 'From ' line")
    return MboxSource(path, folder=folder)


# --- the import loop ---------------------------------------------------------------------------

IMPORT_ACCOUNT_EMAIL = "imported@postwise.local"
IMPORT_ACCOUNT_NAME = "Imported mail"


class AccountConflictError(Exception):
    """The address belongs to a connected (IMAP) mailbox: imports go to local ones only."""


@dataclass
class ImportProgress:
    messages: int = 0
    bytes_read: int = 0
    bytes_total: int = 0
    imported: int = 0
    skipped: int = 0
    errors: int = 0
    # Newly imported messages per folder name.
    folders: dict[str, int] = field(default_factory=dict)


ProgressCallback = Callable[[ImportProgress], Awaitable[None]]


async def find_local_account(
    db: AsyncSession, *, user_id: uuid.UUID, email: str
) -> MailAccount | None:
    account = await db.scalar(
        select(MailAccount).where(
            MailAccount.user_id == user_id, MailAccount.email == email.strip().lower()
        )
    )
    if account is not None and account.kind != AccountKind.LOCAL:
        raise AccountConflictError(
            f"{email} is a connected mailbox; import into a local one (another address)"
        )
    return account


async def ensure_local_account(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    email: str,
    display_name: str = IMPORT_ACCOUNT_NAME,
    is_demo: bool = False,
) -> MailAccount:
    """The user's local mailbox with this address, created if missing (the caller commits)."""
    account = await find_local_account(db, user_id=user_id, email=email)
    if account is None:
        account = MailAccount(
            user_id=user_id,
            kind=AccountKind.LOCAL,
            email=email.strip().lower(),
            display_name=display_name,
            sync_state=SyncState.IDLE,
            is_demo=is_demo,
        )
        db.add(account)
        await db.flush()
    return account


def _key(message_id: str | None, sha256: str) -> tuple[str | None, str]:
    return (message_id or None, sha256)


async def _known_keys(
    db: AsyncSession, account_id: uuid.UUID, batch: Sequence[SourceMessage]
) -> set[tuple[str | None, str]]:
    """(Message-ID, SHA-256 of the raw message) already in the mailbox, for this batch.

    The Message-ID narrows the search through the (account_id, message_id) index; the hash
    tells a re-import (same bytes) from a different message reusing an id (a sent copy and the
    received one). Messages without a Message-ID are matched by hash among those without one.
    """
    ids = sorted({m.message_id for m in batch if m.message_id})
    hashes = sorted({m.sha256 for m in batch if not m.message_id})
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(Message.message_id.in_(ids))
    if hashes:
        no_id = or_(Message.message_id.is_(None), Message.message_id == "")
        conditions.append(and_(no_id, Message.raw_sha256.in_(hashes)))
    rows = await db.execute(
        select(Message.message_id, Message.raw_sha256).where(
            Message.account_id == account_id, or_(*conditions)
        )
    )
    return {_key(message_id, digest) for message_id, digest in rows.all()}


async def _folders(
    db: AsyncSession, account: MailAccount, targets: Iterable[TargetFolder]
) -> dict[TargetFolder, Folder]:
    """Get or create the batch's folders. A role already held by another folder is not given
    twice (actions look folders up by role), so the newcomer is then an ordinary folder."""
    existing = list(await db.scalars(select(Folder).where(Folder.account_id == account.id)))
    by_name = {folder.name: folder for folder in existing}
    roles = {folder.role for folder in existing if folder.role}
    result: dict[TargetFolder, Folder] = {}
    for target in targets:
        folder = by_name.get(target.name)
        if folder is None:
            role = target.role if target.role not in roles else None
            folder = Folder(
                user_id=account.user_id,
                account_id=account.id,
                name=target.name,
                delimiter=DELIMITER,
                role=role,
                attributes="",
                selectable=True,
                uidvalidity=1,
                uidnext=1,
            )
            db.add(folder)
            by_name[target.name] = folder
            roles.add(role or "")
        if folder.uidvalidity is None:
            folder.uidvalidity = 1
        result[target] = folder
    await db.flush()
    return result


# What a committed batch stored, per folder: (folder, message ids, thread ids).
_Stored = list[tuple[Folder, list[int], set[uuid.UUID]]]


async def _import_batch(
    db: AsyncSession,
    *,
    account_id: uuid.UUID,
    batch: Sequence[SourceMessage],
    blobs: BlobStore,
    executor: Executor | None,
    progress: ImportProgress,
) -> _Stored:
    # The row lock serialises imports into one mailbox (PostgreSQL): uids and the duplicate
    # check must not interleave. SQLite has one writer at a time anyway.
    account = await db.get(MailAccount, account_id, with_for_update=True)
    if account is None:
        raise LookupError(f"mailbox {account_id} is gone")
    known = await _known_keys(db, account_id, batch)
    groups: dict[TargetFolder, list[SourceMessage]] = {}
    for item in batch:
        key = _key(item.message_id, item.sha256)
        if key in known:
            progress.skipped += 1
            continue
        known.add(key)  # the same message twice in one batch is a duplicate too
        groups.setdefault(item.folder, []).append(item)
    folders = await _folders(db, account, groups)
    stored: _Stored = []
    for target, items in groups.items():
        folder = folders[target]
        incoming = [
            IncomingMessage(
                uid=folder.uidnext + n,
                raw=item.raw,
                flags=item.flags,
                internal_date=item.internal_date,
                gm_thrid=item.gm_thrid,
            )
            for n, item in enumerate(items)
        ]
        folder.uidnext += len(items)
        result = await store_batch(
            db, folder=folder, incoming=incoming, blobs=blobs, executor=executor
        )
        progress.imported += len(result.message_ids)
        progress.errors += result.parse_errors
        progress.folders[folder.name] = progress.folders.get(folder.name, 0) + len(incoming)
        stored.append((folder, result.message_ids, result.thread_ids))
    account.last_synced_at = utcnow()
    return stored


async def _announce(store: Store, account_id: uuid.UUID, stored: _Stored) -> None:
    """The same events as IMAP sync, so open clients show imported mail as it lands."""
    for folder, message_ids, thread_ids in stored:
        ids = {"account_id": str(account_id), "folder_id": str(folder.id)}
        threads = {"thread_ids": sorted(map(str, thread_ids))}
        counts = {"folder_id": str(folder.id), "total": folder.total_count}
        counts["unread"] = folder.unread_count
        await announce(
            store, folder.user_id, EventType.MESSAGE_CREATED, {**ids, "message_ids": message_ids}
        )
        await announce(store, folder.user_id, EventType.THREAD_UPDATED, threads)
        await announce(store, folder.user_id, EventType.FOLDER_COUNTS, counts)


def _take(messages: Iterator[SourceMessage], count: int) -> list[SourceMessage]:
    return list(islice(messages, count))


async def import_messages(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    account_id: uuid.UUID,
    source: MailSource,
    blobs: BlobStore,
    executor: Executor | None,
    on_progress: ProgressCallback | None = None,
    store: Store | None = None,
    batch_size: int = IMPORT_BATCH,
) -> ImportProgress:
    """Import everything `source` yields into the local mailbox `account_id`.

    Unlike a service, this loop owns its transactions: each batch commits on its own, so an
    interrupted import of a multi-gigabyte file keeps what it has done, and re-running it skips
    the committed part (by Message-ID and hash) instead of redoing one huge transaction.
    """
    progress = ImportProgress(bytes_total=source.total_bytes)
    with contextlib.closing(source.messages()) as messages:
        while batch := await asyncio.to_thread(_take, messages, batch_size):
            async with sessionmaker() as db:
                stored = await _import_batch(
                    db,
                    account_id=account_id,
                    batch=batch,
                    blobs=blobs,
                    executor=executor,
                    progress=progress,
                )
                await db.commit()
            progress.messages += len(batch)
            progress.bytes_read = batch[-1].position
            if store is not None:
                await _announce(store, account_id, stored)
            if on_progress is not None:
                await on_progress(_snapshot(progress, source, done=False))
    final = _snapshot(progress, source, done=True)
    if on_progress is not None:
        await on_progress(final)
    return final


def _snapshot(progress: ImportProgress, source: MailSource, *, done: bool) -> ImportProgress:
    """Progress including what the reader could not read at all (counted as errors)."""
    return ImportProgress(
        messages=progress.messages + source.read_errors,
        bytes_read=source.total_bytes if done else progress.bytes_read,
        bytes_total=progress.bytes_total,
        imported=progress.imported,
        skipped=progress.skipped,
        errors=progress.errors + source.read_errors,
        folders=dict(progress.folders),
    )
