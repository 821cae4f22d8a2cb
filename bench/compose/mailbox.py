"""The mailbox as another IMAP client sees it: how many messages its Drafts and Sent hold.

The bench waits on these counts between phases (the drafts' mirror copies APPENDed, the sent
messages' copies filed and their mirrors removed), so that one phase's background work does not
run inside the next one's figures. The CPU of the Postwise processes alone cannot tell: a mirror
job first sleeps out its debounce, idle, and only then works.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from imapclient import IMAPClient

DRAFTS = "Drafts"
SENT = "Sent"


@dataclass(frozen=True)
class Counts:
    drafts: int
    sent: int


class MailboxWatch:
    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        self._lock = threading.Lock()
        self._client = IMAPClient(host, port=port, ssl=False, timeout=30)
        self._client.login(username, password)

    def _counts(self) -> Counts:
        with self._lock:
            status = {
                name: self._client.folder_status(name, [b"MESSAGES"])[b"MESSAGES"]
                for name in (DRAFTS, SENT)
            }
        return Counts(drafts=int(status[DRAFTS]), sent=int(status[SENT]))

    async def counts(self) -> Counts:
        return await asyncio.to_thread(self._counts)

    async def wait(self, done: Callable[[Counts], bool], *, cap_s: float) -> float | None:
        """Poll until `done(counts)`; returns when it was seen (wall clock), None if not
        within `cap_s`."""
        deadline = time.time() + cap_s
        while time.time() < deadline:
            if done(await self.counts()):
                return time.time()
            await asyncio.sleep(0.1)
        return None

    async def wait_drafts(self, target: int, *, still_s: float, cap_s: float) -> int:
        """Wait until Drafts holds `target` messages, or stops growing for `still_s` (a mirror
        job that failed does not come back by itself); returns the count reached."""
        deadline = time.time() + cap_s
        count = (await self.counts()).drafts
        changed = time.time()
        while count < target and time.time() < min(deadline, changed + still_s):
            await asyncio.sleep(0.25)
            now = (await self.counts()).drafts
            if now != count:
                count, changed = now, time.time()
        return count

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError, IMAPClient.Error):
            self._client.logout()
