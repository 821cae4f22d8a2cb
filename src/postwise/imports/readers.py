"""Mail file readers: streaming mbox and Maildir sources, Takeout labels, format detection."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import BinaryIO, Protocol

from imapclient import imap_utf7

from postwise.db import utcnow
from postwise.mail.folders import role_from_name
from postwise.mime.headers import normalize_message_id, parse_date

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


def _decoded(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def sniff(raw: bytes) -> Sniffed:
    """Read only the header block: the body can be megabytes and is parsed later anyway."""
    match = _HEADER_END.search(raw)
    headers: EmailMessage = _HEADER_PARSER.parsebytes(raw[: match.end()] if match else raw)
    # The raw values, read by the functions `mime.parse_message` uses: the duplicate check
    # compares this Message-ID with the stored one (compat32's `get` would hand 8-bit values
    # over as Header objects instead).
    first: dict[str, str] = {}
    for name, value in headers.raw_items():
        first.setdefault(name.lower(), value)
    labels_header = headers.get("X-Gmail-Labels")
    labels = None
    if labels_header is not None:
        text = " ".join(_decoded(str(labels_header)).split())
        # Labels are comma-separated and quoted when they hold a comma or a quote: CSV rules.
        labels = [label.strip() for row in csv.reader([text]) for label in row if label.strip()]
    thrid = str(headers.get("X-GM-THRID", "")).strip()
    return Sniffed(
        message_id=normalize_message_id(first.get("message-id")),
        date=parse_date(first.get("date")),
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
    return TargetFolder(name, role_from_name(leaf))


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
    # Either of cur/ and new/ will do, and tmp/ is optional: git, rsync filters and some
    # export tools drop empty directories, and a Maildir read by a client has an empty new/.
    return (path / "cur").is_dir() or (path / "new").is_dir()


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
            raise NotMailError(f"{path} is a directory but not a Maildir (no cur/ or new/)")
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
