"""What the sync engine needs, built once per process (API lifespan or `postwise worker`)."""

from __future__ import annotations

import ssl
from concurrent.futures import Executor
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from postwise.accounts.connection import tls_context
from postwise.config import Settings
from postwise.kit.crypto import Keyring
from postwise.mail.blobs import BlobStore
from postwise.observability.metrics import Metrics
from postwise.store import Store
from postwise.worker.queue import JobQueue


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
    # Where jobs go (the assistant's triage of new mail); None in tests that run no jobs.
    jobs: JobQueue | None = None
    # This process's Prometheus metrics; None in tests that do not measure.
    metrics: Metrics | None = None


def build_sync_context(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: Store,
    executor: Executor | None,
    jobs: JobQueue | None = None,
    metrics: Metrics | None = None,
) -> SyncContext:
    return SyncContext(
        settings=settings,
        sessionmaker=sessionmaker,
        store=store,
        blobs=BlobStore(settings.effective_blob_dir),
        keyring=Keyring(settings.secret(), settings.previous_secrets()),
        ssl_context=tls_context(settings.mail_ca_file),
        executor=executor,
        jobs=jobs,
        metrics=metrics,
    )
