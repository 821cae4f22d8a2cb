"""Timing the mix: both engines, query after query, in the same rounds.

Each round runs every query once through HTTP and once through notmuch, back to back, so that
whatever else the machine does at some moment falls on both and on every query alike (blocks of
one query, then the next, would hand a noisy second to a single query of one side). One warm-up
pass comes first: it fills both engines' caches and checks every answer.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.search import peer
from bench.search.api import Page, SearchClient, read_page
from bench.search.queries import Query
from bench.sync import proc


@dataclass
class Timing:
    query: Query
    postwise_s: list[float] = field(default_factory=list)
    notmuch_s: list[float] = field(default_factory=list)
    page: Page | None = None  # Postwise's first page in the warm-up
    notmuch_lines: int = 0  # threads notmuch printed (at most a page)
    notmuch_threads: int | None = None  # all the threads notmuch finds
    notmuch_messages: int | None = None

    @property
    def comparable(self) -> bool:
        return self.query.notmuch is not None


@dataclass(frozen=True, slots=True)
class Window:
    """What the machine did while the timed rounds ran."""

    seconds: float
    requests: int
    processes: int
    server_cpu_s: float  # the `postwise serve` process
    notmuch_cpu_s: float  # every notmuch process (waited for, so in RUSAGE_CHILDREN)
    bench_cpu_s: float  # this process: the HTTP client, spawning notmuch
    machine_busy_s: float | None
    statuses: dict[int, int]  # answers other than 200 in the timed rounds

    @property
    def others(self) -> float | None:
        """Cores used by other processes than these three (noise)."""
        if self.machine_busy_s is None:
            return None
        used = self.server_cpu_s + self.notmuch_cpu_s + self.bench_cpu_s
        return max(0.0, (self.machine_busy_s - used) / self.seconds)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: a value that was measured."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


async def _warm(client: SearchClient, nm: peer.Notmuch, timings: list[Timing]) -> None:
    for timing in timings:
        query = timing.query
        status, body = await client.send(client.request(query.postwise))
        timing.page = read_page(status, body, query.postwise)
        if query.notmuch is not None:
            _, timing.notmuch_lines = peer.search(nm, nm.search_argv(query.notmuch))
            timing.notmuch_threads = peer.count(nm, query.notmuch, threads=True)
            timing.notmuch_messages = peer.count(nm, query.notmuch)


async def _rounds(
    client: SearchClient, nm: peer.Notmuch, timings: list[Timing], rounds: int
) -> Counter[int]:
    statuses: Counter[int] = Counter()
    requests = [client.request(t.query.postwise) for t in timings]
    argvs = [nm.search_argv(t.query.notmuch) if t.query.notmuch else None for t in timings]
    for _ in range(rounds):
        for timing, raw, argv in zip(timings, requests, argvs, strict=True):
            started = time.perf_counter()
            status, _body = await client.send(raw)
            timing.postwise_s.append(time.perf_counter() - started)
            if status != 200:
                statuses[status] += 1
            if argv is not None:
                seconds, _lines = peer.search(nm, argv)
                timing.notmuch_s.append(seconds)
    return statuses


async def _measure(
    client: SearchClient, nm: peer.Notmuch, timings: list[Timing], rounds: int, server_pid: int
) -> Window:
    try:
        await _warm(client, nm, timings)
        server_before = proc.tree_cpu(server_pid)
        children_before = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
        self_before = _cpu(resource.getrusage(resource.RUSAGE_SELF))
        machine_before = proc.machine()
        started = time.monotonic()
        statuses = await _rounds(client, nm, timings, rounds)
        seconds = time.monotonic() - started
        machine_busy = proc.busy_between(machine_before, proc.machine())
        self_cpu = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - self_before
        notmuch_cpu = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - children_before
        server_cpu = proc.tree_cpu(server_pid) - server_before
    finally:
        await client.close()
    return Window(
        seconds=seconds,
        requests=sum(len(t.postwise_s) for t in timings),
        processes=sum(len(t.notmuch_s) for t in timings),
        server_cpu_s=server_cpu,
        notmuch_cpu_s=notmuch_cpu,
        bench_cpu_s=self_cpu,
        machine_busy_s=machine_busy,
        statuses=dict(statuses),
    )


def measure(
    base_url: str,
    token: str,
    nm: peer.Notmuch,
    queries: Sequence[Query],
    *,
    rounds: int,
    server_pid: int,
) -> tuple[list[Timing], Window]:
    timings = [Timing(query) for query in queries]
    client = SearchClient(base_url, token)
    window = asyncio.run(_measure(client, nm, timings, rounds, server_pid))
    return timings, window


def settle(*, timeout_s: float = 30.0) -> float:
    """Wait until the machine is quiet (the server's start-up work, writeback after the
    import), at most `timeout_s`; returns the busy cores of the last second."""
    deadline = time.monotonic() + timeout_s
    busy = float(os.cpu_count() or 1)
    while time.monotonic() < deadline:
        before = proc.machine()
        time.sleep(1.0)
        after = proc.machine()
        used = proc.busy_between(before, after)
        if used is None:
            return 0.0
        busy = used / (after.at - before.at)
        if busy < 0.1:
            break
    return busy
