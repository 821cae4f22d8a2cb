"""The backfill of a 100,000-message mailbox in the background while a reader scrolls the thread
list: `GET /api/threads` latency against a real `postwise serve`, idle and while the mail is
triaged.

The mailbox is bench.mail's (`seed_mailbox`: conversations over two years, 80 % in INBOX, written
straight into the migrated database); its rows then get the contents of bench.sync's generated
messages (subject, sender, recipients, body, list and bulk headers), so that triage reads what
real mail holds rather than bench.mail's one-line texts. The user's own address is the generated
mail's recipient (a send-as address), so "to me" and "cc me" mean what they say.

Three phases, each with a fresh server on the same database and bench.mail's scrolling client
(one, sequential):
1. idle: the server with `POSTWISE_AI_TRIAGE=false`;
2. embedded (`make run`): the server with triage on runs the `ai.backfill` schedule itself (a
   run of at most 8 s every 20 s, in the API's process and its triage pool); latency while a run
   is triaging vs between runs (told apart by the count of insights, read every 0.25 s);
3. worker: the server with triage off, and a worker process (`bench.ai.worker`) on the same
   database running `ai.backfill` back to back until every message has its insight.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import bindparam, create_engine, select, text, update

from bench.ai.common import (
    Sample,
    docs_block,
    ms,
    noise_note,
    percentile,
    samples,
    step,
    table,
    verdict,
)
from bench.auth.server import (
    Argon2Parameters,
    BenchError,
    free_port,
    migrate,
    running_server,
    seed_users,
    server_environment,
)
from bench.mail.threads import EMAIL, PASSWORD, _client, seed_mailbox
from bench.sync import proc
from bench.sync.generate import SENT, Corpus
from bench.sync.proc import tree_cpu
from postwise.accounts.models import MailAccount, SyncState
from postwise.mail.models import Folder, Message
from postwise.mime.parse import ParsedMessage
from postwise.search.index import FTS_TABLE, SQLITE_UPGRADE

TARGET_FACTOR = 2.0  # p95 while backfilling ÷ idle p95 (issue 15)
SAMPLE_S = 0.25
# Polls of the insight count that saw no change, closer together than this, are one run.
MERGE_S = 1.0
READY_TIMEOUT_S = 180.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Plan:
    messages: int = 100_000
    contents: int = 2000  # distinct generated messages the rows take their contents from
    seed: int = 1
    warm_s: float = 5.0
    idle_s: float = 10.0
    embedded_s: float = 45.0  # 0: no embedded phase
    worker_timeout_s: float = 900.0


@dataclass(frozen=True)
class Window:
    latencies: list[float]  # seconds
    seconds: float
    server_cpu_s: float
    errors: int

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    def describe(self) -> str:
        return f"{ms(self.p(0.5))} / {ms(self.p(0.95))} ({len(self.latencies):,} requests" + (
            f", {self.errors} not 200)" if self.errors else ")"
        )

    @property
    def cpu_per_page_ms(self) -> float:
        return self.server_cpu_s / max(1, len(self.latencies)) * 1000


@dataclass(frozen=True)
class Embedded:
    during: Window  # requests that started while a backfill run was writing insights
    between: Window  # the others, between the schedule's runs
    seconds: float
    triaged: int
    runs: int
    server_cpu_s: float  # the server process and its triage pool, the whole window

    @property
    def active_s(self) -> float:
        return self.during.seconds


@dataclass(frozen=True)
class Worker:
    window: Window
    messages: int
    seconds: float
    runs: int
    cpu_s: float  # the worker process (event loop, SQLite)
    pool_cpu_s: float  # its triage pool's process
    left: int  # messages without an insight when it ended
    others_cores: float | None  # other processes' CPU while it ran (noise)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Figures:
    messages: int
    threads: int
    contents: int
    seed_s: float
    idle: Window
    embedded: Embedded | None
    worker: Worker


# -- the mailbox ------------------------------------------------------------------------------


def _columns(parsed: ParsedMessage) -> dict[str, Any]:
    """The columns the sync's ingest fills from a parsed message that triage reads
    (`mail.ingest._message_values`); written here because that function builds whole rows
    from an IMAP fetch."""
    extra: dict[str, Any] = {}
    if parsed.precedence:
        extra["precedence"] = parsed.precedence
    if parsed.auto_submitted:
        extra["auto_submitted"] = parsed.auto_submitted
    if parsed.has_calendar:
        extra["calendar"] = True
    return {
        "subject": parsed.subject,
        "from_name": parsed.from_.name if parsed.from_ else "",
        "from_address": parsed.from_.address if parsed.from_ else "",
        "to": [{"name": a.name, "address": a.address} for a in parsed.to],
        "cc": [{"name": a.name, "address": a.address} for a in parsed.cc],
        "body_text": parsed.text,
        "quote_offset": parsed.quote_offset,
        "signature_offset": parsed.signature_offset,
        "has_attachments": any(not a.is_inline for a in parsed.attachments),
        "list_id": parsed.list_id,
        "list_unsubscribe": parsed.list_unsubscribe,
        "extra": extra,
    }


def fill_contents(data_dir: Path, contents: Sequence[Sample], owner: str) -> None:
    """Give every message the contents of a generated one (Sent rows a sent one), in turn.

    The full-text index's update trigger is dropped meanwhile and put back after: the index
    keeps bench.mail's texts (neither the backfill nor the thread list reads it), and 100,000
    rows are rewritten in seconds instead of reindexed for minutes."""
    sent = [s.parsed for s in contents if s.folder == SENT]
    received = [s.parsed for s in contents if s.folder != SENT]
    trigger = next(s for s in SQLITE_UPGRADE if s.startswith(f"CREATE TRIGGER {FTS_TABLE}_update"))
    engine = create_engine(f"sqlite:///{(data_dir / 'postwise.db').resolve()}")
    try:
        with engine.begin() as db:
            db.execute(text(f"DROP TRIGGER {FTS_TABLE}_update"))
            rows = db.execute(
                select(Message.id, Folder.role).join(Folder, Message.folder_id == Folder.id)
            ).all()
            values = []
            for n, (row_id, role) in enumerate(rows):
                source = sent if role == "sent" and sent else received
                values.append({"row_id": row_id, **_columns(source[n % len(source)])})
            db.execute(update(Message).where(Message.id == bindparam("row_id")), values)
            db.execute(text(trigger))
            # Mirrored (as an import or a finished first sync leaves it): the assistant leaves
            # a mailbox still in its first mirror alone.
            db.execute(
                update(MailAccount).values(
                    send_as=f'[{{"name": "", "address": "{owner}"}}]',
                    sync_state=SyncState.IDLE,
                    last_synced_at=datetime.now(UTC),
                )
            )
    finally:
        engine.dispose()


def prepare(data_dir: Path, env: dict[str, str], plan: Plan) -> tuple[int, float]:
    """A migrated database with the bench user and the mailbox; (threads, seconds)."""
    migrate(env, data_dir / "server.log")
    seed_users(data_dir, [EMAIL], Argon2Parameters.server_defaults().hasher().hash(PASSWORD))
    began = time.perf_counter()
    threads = seed_mailbox(data_dir, plan.messages, seed=plan.seed)
    contents = samples(min(plan.contents, plan.messages), seed=plan.seed)
    fill_contents(data_dir, contents, Corpus(plan.seed).user.address)
    return threads, time.perf_counter() - began


# -- measuring ----------------------------------------------------------------------------------


class _Stamped(list[float]):
    """bench.mail's client appends each request's latency here; this also notes when each
    request started, to tell which ones ran while a backfill run was triaging."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[float] = []

    def append(self, value: float) -> None:
        self.starts.append(time.perf_counter() - value)
        super().append(value)

    def split(self, spans: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
        """(latencies of requests that started within one of `spans`, the others)."""
        inside: list[float] = []
        outside: list[float] = []
        for began, value in zip(self.starts, self, strict=True):
            hit = any(a <= began < b for a, b in spans)
            (inside if hit else outside).append(value)
        return inside, outside


class _Progress:
    """The number of insights, read every 0.25 s through a read-only connection (WAL: it
    never waits for the writer)."""

    def __init__(self, path: Path) -> None:
        # Read in a worker thread only (never on the loop the client's clock runs on).
        self.connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=5, check_same_thread=False
        )
        self.samples: list[tuple[float, int]] = []
        self._task: asyncio.Task[None] | None = None

    def _count(self) -> int:
        return int(self.connection.execute("SELECT count(*) FROM message_insights").fetchone()[0])

    @property
    def last(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    async def _run(self) -> None:
        while True:
            self.samples.append((time.perf_counter(), await asyncio.to_thread(self._count)))
            await asyncio.sleep(SAMPLE_S)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.connection.close()

    def active_spans(self) -> list[tuple[float, float]]:
        return active_spans(self.samples)


def active_spans(samples: Sequence[tuple[float, int]]) -> list[tuple[float, float]]:
    """When insights were being written: the polls that saw the count grow, merged when
    they are close (a run commits every 100 messages, not at every poll)."""
    spans: list[tuple[float, float]] = []
    for (t0, c0), (t1, c1) in itertools.pairwise(samples):
        if c1 <= c0:
            continue
        if spans and t0 - spans[-1][1] <= MERGE_S:
            spans[-1] = (spans[-1][0], t1)
        else:
            spans.append((t0, t1))
    return spans


def _login(base_url: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login",
        json={"email": EMAIL, "password": PASSWORD},
        headers={"X-Postwise-Client": "api"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _scroll(base_url: str, token: str, seconds: float, into: list[float]) -> int:
    errors: list[int] = []
    rng = random.Random(len(into))
    await _client(base_url, token, time.perf_counter() + seconds, into, errors, rng)
    return len(errors)


async def _idle(base_url: str, pid: int, plan: Plan) -> Window:
    token = _login(base_url)
    await _scroll(base_url, token, plan.warm_s, [])
    latencies: list[float] = []
    cpu = tree_cpu(pid)
    errors = await _scroll(base_url, token, plan.idle_s, latencies)
    return Window(latencies, plan.idle_s, tree_cpu(pid) - cpu, errors)


async def _embedded(base_url: str, pid: int, db: Path, plan: Plan) -> Embedded:
    token = _login(base_url)
    progress = _Progress(db)
    progress.start()
    try:
        deadline = time.perf_counter() + 60
        while progress.last == 0:  # the schedule's first run
            if time.perf_counter() > deadline:
                raise BenchError("the server's ai.backfill schedule did not run within 60 s")
            await asyncio.sleep(SAMPLE_S)
        stamped = _Stamped()
        cpu, began = tree_cpu(pid), time.perf_counter()
        errors = await _scroll(base_url, token, plan.embedded_s, stamped)
        cpu, ended = tree_cpu(pid) - cpu, time.perf_counter()
    finally:
        await progress.stop()
    spans = [(max(a, began), min(b, ended)) for a, b in progress.active_spans() if b > began]
    during, between = stamped.split(spans)
    active = sum(b - a for a, b in spans)
    counts = [c for t, c in progress.samples if began <= t <= ended]
    return Embedded(
        during=Window(during, active, 0.0, errors),
        between=Window(between, ended - began - active, 0.0, 0),
        seconds=ended - began,
        triaged=(counts[-1] - counts[0]) if counts else 0,
        runs=len(spans),
        server_cpu_s=cpu,
    )


async def _worker(
    base_url: str, pid: int, data_dir: Path, env: dict[str, str], plan: Plan
) -> Worker:
    """Start the worker, let it warm its pool, then scroll until it has triaged everything."""
    token = _login(base_url)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.ai.worker",
        str(data_dir),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), READY_TIMEOUT_S)
        if line.strip() != b"ready":
            raise BenchError(f"the backfill worker did not start: {line!r}")
        finished: list[float] = []
        waiting = asyncio.create_task(child.wait())
        waiting.add_done_callback(lambda _: finished.append(time.perf_counter()))
        stamped = _Stamped()
        errors = 0
        cpu, began = tree_cpu(pid), time.perf_counter()
        own, machine = time.process_time(), proc.machine()
        child.stdin.write(b"go\n")
        await child.stdin.drain()
        while not waiting.done():
            if time.perf_counter() - began > plan.worker_timeout_s:
                raise BenchError(f"the backfill took over {plan.worker_timeout_s:.0f} s")
            # Short scrolls, so that the phase ends soon after the worker does.
            errors += await _scroll(base_url, token, 2.0, stamped)
        cpu = tree_cpu(pid) - cpu
        own, busy = time.process_time() - own, proc.busy_between(machine, proc.machine())
        ended = finished[0]
        output = (await child.stdout.read()).decode().strip().splitlines()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    if child.returncode != 0 or not output:
        raise BenchError(f"the backfill worker failed (exit {child.returncode})")
    result = json.loads(output[-1])
    others = None
    if busy is not None:
        used = cpu + own + float(result["cpu_s"]) + float(result["pool_cpu_s"])
        others = max(0.0, (busy - used) / (ended - began))
    during, _after = stamped.split([(began, ended)])
    with sqlite3.connect(f"file:{data_dir / 'postwise.db'}?mode=ro", uri=True) as db:
        left = db.execute(
            "SELECT count(*) FROM messages m WHERE NOT m.is_draft AND NOT EXISTS "
            "(SELECT 1 FROM message_insights i WHERE i.message_id = m.id)"
        ).fetchone()[0]
    return Worker(
        window=Window(during, ended - began, cpu, errors),
        messages=int(result["messages"]),
        seconds=float(result["seconds"]),
        runs=int(result["runs"]),
        cpu_s=float(result["cpu_s"]),
        pool_cpu_s=float(result["pool_cpu_s"]),
        left=int(left),
        others_cores=others,
    )


def run(plan: Plan) -> Figures:
    with tempfile.TemporaryDirectory(prefix="postwise-bench-ai-backfill-") as tmp:
        data_dir, copy = Path(tmp) / "worker", Path(tmp) / "embedded"
        data_dir.mkdir()
        port = free_port()
        quiet = {**server_environment(data_dir, port), "POSTWISE_AI_TRIAGE": "false"}
        step(f"writing a {plan.messages:,}-message mailbox, {plan.contents:,} generated contents")
        threads, seed_s = prepare(data_dir, quiet, plan)
        if plan.embedded_s > 0:
            # The embedded phase triages part of the mailbox: it gets a copy of its own, so
            # that the worker's backfill is the whole mailbox's.
            shutil.copytree(data_dir, copy)
        step(f"idle: the thread list for {plan.idle_s:.0f} s, triage off")
        with running_server(data_dir, quiet, port) as server:
            idle = asyncio.run(_idle(server.base_url, server.pid, plan))
        step("worker: ai.backfill back to back in a worker process, until every message is done")
        with running_server(data_dir, quiet, port) as server:
            worker = asyncio.run(_worker(server.base_url, server.pid, data_dir, quiet, plan))
        step(f"{worker.messages:,} messages in {worker.seconds:.1f} s")
        embedded = None
        if plan.embedded_s > 0:
            step(f"embedded: `postwise serve` runs the backfill schedule, {plan.embedded_s:.0f} s")
            on = {**server_environment(copy, port), "POSTWISE_AI_TRIAGE": "true"}
            with running_server(copy, on, port) as server:
                embedded = asyncio.run(
                    _embedded(server.base_url, server.pid, copy / "postwise.db", plan)
                )
    return Figures(
        messages=plan.messages,
        threads=threads,
        contents=min(plan.contents, plan.messages),
        seed_s=seed_s,
        idle=idle,
        embedded=embedded,
        worker=worker,
    )


# -- the report ---------------------------------------------------------------------------------


def report(f: Figures) -> str:
    idle95 = f.idle.p(0.95)
    limit = TARGET_FACTOR * idle95
    w = f.worker
    target = f"≤ {TARGET_FACTOR:.0f}x idle p95 ({ms(limit)})"
    rows = [
        (
            "mailbox (bench.mail's, SQLite)",
            f"{f.messages:,} messages, {f.threads:,} conversations; contents of "
            f"{f.contents:,} generated messages",
            "",
            "",
        ),
        ("thread list, idle (triage off): p50 / p95", f.idle.describe(), "", ""),
        (
            "backfill in a worker process (`ai.backfill` back to back, 100 messages a "
            "transaction): all messages",
            f"{w.seconds:.1f} s, {w.rate:,.0f} msg/s ({w.messages:,} triaged in {w.runs} runs, "
            f"{w.left:,} left)",
            "",
            "",
        ),
        (
            "thread list during it: p50 / p95",
            w.window.describe(),
            target,
            verdict(w.window.p(0.95) <= limit and w.left == 0),
        ),
    ]
    e = f.embedded
    if e is not None:
        rows += [
            (
                f"backfill in `postwise serve` itself (its schedule: a run of ≤ 8 s every 20 s), "
                f"{e.seconds:.0f} s",
                f"{e.triaged:,} triaged: {e.triaged / e.seconds:,.0f} msg/s on average, "
                f"{e.triaged / max(e.active_s, 1e-9):,.0f} msg/s while a run triaged "
                f"({e.runs} runs, {e.active_s:.0f} s)",
                "",
                "",
            ),
            (
                "thread list while a run triaged: p50 / p95",
                e.during.describe(),
                target,
                verdict(e.during.p(0.95) <= limit),
            ),
            ("… between runs: p50 / p95", e.between.describe(), "", ""),
        ]
    figures = table(("figure", "value", "target", "result"), rows)
    per = 1000 / max(1, w.messages)
    detail_rows = [
        (
            "server CPU per page: idle / during the worker's backfill",
            f"{f.idle.cpu_per_page_ms:.2f} ms / {w.window.cpu_per_page_ms:.2f} ms",
        ),
        (
            "worker CPU per message: its process (queries, learning, writes) / its triage "
            "pool's process",
            f"{w.cpu_s * per:.2f} ms / {w.pool_cpu_s * per:.2f} ms",
        ),
        (
            "worker cores while it ran: process / triage pool",
            f"{w.cpu_s / w.seconds:.2f} / {w.pool_cpu_s / w.seconds:.2f}",
        ),
    ]
    if e is not None:
        detail_rows.append(
            (
                "embedded: cores of the server (API, backfill, its triage pool) over the window",
                f"{e.server_cpu_s / e.seconds:.2f}",
            )
        )
    detail_rows.append(("not timed: writing the mailbox and its contents", f"{f.seed_s:.1f} s"))
    note = noise_note(w.others_cores, "the worker's backfill")
    return "\n\n".join(
        [figures, table(("detail", "value"), detail_rows), *([note] if note else [])]
    )


METHOD = """\
Method. bench.mail's mailbox is written into a migrated SQLite database (bench.mail's
`seed_mailbox`), then every row gets the contents of one of bench.sync's generated messages in
turn (Sent rows a sent one): subject, sender, recipients, body with its quote and signature
offsets, attachments, List-Id, List-Unsubscribe, Precedence, Auto-Submitted and calendar parts,
as the sync's ingest stores them; the user's account gets the generated mail's recipient as a
send-as address and is marked mirrored (as an import or a finished first sync leaves it: the
assistant leaves a mailbox in its first mirror for later). A real `postwise serve`
(bench.auth's, `POSTWISE_ENV=dev`) answers one sequential client that scrolls like a reader
(bench.mail's: the first page of 50, then a few pages further with the cursors given, then the
top again). Idle: triage off, 5 s of warm-up, then the measured window. Worker: the server
with triage off and `python -m bench.ai.worker` (the runtime a `postwise worker` builds, on the
same database: its event loop, aiosqlite and a one-process triage pool) running the
`ai.backfill` job back to back until a run finds nothing; its time, messages and CPU are its
own; the latencies are those of requests started while it ran. Embedded: the server with
triage on, whose own scheduler starts `ai.backfill` (a run of at most 8 s every 20 s) in the
API's process, on a copy of the database taken before anything was triaged; a read-only
connection counts insights every 0.25 s, and requests that started while the count was
growing are "while a run triaged". The target (issue 15) is p95 within 2x idle."""


def docs(f: Figures, command: str) -> str:
    return docs_block(
        "backfill",
        title="Backfill while reading the thread list",
        command=command,
        body=[report(f), METHOD],
    )
