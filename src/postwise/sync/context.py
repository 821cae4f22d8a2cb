"""What the sync engine needs, built once per process (API lifespan or `postwise worker`)."""

from __future__ import annotations

import multiprocessing
import os
import ssl
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise.accounts.connection import tls_context
from postwise.config import Settings
from postwise.kit.crypto import Keyring
from postwise.mail.blobs import BlobStore
from postwise.store import Store


@dataclass(frozen=True)
class SyncContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    store: Store
    blobs: BlobStore
    keyring: Keyring
    ssl_context: ssl.SSLContext
    # MIME parsing runs here (a process pool); None parses in the calling thread.
    executor: Executor | None


def parse_processes(settings: Settings) -> int:
    return settings.sync_parse_processes or (os.cpu_count() or 1)


def _warm_up() -> None:
    from postwise.sync import ingest  # noqa: F401  (imported for its import cost, in the child)


@contextmanager
def parse_pool(settings: Settings) -> Iterator[Executor | None]:
    """Processes started with forkserver: forking a process that already runs threads (the
    event loop's executors, aiosqlite) can copy a held lock into the child."""
    count = parse_processes(settings)
    if count <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(
        max_workers=count, mp_context=multiprocessing.get_context("forkserver")
    )
    # Start the processes and import the parser now, not when a new mailbox's first batch
    # is waiting for them (about a second on a small machine).
    for _ in range(count):
        pool.submit(_warm_up)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def build_sync_context(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: Store,
    executor: Executor | None,
) -> SyncContext:
    return SyncContext(
        settings=settings,
        sessionmaker=sessionmaker,
        store=store,
        blobs=BlobStore(settings.effective_blob_dir),
        keyring=Keyring(settings.secret(), settings.previous_secrets()),
        ssl_context=tls_context(settings.mail_ca_file),
        executor=executor,
    )
