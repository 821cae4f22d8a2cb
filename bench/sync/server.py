"""The IMAP server both contenders read from: the test suite's private Dovecot, mailboxes
written straight to disk, and a warm-up so that both find built indexes and a warm page cache."""

from __future__ import annotations

import imaplib
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fixtures.dovecot import DOVECOT, PASSWORD, Dovecot, mail_owner, start_dovecot

from bench.sync import proc

WARM_CHUNK = 500  # UIDs per FETCH of bodies while warming


class BenchError(Exception):
    """The benchmark cannot run or its result would be wrong; the message says why."""


def check_tools() -> None:
    if not Path(DOVECOT).exists():
        raise BenchError(f"{DOVECOT} is missing (scripts/services.sh dovecot)")
    if shutil.which("mbsync") is None:
        raise BenchError("mbsync is missing (scripts/services.sh mbsync, Debian package isync)")


def start(root: Path) -> Dovecot:
    try:
        return start_dovecot(root)
    except RuntimeError as error:
        raise BenchError(f"Dovecot did not start: {error}") from error


@dataclass(frozen=True, slots=True)
class Mailbox:
    username: str
    password: str
    maildir: Path


def new_mailbox(server: Dovecot) -> Mailbox:
    """A user whose Maildir the caller fills on disk before anyone logs in."""
    username = f"bench-{uuid.uuid4().hex[:8]}@example.test"
    server.users[username] = PASSWORD
    return Mailbox(username, PASSWORD, server.maildir(username))


def owner() -> tuple[int, int]:
    return mail_owner()


_LIST_RE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$')


def _folders(imap: imaplib.IMAP4) -> list[str]:
    typ, data = imap.list()
    if typ != "OK":
        raise BenchError(f"LIST failed: {data!r}")
    names = []
    for line in data:
        match = _LIST_RE.match(line if isinstance(line, bytes) else b"")
        if match is None or b"\\noselect" in match["flags"].lower():
            continue
        names.append(match["name"].decode().strip('"'))
    return names


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class Warmed:
    seconds: float
    folders: dict[str, int]  # messages per folder, as Dovecot counts them
    bodies: int  # bodies fetched


def warm(server: Dovecot, mailbox: Mailbox, *, bodies: int | None = None) -> Warmed:
    """Log in once, list (Dovecot creates its auto folders), open every folder, fetch
    UID FLAGS INTERNALDATE RFC822.SIZE of all messages (Dovecot builds its index and decides
    which fields to cache), run the searches Postwise runs, and fetch message bodies: all of
    them (`bodies` None), or only the newest `bodies` of each folder."""
    started = time.monotonic()
    imap = imaplib.IMAP4(server.host, server.imap_port, timeout=600)
    counts: dict[str, int] = {}
    fetched = 0
    try:
        imap.login(mailbox.username, mailbox.password)
        for name in _folders(imap):
            typ, data = imap.select(_quoted(name), readonly=True)
            if typ != "OK":
                raise BenchError(f"SELECT {name} failed: {data!r}")
            counts[name] = int(data[0] or 0)
            if not counts[name]:
                continue
            imap.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE)")
            since = (datetime.now(UTC) - timedelta(days=3650)).strftime("%d-%b-%Y")
            imap.uid("SEARCH", "SINCE", since)
            typ, found = imap.uid("SEARCH", "UID", "1:*")
            uids = [int(u) for u in (found[0] or b"").split()]
            if bodies is not None:
                uids = uids[-bodies:] if bodies else []
            for start in range(0, len(uids), WARM_CHUNK):
                chunk = uids[start : start + WARM_CHUNK]
                typ, data = imap.uid("FETCH", f"{chunk[0]}:{chunk[-1]}", "(BODY.PEEK[])")
                if typ != "OK":
                    raise BenchError(f"FETCH failed in {name}: {typ}")
                fetched += len(chunk)
        imap.logout()
    except (OSError, imaplib.IMAP4.error) as error:
        raise BenchError(f"warming Dovecot failed: {error}") from error
    return Warmed(time.monotonic() - started, counts, fetched)


def cpu_seconds(server: Dovecot) -> float:
    """CPU used so far by the Dovecot master and every process under it."""
    assert server.process is not None
    return proc.tree_cpu(server.process.pid)


def versions() -> tuple[str, str]:
    """(Dovecot version, isync version) as the tools print them."""

    def ask(command: list[str]) -> str:
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=10, check=False
            )
        except OSError:
            return "unknown"
        return (
            (result.stdout or result.stderr).strip().splitlines()[0]
            if result.stdout or result.stderr
            else "unknown"
        )

    dovecot = ask([DOVECOT, "--version"]).split(" (")[0]
    mbsync = ask(["mbsync", "--version"]).removeprefix("isync ").strip()
    return dovecot, mbsync


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():  # files of another user, left by a process that was still writing
        time.sleep(0.2)
        shutil.rmtree(path, ignore_errors=True)


def file_count(root: Path) -> int:
    """Messages in a Maildir tree: files in every cur/ and new/ below `root`."""
    total = 0
    for directory, _subdirs, files in os.walk(root):
        if os.path.basename(directory) in ("cur", "new"):
            total += len(files)
    return total
