"""Local triage throughput: the pure function every new message goes through
(`postwise.ai.pool.triage_batch`: header signals, the two shipped models, the one-line summary
and action items), on one core, then through the one-process pool the server uses.

The messages are bench.sync's generated mailbox (conversations, newsletters, notifications, mail
with attachments), parsed with Postwise's MIME parser and made into views as `postwise eval`
does. The per-core figure is messages per CPU second of the process that triaged them (its
wall clock is shown too: on a quiet machine they agree, on a busy one the CPU figure is the one
that says what a core does).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.ai.common import (
    Sample,
    docs_block,
    noise_note,
    process_cpu,
    samples,
    start_triage_process,
    step,
    table,
    verdict,
)
from bench.sync import proc
from postwise.ai.mailview import MailView
from postwise.ai.pool import TriagePool, triage_batch

TARGET_PER_CORE = 500.0  # messages per second per core (issue 15)
CHUNK = 100  # what an ai.triage or ai.backfill job hands the pool at once (ai.tasks.CHUNK)


@dataclass(frozen=True)
class Plan:
    messages: int = 3000
    seed: int = 1
    rounds: int = 3


@dataclass(frozen=True)
class Round:
    wall_s: float
    cpu_s: float


@dataclass(frozen=True)
class Figures:
    messages: int
    kinds: dict[str, int]  # generator kind: count
    categories: dict[str, int]  # what triage said
    prepare_s: float  # generating and parsing, not timed
    warm_s: float  # the first call in this process: training the shipped models
    rounds: list[Round]
    kind_ms: dict[str, float]  # CPU ms per message, by generator kind
    pool_wall_s: float
    pool_child_cpu_s: float  # the pool's process
    pool_parent_cpu_s: float  # this process: pickling views and results
    pool_warm_s: float
    others_cores: float | None  # other processes' CPU while the rounds ran (noise)

    @property
    def best(self) -> Round:
        return min(self.rounds, key=lambda r: r.cpu_s)

    @property
    def per_core(self) -> float:
        """Messages per CPU second, the median round."""
        return self.messages / statistics.median(r.cpu_s for r in self.rounds)

    @property
    def wall_rate(self) -> float:
        return self.messages / statistics.median(r.wall_s for r in self.rounds)

    @property
    def pool_rate(self) -> float:
        return self.messages / self.pool_wall_s

    @property
    def pool_child_rate(self) -> float:
        return self.messages / self.pool_child_cpu_s if self.pool_child_cpu_s else 0.0


def _timed(views: Sequence[MailView], now: datetime) -> Round:
    wall, cpu = time.perf_counter(), time.process_time()
    triage_batch(views, now)
    return Round(time.perf_counter() - wall, time.process_time() - cpu)


async def _through_pool(
    views: Sequence[MailView], now: datetime
) -> tuple[float, float, float, float]:
    """(warm-up s, wall s, pool process CPU s, this process's CPU s) for `views` handed to
    `TriagePool(1)` a job's chunk at a time."""
    pool = TriagePool(1)
    try:
        began = time.perf_counter()
        pid = await start_triage_process(pool)
        warm = time.perf_counter() - began
        child_before = process_cpu(pid) or 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(views), CHUNK):
            await pool.triage(views[start : start + CHUNK], now=now)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        child = (process_cpu(pid) or child_before) - child_before
        return warm, wall, child, cpu
    finally:
        pool.close()


def run(plan: Plan) -> Figures:
    step(f"generating and parsing {plan.messages:,} messages (seed {plan.seed})")
    began = time.perf_counter()
    mail = samples(plan.messages, seed=plan.seed)
    prepared = time.perf_counter() - began
    views = [s.view for s in mail]
    now = datetime.now(UTC)
    step("warming up: the first triage trains the shipped models")
    began = time.perf_counter()
    triage_batch(views[:1], now)
    warm = time.perf_counter() - began
    step(f"triage_batch over {len(views):,} messages, {plan.rounds} rounds")
    before = proc.machine()
    own_before = proc.tree_cpu(os.getpid())
    rounds = [_timed(views, now) for _ in range(plan.rounds)]
    busy = proc.busy_between(before, proc.machine())
    own = proc.tree_cpu(os.getpid()) - own_before
    wall = sum(r.wall_s for r in rounds)
    others = None if busy is None or wall <= 0 else max(0.0, (busy - own) / wall)
    results = triage_batch(views, now)
    step("by kind of mail")
    kind_ms = _by_kind(mail, now)
    step("through TriagePool(1), 100 messages a call")
    pool_warm, pool_wall, child, parent = asyncio.run(_through_pool(views, now))
    return Figures(
        messages=len(views),
        kinds=dict(Counter(s.kind for s in mail)),
        categories=dict(Counter(r.category.value for r in results)),
        prepare_s=prepared,
        warm_s=warm,
        rounds=rounds,
        kind_ms=kind_ms,
        pool_wall_s=pool_wall,
        pool_child_cpu_s=child,
        pool_parent_cpu_s=parent,
        pool_warm_s=pool_warm,
        others_cores=others,
    )


def _by_kind(mail: Sequence[Sample], now: datetime) -> dict[str, float]:
    groups: dict[str, list[MailView]] = {}
    for sample in mail:
        groups.setdefault(sample.kind, []).append(sample.view)
    return {
        kind: _timed(views, now).cpu_s / len(views) * 1000 for kind, views in sorted(groups.items())
    }


def report(f: Figures) -> str:
    spread = ", ".join(f"{f.messages / r.cpu_s:,.0f}" for r in f.rounds)
    mix = ", ".join(f"{k} {n / f.messages:.0%}" for k, n in sorted(f.kinds.items()))
    said = ", ".join(
        f"{k} {n / f.messages:.0%}" for k, n in sorted(f.categories.items(), key=lambda i: -i[1])
    )
    kinds = " / ".join(f"{k} {v:.2f}" for k, v in f.kind_ms.items())
    figures = table(
        ("figure", "value", "target", "result"),
        [
            (
                f"`triage_batch`, one process, one core: messages per CPU second, median of "
                f"{len(f.rounds)} rounds",
                f"{f.per_core:,.0f} msg/s (rounds: {spread})",
                f"≥ {TARGET_PER_CORE:,.0f} msg/s per core",
                verdict(f.per_core >= TARGET_PER_CORE),
            ),
            (
                "… the same by the wall clock",
                f"{f.wall_rate:,.0f} msg/s ({1000 / f.wall_rate:.2f} ms a message)",
                "",
                "",
            ),
            (
                f"through `TriagePool(1)` (the server's default), {CHUNK} messages a call: wall / "
                "per CPU second of the pool's process",
                f"{f.pool_rate:,.0f} msg/s / {f.pool_child_rate:,.0f} msg/s",
                f"≥ {TARGET_PER_CORE:,.0f} msg/s",
                verdict(f.pool_child_rate >= TARGET_PER_CORE),
            ),
        ],
    )
    details = table(
        ("detail", "value"),
        [
            ("messages (bench.sync's generator, parsed by Postwise)", f"{f.messages:,}: {mix}"),
            ("what triage said", said),
            ("CPU ms per message by kind of mail", kinds),
            (
                "pool: CPU s of its process / of the caller (pickling views and answers)",
                f"{f.pool_child_cpu_s:.2f} / {f.pool_parent_cpu_s:.2f}",
            ),
            (
                "not timed: generating + parsing / first call in this process (training the "
                "shipped models) / starting the pool's process (forking, imports, training)",
                f"{f.prepare_s:.1f} s / {f.warm_s:.2f} s / {f.pool_warm_s:.2f} s",
            ),
        ],
    )
    note = noise_note(f.others_cores, "the rounds")
    return "\n\n".join([figures, details, *([note] if note else [])])


METHOD = """\
Method. `bench.sync`'s generator makes the messages from a fixed seed; each is parsed with
`postwise.mime.parse.parse_message` and turned into a `MailView` with `view_of_parsed` (the
user's own address known, as triage sees stored mail). After one call that trains the shipped
models (once per process), `postwise.ai.pool.triage_batch` triages all of them in one call, a
few rounds; the figure is messages per CPU second of this process (`time.process_time`), the
wall clock beside it. Then a fresh `TriagePool(1)` (a forkserver process, as the server runs
it) gets the same messages 100 at a time, as the triage and backfill jobs hand them over; its
figure is by the wall clock and by the CPU of the pool's process."""


def docs(f: Figures, command: str) -> str:
    return docs_block(
        "triage",
        title="Local triage throughput",
        command=command,
        body=[report(f), METHOD],
    )
