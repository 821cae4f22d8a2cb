"""The process pool that parses MIME for a sync or an import, sized from settings.

Parsing is CPU-bound pure Python (`postwise.mime`), so a mailbox's first sync spreads it over
processes; `prepare_all` in `ingest` sends work here when a pool is given.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

from postwise.config import Settings
from postwise.kit.pools import process_pool


def parse_processes(settings: Settings) -> int:
    return settings.sync_parse_processes or (os.cpu_count() or 1)


def _warm_up() -> None:
    from postwise.mail import ingest  # noqa: F401  (imported for its import cost, in the child)


@contextmanager
def parse_pool(settings: Settings) -> Iterator[Executor | None]:
    """Processes started with forkserver (see `kit.pools`), ending with this process."""
    count = parse_processes(settings)
    if count <= 1:
        yield None
        return
    pool = process_pool(count)
    # Start the processes and import the parser now, not when a new mailbox's first batch
    # is waiting for them (about a second on a small machine).
    for _ in range(count):
        pool.submit(_warm_up)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
