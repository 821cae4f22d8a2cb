"""The sync with triage on and off: bench.sync's full initial sync of a generated mailbox from
Dovecot inside the runtime of the embedded app (`open_runtime`: one process syncs, runs the
jobs in its in-process broker and hands local triage to its one-process pool), once with the
sync context's `jobs=None` and no schedules (triage off), once with the runtime's job queue and
its schedules running as `postwise serve` runs them (triage on: each committed batch sends
`ai.triage`, and the `ai.backfill` schedule triages what has no insight yet; while a mailbox is
mirrored for the first time its jobs leave the mail to that backfill). Rounds alternate the
order. The sync's clock is bench.sync's (until every message is in the database); with triage
on, the run goes on until every message has its insight.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from taskiq.api import run_scheduler_task
from tests.fixtures.dovecot import DOVECOT, Dovecot

from bench.ai.common import (
    docs_block,
    noise_note,
    process_cpu,
    start_triage_process,
    step,
    table,
    verdict,
)
from bench.sync import engine, server
from bench.sync.cli import _mailbox
from bench.sync.engine import EngineRun
from bench.sync.report import Corpus
from bench.sync.server import BenchError, Mailbox
from postwise.accounts.models import MailAccount, SyncState
from postwise.config import Settings
from postwise.mail.parsing import parse_pool, parse_processes
from postwise.runtime import Runtime, open_runtime
from postwise.sync.context import SyncContext, build_sync_context
from postwise.sync.mailbox import MailboxSync
from postwise.worker.broker import build_scheduler

TARGET_RATIO = 1.10  # triage on ÷ off (issue 15: "within 10 %")
SAMPLE_S = 0.1


@dataclass(frozen=True)
class Plan:
    messages: int = 10_000
    seed: int = 1
    rounds: int = 2
    triage_timeout_s: float = 600.0


@dataclass(frozen=True)
class SyncRun:
    triage: bool
    run: EngineRun
    mirrored_s: float  # from the sync's start until the account said its first mirror ended
    triaged_s: float | None  # from the sync's start until every message had its insight
    insights: int
    triage_cpu_s: float  # the triage pool's process while the sync ran
    triage_cpu_total_s: float  # … until the last insight
    main_cpu_total_s: float  # this process, until the last insight (or the sync's end)

    @property
    def seconds(self) -> float:
        assert self.run.seconds is not None
        return self.run.seconds

    @property
    def parse_cpu_s(self) -> float:
        """The parse processes: the children's CPU less the triage process's."""
        return max(0.0, self.run.pool_cpu_s - self.triage_cpu_s)

    @property
    def busy_cores(self) -> float | None:
        busy = self.run.machine_busy_s
        return None if busy is None else busy / self.seconds


@dataclass(frozen=True)
class Figures:
    corpus: Corpus
    runs: list[SyncRun] = field(default_factory=list)

    def of(self, triage: bool) -> list[SyncRun]:
        return [r for r in self.runs if r.triage is triage]

    def median(self, triage: bool) -> SyncRun:
        runs = sorted(self.of(triage), key=lambda r: r.seconds)
        return runs[(len(runs) - 1) // 2]

    @property
    def ratios(self) -> list[float]:
        return [
            on.seconds / off.seconds for on, off in zip(self.of(True), self.of(False), strict=True)
        ]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


class _CpuTrace:
    """The triage process's CPU every 0.1 s, to read it at the moment the sync's clock
    stopped (the job goes on after it)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.take()
            await asyncio.sleep(SAMPLE_S)

    def take(self) -> None:
        cpu = None if self.pid is None else process_cpu(self.pid)
        if cpu is not None:
            self.samples.append((time.monotonic(), cpu))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.take()

    def at(self, moment: float) -> float:
        before = [cpu for at, cpu in self.samples if at <= moment]
        return before[-1] if before else (self.samples[0][1] if self.samples else 0.0)


async def _until_triaged(path: Path, deadline: float) -> tuple[float | None, int]:
    """Wait until every stored message (drafts are never triaged) has an insight; returns
    when that was (monotonic) and how many there were."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        wanted = connection.execute("SELECT count(*) FROM messages WHERE NOT is_draft").fetchone()
        count = 0
        while time.monotonic() < deadline:
            count = connection.execute("SELECT count(*) FROM message_insights").fetchone()[0]
            if count >= wanted[0]:
                return time.monotonic(), int(count)
            await asyncio.sleep(engine.POLL_S)
        return None, int(count)
    finally:
        connection.close()


class _GoesOn(MailboxSync):
    """The sync as `engine._timed` runs it, except that when the clock stops (every message
    stored) and `_timed` cancels it, the sync itself goes on: it still has to record that the
    first mirror is done (the account's state), after which the assistant's backfill triages
    the mailbox, and the job of its last batch may not be sent yet. `stop` ends it."""

    def __init__(self, ctx: SyncContext, account_id: uuid.UUID) -> None:
        super().__init__(ctx, account_id)
        self._inner: asyncio.Task[None] | None = None

    async def run(self) -> None:
        self._inner = asyncio.create_task(super().run())
        await asyncio.shield(self._inner)

    async def mirrored(self, deadline: float) -> float:
        """When the account's state says its first mirror ended (monotonic)."""
        while time.monotonic() < deadline:
            async with self.ctx.sessionmaker() as db:
                account = await db.get(MailAccount, self.account_id)
                if account is not None and account.sync_state == SyncState.IDLE:
                    return time.monotonic()
            if self._inner is not None and self._inner.done():
                raise BenchError(f"the sync ended: {self._inner.exception()!r}")
            await asyncio.sleep(engine.POLL_S)
        raise BenchError("the sync did not record the end of its first mirror in time")

    async def stop(self) -> None:
        if self._inner is not None:
            self._inner.cancel()
            await asyncio.wait({self._inner}, timeout=15)


@asynccontextmanager
async def _schedules(runtime: Runtime, *, run: bool) -> AsyncIterator[None]:
    """The schedules (the assistant's backfill among them) running in this process, as the
    embedded app runs them (`postwise.app`)."""
    if not run:
        yield
        return
    task = asyncio.create_task(run_scheduler_task(build_scheduler(runtime.broker, runtime.store)))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def timed_sync(
    settings: Settings,
    dovecot: Dovecot,
    mailbox: Mailbox,
    *,
    expected: int,
    triage: bool,
    timeout_s: float = 3600.0,
    triage_timeout_s: float = 600.0,
    local_pool: bool = True,
) -> SyncRun:
    """bench.sync's timed sync (`engine._timed`: same clock, CPU and phase figures) inside the
    runtime a server process builds. With `triage`, the sync context has the job queue and
    the schedules run (the embedded app), and the run goes on until every message has its
    insight. With `local_pool`, the triage pool's process is started first and its CPU
    followed (a remote provider never uses it)."""
    async with open_runtime(settings, strict=True) as runtime, _schedules(runtime, run=triage):
        trace = _CpuTrace(await start_triage_process(runtime.ai.pool) if local_pool else None)
        processes = parse_processes(settings)
        with parse_pool(settings) as executor:
            await engine._warm_pool(executor, processes)
            ctx = build_sync_context(
                settings,
                sessionmaker=runtime.sessionmaker,
                store=runtime.store,
                executor=executor,
                jobs=runtime.jobs if triage else None,
            )
            account_id = await engine._add_account(
                settings, ctx.sessionmaker, mailbox, dovecot, 3650
            )
            path = settings.data_dir / "postwise.db"
            counter = engine._Counter(path)
            sync = _GoesOn(ctx, account_id)
            trace.start()
            try:
                began, cpu = time.monotonic(), time.process_time()
                run = await engine._timed(
                    settings,
                    dovecot,
                    counter,
                    sync,
                    expected=expected,
                    timeout_s=timeout_s,
                    processes=processes,
                    first=engine.FIRST,
                )
                assert run.seconds is not None
                mirrored = await sync.mirrored(time.monotonic() + 60)
                done, insights = None, 0
                if triage:
                    done, insights = await _until_triaged(path, time.monotonic() + triage_timeout_s)
                main_total = time.process_time() - cpu
            finally:
                await sync.stop()
                await trace.stop()
                counter.close()
    end = began + run.seconds
    last = done if done is not None else end
    return SyncRun(
        triage=triage,
        run=run,
        mirrored_s=mirrored - began,
        triaged_s=None if done is None else done - began,
        insights=insights,
        triage_cpu_s=trace.at(end) - trace.at(began),
        triage_cpu_total_s=trace.at(last) - trace.at(began),
        main_cpu_total_s=main_total,
    )


def _round(root: Path, dovecot: Dovecot, mailbox: Mailbox, plan: Plan, triage: bool) -> SyncRun:
    data = root / f"postwise-{'on' if triage else 'off'}"
    settings = engine.settings_for(data, parse_processes=os.cpu_count() or 1)
    engine.migrate(settings)
    os.sync()
    try:
        return asyncio.run(
            timed_sync(
                settings,
                dovecot,
                mailbox,
                expected=plan.messages,
                triage=triage,
                triage_timeout_s=plan.triage_timeout_s,
            )
        )
    finally:
        server.remove_tree(data)


def run(plan: Plan) -> Figures:
    if not Path(DOVECOT).exists():
        raise BenchError(f"{DOVECOT} is missing (scripts/services.sh dovecot)")
    root = Path(tempfile.mkdtemp(prefix="postwise-bench-ai-sync-"))
    root.chmod(0o755)  # Dovecot's mail processes run as another user
    dovecot: Dovecot | None = None
    try:
        dovecot = server.start(root / "dovecot")
        step(f"generating {plan.messages:,} messages (seed {plan.seed}), warming Dovecot")
        mailbox, corpus = _mailbox(
            dovecot, plan.messages, seed=plan.seed, inbox_only=False, warm_bodies=None
        )
        figures = Figures(corpus)
        for number in range(plan.rounds):
            # Alternating which goes first: a drift of the machine weighs on both alike.
            for triage in (False, True) if number % 2 == 0 else (True, False):
                label = f"round {number + 1}/{plan.rounds}: triage {'on' if triage else 'off'}"
                step(f"{label}: full initial sync")
                result = _round(root, dovecot, mailbox, plan, triage)
                tail = (
                    f", every message triaged at {result.triaged_s:.1f} s"
                    if result.triaged_s is not None
                    else (f", {result.insights:,} triaged" if triage else "")
                )
                step(f"{label}: {result.seconds:.2f} s{tail}")
                figures.runs.append(result)
        return figures
    finally:
        if dovecot is not None:
            dovecot.stop()
        server.remove_tree(root)


def _spread(values: list[float], unit: str) -> str:
    return "" if len(values) < 2 else f" (rounds: {', '.join(f'{v:.2f}{unit}' for v in values)})"


def report(f: Figures) -> str:
    off, on = f.median(False), f.median(True)
    count = f.corpus.count
    rounds = len(f.of(True))
    median = f", median of {rounds} rounds" if rounds > 1 else ""
    lags = [r.triaged_s - r.seconds for r in f.of(True) if r.triaged_s is not None]
    triaged = (
        f"{statistics.median(lags):.1f} s after the sync's end{_spread(lags, ' s')}"
        if len(lags) == rounds
        else f"not every message within the time allowed ({on.insights:,} of {count:,})"
    )
    figures = table(
        ("figure", "value", "target", "result"),
        [
            ("mailbox (bench.sync's, served by Dovecot)", f.corpus.describe(), "", ""),
            (
                f"full initial sync, triage off (`jobs=None`){median}",
                f"{off.seconds:.2f} s ({count / off.seconds:,.0f} msg/s)"
                + _spread([r.seconds for r in f.of(False)], " s"),
                "",
                "",
            ),
            (
                f"full initial sync, triage on (`ai.triage` jobs and the schedules, as in "
                f"`postwise serve`){median}",
                f"{on.seconds:.2f} s ({count / on.seconds:,.0f} msg/s)"
                + _spread([r.seconds for r in f.of(True)], " s"),
                "",
                "",
            ),
            (
                "ratio on ÷ off, median of the rounds",
                f"{f.ratio:.2f}x" + _spread(f.ratios, "x"),
                f"≤ {TARGET_RATIO:.2f}x",
                verdict(f.ratio <= TARGET_RATIO),
            ),
            ("last message triaged (triage on)", triaged, "", ""),
            ("… triaged after the mirror ended (the backfill schedule)", _after(f), "", ""),
        ],
    )
    noisy = [r.run.others for r in f.runs if r.run.others is not None]
    note = noise_note(max(noisy), "a sync") if noisy else None
    return "\n\n".join([figures, _cpu_table(off, on), *([note] if note else [])])


def _cpu_table(off: SyncRun, on: SyncRun) -> str:
    def cores(run: SyncRun) -> str:
        busy = run.busy_cores
        return "n/a" if busy is None else f"{busy:.2f}"

    def others(run: SyncRun) -> str:
        noise = run.run.others
        return "n/a" if noise is None else f"{noise:.2f}"

    rows = [
        ("wall s (the sync's clock)", f"{off.seconds:.2f}", f"{on.seconds:.2f}"),
        (
            "CPU s: the Postwise process (loop, IMAP and blob threads, SQLite; with triage "
            "on also the jobs' queries and learning)",
            f"{off.run.main_cpu_s:.2f}",
            f"{on.run.main_cpu_s:.2f}",
        ),
        (
            "… of which the event loop / SQLite's threads",
            f"{off.run.thread_cpu.get('loop', 0):.2f} / {off.run.thread_cpu.get('sqlite', 0):.2f}",
            f"{on.run.thread_cpu.get('loop', 0):.2f} / {on.run.thread_cpu.get('sqlite', 0):.2f}",
        ),
        (
            f"CPU s: the {on.run.parse_processes} MIME parse processes",
            f"{off.parse_cpu_s:.2f}",
            f"{on.parse_cpu_s:.2f}",
        ),
        (
            "CPU s: the triage process (while the sync ran)",
            f"{off.triage_cpu_s:.2f}",
            f"{on.triage_cpu_s:.2f}",
        ),
        ("CPU s: Dovecot", f"{off.run.dovecot_cpu_s:.2f}", f"{on.run.dovecot_cpu_s:.2f}"),
        ("machine busy while the sync ran, cores (of 2)", cores(off), cores(on)),
        ("… of which other processes (noise)", others(off), others(on)),
        (
            "after the sync, until the last insight: wall s / CPU s of the triage process / "
            "of the Postwise process",
            "",
            _tail(on),
        ),
    ]
    return table(("median runs", "triage off", "triage on"), rows)


def _after(f: Figures) -> str:
    """What the backfill made of the mailbox once the first mirror was recorded done."""
    runs = [r for r in f.of(True) if r.triaged_s is not None]
    if not runs:
        return "n/a"
    gaps = [r.mirrored_s - r.seconds for r in runs]
    spans = [r.triaged_s - r.mirrored_s for r in runs if r.triaged_s is not None]
    span = statistics.median(spans)
    return (
        f"mirror recorded done {statistics.median(gaps):.1f} s after the clock stopped; "
        f"then {span:.1f} s until the last insight ({f.corpus.count / span:,.0f} msg/s "
        "on average, pauses between the schedule's runs included)"
    )


def _tail(run: SyncRun) -> str:
    if run.triaged_s is None:
        return "not finished"
    return (
        f"{run.triaged_s - run.seconds:.1f} / {run.triage_cpu_total_s - run.triage_cpu_s:.1f} / "
        f"{run.main_cpu_total_s - run.run.main_cpu_s:.1f}"
    )


METHOD = """\
Method. bench.sync's mailbox, Dovecot, warm-up and clock (`bench.sync.engine._timed`: from the
sync task's start until a read-only connection sees every message in the database), with the
sync running inside `postwise.runtime.open_runtime` as the API process runs it (one engine and
session factory, the in-process broker with every job registered, the assistant's services,
the MIME parse pool of one process per core started and warm). The triage pool's process is
started and its models trained before the clock in both modes. Triage off: the sync context's
`jobs` is None and no schedule runs, so nothing is triaged. Triage on: the sync context gets
the runtime's job queue, so each committed batch sends `ai.triage` (`events.request_triage`),
and the schedules run in the same process as in `postwise serve` (`ai.backfill` every 20 s, at
most 8 s a run, in transactions of 100 messages that hand the local model to the pool's
process). When the clock stops, the sync is not cut short: it goes on until the account
records the end of its first mirror (as it would in the app), and with triage on the run then
waits until every stored message has its insight. Each run starts from a fresh, migrated
SQLite database; the rounds alternate which mode goes first. CPU: this process
(`time.process_time`, and per thread from /proc), the triage process from /proc sampled every
0.1 s, the parse processes as the rest of the children."""


def docs(f: Figures, command: str) -> str:
    return docs_block(
        "sync", title="Sync with triage on and off", command=command, body=[report(f), METHOD]
    )
