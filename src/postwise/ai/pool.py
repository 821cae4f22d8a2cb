"""Local triage off the event loop: a small process pool, so that triaging a backfill of
100,000 messages never holds the GIL the API answers requests with.

One process by default (`POSTWISE_AI_TRIAGE_PROCESSES`): triage is a background task and the
sync's parse pool already takes the other cores while a mailbox is first mirrored. With 0,
triage runs in a thread of this process (tests, one-core machines).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import datetime

from postwise.ai.mailview import MailView
from postwise.ai.results import Triage
from postwise.kit.pools import process_pool


def triage_batch(views: Sequence[MailView], now: datetime) -> list[Triage]:
    from postwise.ai.local.triage import triage

    return [triage(view, now=now) for view in views]


def _warm_up() -> None:
    # Trains the shipped category model once in the child, before the first batch waits on it.
    from postwise.ai.local.category import classify
    from postwise.ai.mailview import MailView

    classify(MailView(subject="hello", from_name="", from_address="a@example.com", text="hi"))


class TriagePool:
    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: Executor | None = None

    def _executor(self) -> Executor | None:
        if self.processes <= 0:
            return None
        if self._pool is None:
            # forkserver (see kit.pools), each process ending with this one.
            self._pool = process_pool(self.processes, initializer=_warm_up)
        return self._pool

    async def triage(self, views: Sequence[MailView], *, now: datetime) -> list[Triage]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), triage_batch, list(views), now)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
