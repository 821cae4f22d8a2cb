"""What the engine asks of an IMAP server, over imapclient (blocking: call from a worker thread).

imapclient parses every response (FETCH, LIST, SELECT, IDLE) completely, which aioimaplib leaves
to its caller; one connection is only ever used by one thread at a time.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_fetch_response

from postwise.accounts.connection import ImapLogin, connect_imap
from postwise.kit.hosts import HostPolicy
from postwise.mail.folders import role_from_name

# RFC 6154 special-use attributes (and Gmail's older XLIST names) → the roles the app shows.
SPECIAL_USE_ROLES: dict[bytes, str] = {
    b"\\sent": "sent",
    b"\\drafts": "drafts",
    b"\\trash": "trash",
    b"\\junk": "junk",
    b"\\spam": "junk",
    b"\\archive": "archive",
    b"\\all": "all",
    b"\\allmail": "all",
    b"\\flagged": "flagged",
    b"\\important": "important",
}
NOT_SELECTABLE = {b"\\noselect", b"\\nonexistent"}
FETCH_BODY = [b"UID", b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"BODY.PEEK[]"]
GMAIL_IDS = [b"X-GM-MSGID", b"X-GM-THRID"]
# Untagged responses during IDLE that mean the mailbox changed (RFC 3501, RFC 7162 VANISHED).
_IDLE_CHANGES = {b"EXISTS", b"EXPUNGE", b"FETCH", b"RECENT", b"VANISHED"}
# How long close() waits for a command still running in another thread.
CLOSE_WAIT_S = 3.0


class ImapError(Exception):
    """The server refused, or the connection broke: the engine retries with backoff.

    Its text is ours, never the server's: it becomes the mailbox's `last_error` (shown by the
    API) and log lines, and a server may say anything (docs/security.md, "Private hosts").
    Only an RFC 5530 response code, a fixed token such as `[UNAVAILABLE]`, is kept."""


_RESPONSE_CODE = re.compile(r"\[([A-Z][A-Z0-9-]{1,30})[\] ]")


def _response_code(text: str) -> str:
    found = _RESPONSE_CODE.search(text)
    return f" [{found.group(1)}]" if found else ""


def _described(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "the mail server did not answer in time"
    if isinstance(error, imaplib.IMAP4.abort):
        return "the mail server closed the connection" + _response_code(str(error))
    if isinstance(error, IMAPClientError | imaplib.IMAP4.error):
        return "the mail server refused a command" + _response_code(str(error))
    # OSError: the local system's words (connection reset, refused...), not the server's.
    return f"the connection to the mail server failed ({type(error).__name__})"


@dataclass(frozen=True, slots=True)
class RemoteFolder:
    name: str
    delimiter: str | None
    attributes: tuple[str, ...]
    role: str | None
    selectable: bool


@dataclass(frozen=True, slots=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int
    exists: int
    highestmodseq: int | None


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    flags: tuple[str, ...]
    internal_date: datetime
    size: int
    raw: bytes
    modseq: int | None
    gm_msgid: int | None
    gm_thrid: int | None


@dataclass(frozen=True, slots=True)
class FlagState:
    uid: int
    flags: tuple[str, ...]
    modseq: int | None


def folder_role(name: str, delimiter: str | None, flags: Iterable[bytes]) -> str | None:
    lowered = {flag.lower() for flag in flags}
    if name.upper() == "INBOX":
        return "inbox"
    for flag in lowered:
        if flag in SPECIAL_USE_ROLES:
            return SPECIAL_USE_ROLES[flag]
    leaf = name.rsplit(delimiter, 1)[-1] if delimiter else name
    return role_from_name(leaf)


def _flags(raw: Sequence[bytes | str]) -> tuple[str, ...]:
    return tuple(f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f) for f in raw)


def _aware(value: datetime) -> datetime:
    # imapclient gives INTERNALDATE in local time without a zone unless asked otherwise; the
    # connection is opened with normalise_times=False, so a zone is always present.
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class ImapSession:
    """One logged-in connection and what sync needs from it."""

    def __init__(self, client: IMAPClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._idling = False
        client.normalise_times = False
        self.capabilities = {c.decode().upper() for c in client.capabilities()}
        self.condstore = "CONDSTORE" in self.capabilities or "QRESYNC" in self.capabilities
        self.gmail = "X-GM-EXT-1" in self.capabilities
        if self.condstore and "ENABLE" in self.capabilities:
            # Enabling CONDSTORE makes every FETCH report MODSEQ and SELECT report
            # HIGHESTMODSEQ; harmless where the server enables it implicitly.
            self._safe(lambda: client.enable("CONDSTORE"))

    @classmethod
    def open(
        cls,
        login: ImapLogin,
        *,
        timeout: float,
        ssl_context: ssl.SSLContext,
        policy: HostPolicy,
    ) -> ImapSession:
        """Connect and sign in. The host is judged by the private-hosts policy on every
        connect: a mailbox saved while it allowed the host fails with host_not_allowed once
        the policy no longer does."""
        return cls(connect_imap(login, timeout=timeout, ssl_context=ssl_context, policy=policy))

    def _safe(self, call: Any) -> Any:
        # One command at a time: a caller cancelled while its thread still waits on the
        # server must not have its reply read by the next command (or by close()).
        with self._lock:
            try:
                return call()
            except (TimeoutError, IMAPClientError, imaplib.IMAP4.error, OSError) as error:
                raise ImapError(_described(error)) from error

    def interrupt(self) -> None:
        """Cut the connection under whatever command another thread is waiting in (an IDLE
        check blocks for up to its tick): it fails at once. Thread-safe; `close()` follows."""
        with contextlib.suppress(OSError):
            self.client.socket().shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Log out; if a command is still running in another thread, cut the socket instead,
        which makes that command fail at once rather than hold the thread."""
        if not self._lock.acquire(timeout=CLOSE_WAIT_S):
            self.interrupt()
            return
        try:
            if self._idling:
                with contextlib.suppress(Exception):
                    self.client.idle_done()
            self.client.logout()
        except Exception:  # already broken: nothing more to say to this server
            with contextlib.suppress(Exception):
                self.client.shutdown()
        finally:
            self._lock.release()

    def list_folders(self) -> list[RemoteFolder]:
        listed = self._safe(lambda: self.client.list_folders())
        folders = []
        for flags, delimiter, name in listed:
            sep = delimiter.decode() if isinstance(delimiter, bytes) else delimiter
            lowered = {f.lower() for f in flags}
            folders.append(
                RemoteFolder(
                    name=str(name),
                    delimiter=sep,
                    attributes=_flags(flags),
                    role=folder_role(str(name), sep, flags),
                    selectable=not (lowered & NOT_SELECTABLE),
                )
            )
        return folders

    def select(self, name: str, *, readonly: bool = True) -> FolderStatus:
        info = self._safe(lambda: self.client.select_folder(name, readonly=readonly))
        modseq = info.get(b"HIGHESTMODSEQ")
        return FolderStatus(
            uidvalidity=int(info[b"UIDVALIDITY"]),
            uidnext=int(info.get(b"UIDNEXT", 0)) or self._uidnext_fallback(),
            exists=int(info.get(b"EXISTS", 0)),
            highestmodseq=int(modseq) if modseq is not None and self.condstore else None,
        )

    def _uidnext_fallback(self) -> int:
        # A server that leaves UIDNEXT out of SELECT (allowed before IMAP4rev2).
        uids = self.uids_from(1)
        return (max(uids) + 1) if uids else 1

    def uids_from(self, low: int, high: int | None = None) -> list[int]:
        """UIDs in [low, high] (high None: to the end), ascending."""
        span = f"{low}:{high if high is not None else '*'}"
        found = self._safe(lambda: self.client.search(["UID", span]))
        top = high if high is not None else None
        # "n:*" always matches the highest UID even when it is below n (RFC 3501 6.4.8).
        return sorted(u for u in found if u >= low and (top is None or u <= top))

    def uids_since(self, day: date) -> list[int]:
        return sorted(self._safe(lambda: self.client.search(["SINCE", day])))

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        items = FETCH_BODY + (GMAIL_IDS if self.gmail else [])
        answer = self._safe(lambda: self.client.fetch(list(uids), items))
        fetched = []
        for uid, data in answer.items():
            body = data.get(b"BODY[]")
            if body is None:
                continue  # expunged between SEARCH and FETCH
            modseq = data.get(b"MODSEQ")
            fetched.append(
                FetchedMessage(
                    uid=int(uid),
                    flags=_flags(data.get(b"FLAGS", ())),
                    internal_date=_aware(cast(datetime, data[b"INTERNALDATE"])),
                    size=int(data.get(b"RFC822.SIZE", len(body))),
                    raw=bytes(body),
                    modseq=int(modseq[0]) if modseq else None,
                    gm_msgid=_int_or_none(data.get(b"X-GM-MSGID")),
                    gm_thrid=_int_or_none(data.get(b"X-GM-THRID")),
                )
            )
        return fetched

    def flags(self, low: int, high: int, *, changed_since: int | None = None) -> list[FlagState]:
        if high < low:
            return []
        modifiers = [f"CHANGEDSINCE {changed_since}"] if changed_since is not None else None
        answer = self._safe(lambda: self._fetch_range(f"{low}:{high}", modifiers))
        states = []
        for uid, data in answer.items():
            if int(uid) < low or int(uid) > high:
                continue
            modseq = data.get(b"MODSEQ")
            states.append(
                FlagState(
                    uid=int(uid),
                    flags=_flags(data.get(b"FLAGS", ())),
                    modseq=int(modseq[0]) if modseq else None,
                )
            )
        return states

    def _fetch_range(self, span: str, modifiers: list[str] | None) -> dict[int, Any]:
        """UID FETCH over a UID range. imapclient 4's `fetch` keeps only the ids it was given
        (to drop unsolicited responses) and cannot take a range like "1:*"; listing 100,000
        UIDs instead would make a huge command, so the command is issued here directly."""
        args = ["UID", "FETCH", span, "(UID FLAGS)"]
        if modifiers:
            args.append("(" + " ".join(modifiers) + ")")
        imap = self.client._imap
        tag = imap._command(*args)
        typ, data = imap._command_complete("FETCH", tag)
        if typ != "OK":
            text = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
            raise ImapError("the mail server refused a FETCH" + _response_code(text))
        typ, data = imap._untagged_response(typ, data, "FETCH")
        return cast(dict[int, Any], parse_fetch_response(data, False, True))

    def add_flags(self, uids: Sequence[int], flags: Sequence[str]) -> None:
        self._safe(lambda: self.client.add_flags(list(uids), list(flags), silent=True))

    def remove_flags(self, uids: Sequence[int], flags: Sequence[str]) -> None:
        self._safe(lambda: self.client.remove_flags(list(uids), list(flags), silent=True))

    def move(self, uids: Sequence[int], target: str) -> None:
        if "MOVE" in self.capabilities:
            self._safe(lambda: self.client.move(list(uids), target))
            return
        # RFC 6851's fallback: COPY, flag \Deleted, expunge just these (UIDPLUS) or all.
        self._safe(lambda: self.client.copy(list(uids), target))
        self.delete(uids)

    def delete(self, uids: Sequence[int]) -> None:
        self._safe(lambda: self.client.delete_messages(list(uids)))
        if "UIDPLUS" in self.capabilities:
            self._safe(lambda: self.client.uid_expunge(list(uids)))
        else:
            self._safe(lambda: self.client.expunge())

    def noop(self) -> None:
        self._safe(lambda: self.client.noop())

    # --- IDLE ---------------------------------------------------------------------------------

    def idle_start(self) -> None:
        self._safe(lambda: self.client.idle())
        self._idling = True

    def idle_wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True when the server reported a change."""
        responses = self._safe(lambda: self.client.idle_check(timeout=timeout))
        # Keep-alives ("* OK Still here") are not changes; mailbox data is.
        return any(len(response) > 1 and response[1] in _IDLE_CHANGES for response in responses)

    def idle_done(self) -> None:
        self._safe(lambda: self.client.idle_done())
        self._idling = False


def _int_or_none(value: object) -> int | None:
    return int(cast(int, value)) if value is not None else None
