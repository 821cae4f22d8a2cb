"""Postwise's side: the real sync engine (`MailboxSync`) on a fresh SQLite database.

What is timed is a mailbox's initial sync as the product runs it: connect, list folders, and for
each folder (INBOX first) fetch, parse (process pool), store blobs and rows, thread and commit,
batch by batch. The clock starts when the task starts and stops when the database holds the
expected number of messages (polled every 50 ms with a read-only SQLite connection).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
import uuid
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.fixtures.dovecot import Dovecot

from bench.sync import phases, proc
from bench.sync import server as imap_server
from bench.sync.server import BenchError, Mailbox
from postwise import db as database
from postwise.accounts.credentials import seal_password
from postwise.accounts.models import MailAccount, Security
from postwise.config import Settings
from postwise.kit.crypto import Keyring
from postwise.mail.parsing import parse_pool, parse_processes
from postwise.migrations.runner import upgrade_database
from postwise.mime.parse import parse_message
from postwise.store import create_store
from postwise.sync.context import build_sync_context
from postwise.sync.mailbox import MailboxSync
from postwise.users.models import User

POLL_S = 0.05
SECRET = "bench-sync-secret-" + "s" * 40
FIRST = 50  # "the first screen": messages of the inbox the user sees first
_WARM_MESSAGE = (
    b"From: a@example.test\nTo: b@example.test\nSubject: warm\nMessage-ID: <w@example.test>\n"
    b"Date: Mon, 1 Jan 2024 10:00:00 +0000\nContent-Type: text/html\n\n<p>warm</p>\n"
)


@dataclass(frozen=True, slots=True)
class EngineRun:
    seconds: float | None  # to all expected messages (None: stopped after the first screen)
    first_s: float | None  # to the first `first` inbox messages (FIRST unless a test asks)
    messages: int  # in the database when the clock stopped
    main_cpu_s: float  # the Postwise process (event loop, IMAP and blob threads, SQLite)
    pool_cpu_s: float  # the MIME parsing processes
    dovecot_cpu_s: float
    phases: dict[str, float]
    calls: dict[str, int]
    phase_cpu: dict[str, float]  # CPU of the thread each step ran on (not the parse pool)
    thread_cpu: dict[str, float]  # CPU of the Postwise process by kind of thread
    missing_phases: list[str]  # pipeline steps the timers could not find (renamed)
    parse_processes: int
    batch_size: int
    machine_busy_s: float | None  # CPU seconds of the whole machine while it ran

    @property
    def others(self) -> float | None:
        """Cores used by other processes than Postwise and Dovecot while it ran (noise)."""
        seconds = self.seconds if self.seconds is not None else self.first_s
        if self.machine_busy_s is None or not seconds:
            return None
        used = self.main_cpu_s + self.pool_cpu_s + self.dovecot_cpu_s
        return max(0.0, (self.machine_busy_s - used) / seconds)


def settings_for(data_dir: Path, *, parse_processes: int) -> Settings:
    return Settings(
        env="test",
        secret_key=SECRET,
        data_dir=data_dir,
        web_dir=data_dir / "web",
        database_url=f"sqlite+aiosqlite:///{data_dir / 'postwise.db'}",
        migrate_on_start=False,
        log_level="WARNING",
        log_format="console",
        sync_in_process=False,
        sync_parse_processes=parse_processes,
        # The benchmark's Dovecot listens on loopback, which POSTWISE_ENV=test refuses.
        mail_private_hosts="127.0.0.1",
    )


def migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings, url=settings.effective_database_url)


class _Counter:
    """Counts rows through a separate read-only connection (WAL: never blocks the writer)."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)

    def counts(self) -> tuple[int, int]:
        total = self.connection.execute("SELECT count(*) FROM messages").fetchone()[0]
        inbox = self.connection.execute(
            "SELECT count(*) FROM messages WHERE folder_id IN "
            "(SELECT id FROM folders WHERE role = 'inbox')"
        ).fetchone()[0]
        return int(total), int(inbox)

    def close(self) -> None:
        self.connection.close()


def _warm_process(delay: float) -> int:
    """Runs in a parse process: import what parsing needs, parse once, say who ran it."""
    import postwise.mail.ingest  # noqa: F401  (what the pool's tasks live in)

    parse_message(_WARM_MESSAGE)
    time.sleep(delay)
    return os.getpid()


async def _warm_pool(executor: Executor | None, processes: int) -> None:
    """Start every parsing process and import the parser in it, as a running server has."""
    if executor is None:
        parse_message(_WARM_MESSAGE)
        return
    loop = asyncio.get_running_loop()
    seen: set[int] = set()
    for _ in range(5):
        pids = await asyncio.gather(
            *(loop.run_in_executor(executor, _warm_process, 0.2) for _ in range(processes))
        )
        seen.update(pids)
        if len(seen) >= processes:
            return


async def _add_account(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    mailbox: Mailbox,
    server: Dovecot,
    window_days: int,
) -> uuid.UUID:
    """A user and an IMAP account pointing at Dovecot, as the accounts API would store it."""
    async with sessionmaker() as db:
        user = User(email=f"owner-{uuid.uuid4().hex[:8]}@example.test", password_hash="x")
        db.add(user)
        await db.flush()
        account = MailAccount(
            user_id=user.id,
            email=mailbox.username,
            username=mailbox.username,
            credentials=seal_password(Keyring(settings.secret()), mailbox.password),
            imap_host=server.host,
            imap_port=server.imap_port,
            imap_security=Security.NONE,
            smtp_host=server.host,
            smtp_port=25,
            smtp_security=Security.NONE,
            sync_window_days=window_days,
        )
        db.add(account)
        await db.commit()
        return account.id


@dataclass(frozen=True, slots=True)
class _CpuSample:
    main: float
    tree: float
    dovecot: float
    machine: proc.MachineSample
    threads: dict[int, tuple[str, float]]  # native id: (category, CPU seconds)


THREAD_KINDS = {
    "loop": "event loop",
    "workers": "worker threads (IMAP fetch, blob sync)",
    "sqlite": "SQLite (aiosqlite's threads)",
    "pool": "process-pool plumbing (sending work, receiving results)",
    "other": "other threads",
}


def _thread_kind(thread: threading.Thread) -> str:
    if thread is threading.main_thread():
        return "loop"
    if thread.name.startswith("asyncio_"):
        return "workers"
    if "_connection_worker_thread" in thread.name:
        return "sqlite"
    if type(thread).__name__ == "_ExecutorManagerThread" or thread.name == "QueueFeederThread":
        return "pool"
    return "other"


def _threads() -> dict[int, tuple[str, float]]:
    found = {}
    for thread in threading.enumerate():
        if thread.native_id is None:
            continue
        cpu = proc.thread_cpu(thread.native_id)
        if cpu is not None:
            found[thread.native_id] = (_thread_kind(thread), cpu)
    return found


def _by_thread(before: _CpuSample, after: _CpuSample) -> dict[str, float]:
    """CPU per kind of thread between the samples (threads that ended in between are not
    seen: the executors and SQLite's connections live for the whole run)."""
    spent = dict.fromkeys(THREAD_KINDS, 0.0)
    for native_id, (kind, cpu) in after.threads.items():
        spent[kind] += cpu - before.threads.get(native_id, (kind, 0.0))[1]
    return spent


def _cpu_sample(server: Dovecot) -> _CpuSample:
    assert server.process is not None
    return _CpuSample(
        main=time.process_time(),
        tree=proc.tree_cpu(os.getpid(), exclude={server.process.pid}),
        dovecot=imap_server.cpu_seconds(server),
        machine=proc.machine(),
        threads=_threads(),
    )


async def sync(
    settings: Settings,
    server: Dovecot,
    mailbox: Mailbox,
    *,
    expected: int | None,
    window_days: int = 3650,
    timeout_s: float = 3600.0,
    first: int = FIRST,
) -> EngineRun:
    """Run MailboxSync until the database holds `expected` messages (None: until the inbox
    holds `first`), then cancel it."""
    engine = database.create_engine(settings)
    store = create_store(None, prefix="bench:")
    processes = parse_processes(settings)
    try:
        with parse_pool(settings) as executor:
            await _warm_pool(executor, processes)
            ctx = build_sync_context(
                settings,
                sessionmaker=database.create_sessionmaker(engine),
                store=store,
                executor=executor,
            )
            account_id = await _add_account(
                settings, ctx.sessionmaker, mailbox, server, window_days
            )
            counter = _Counter(settings.data_dir / "postwise.db")
            try:
                return await _timed(
                    settings,
                    server,
                    counter,
                    MailboxSync(ctx, account_id),
                    expected=expected,
                    timeout_s=timeout_s,
                    processes=processes,
                    first=first,
                )
            finally:
                counter.close()
    finally:
        await store.close()
        await engine.dispose()


async def _timed(
    settings: Settings,
    server: Dovecot,
    counter: _Counter,
    mailbox: MailboxSync,
    *,
    expected: int | None,
    timeout_s: float,
    processes: int,
    first: int,
) -> EngineRun:
    first_s: float | None = None
    done_s: float | None = None
    total = 0
    with phases.instrument() as timer:
        before = _cpu_sample(server)
        started = time.monotonic()
        task = asyncio.create_task(mailbox.run())
        try:
            while True:
                await asyncio.sleep(POLL_S)
                elapsed = time.monotonic() - started
                if task.done():
                    error = task.exception()
                    raise BenchError(f"the sync loop ended early: {error!r}")
                total, inbox = counter.counts()
                if first_s is None and inbox >= first:
                    first_s = elapsed
                    if expected is None:
                        break
                if expected is not None and total >= expected:
                    done_s = elapsed
                    break
                if elapsed > timeout_s:
                    raise BenchError(
                        f"Postwise had {total} of {expected or first} messages after "
                        f"{timeout_s:.0f} s"
                    )
            after = _cpu_sample(server)
            totals, calls, phase_cpu = dict(timer.totals), dict(timer.calls), dict(timer.cpu)
        finally:
            task.cancel()
            await asyncio.wait({task}, timeout=15)
    if expected is not None and total != expected:
        raise BenchError(f"Postwise stored {total} messages, expected {expected}")
    main = after.main - before.main
    return EngineRun(
        seconds=done_s,
        first_s=first_s,
        messages=total,
        main_cpu_s=main,
        pool_cpu_s=max(0.0, after.tree - before.tree - main),
        dovecot_cpu_s=after.dovecot - before.dovecot,
        phases=totals,
        calls=calls,
        phase_cpu=phase_cpu,
        thread_cpu=_by_thread(before, after),
        missing_phases=list(timer.missing),
        parse_processes=processes,
        batch_size=settings.sync_batch_size,
        machine_busy_s=proc.busy_between(before.machine, after.machine),
    )
