"""The two measured phases, through the API of a running server, with the SMTP recorder as the
only clock that counts for delivery.

Latency: one draft at a time is written and sent with `send_at` one second ahead, a new one every
`interval` seconds; each figure is the recorder's 250 for that Message-ID minus its `send_at`
(the instant the undo window ends). Drain: many drafts are written first (not timed), then all
are sent with one common `send_at` far enough ahead that every send request has answered before
it; the figure is that instant to the last 250.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bench.auth.server import BenchError
from bench.compose.mailbox import Counts, MailboxWatch
from bench.compose.profile import Profiler
from bench.compose.recorder import Received, Recorder

RECIPIENT = "reader@bench.example"
BODY = "A line of the compose benchmark, long enough to look like a short real message.\n" * 12
T = TypeVar("T")


class Api:
    """The few calls the bench makes, as the web app makes them (bearer token, JSON)."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, headers=self.headers, **kwargs)
        if response.status_code != expect:
            raise BenchError(
                f"{method} {path} answered {response.status_code}: {response.text[:400]}"
            )
        return response.json() if response.content else None

    async def create_draft(self, account_id: str, subject: str) -> tuple[str, str]:
        """(draft id, the Message-ID it will be sent with)."""
        body = {
            "account_id": account_id,
            "to": [{"name": "Reader", "address": RECIPIENT}],
            "subject": subject,
            "text": BODY,
        }
        draft = await self.call("POST", "/api/drafts", 201, json=body)
        return str(draft["id"]), str(draft["message_id"]).strip("<>")

    async def send(self, draft_id: str, send_at: float) -> None:
        at = datetime.fromtimestamp(send_at, UTC).isoformat()
        await self.call("POST", f"/api/drafts/{draft_id}/send", 202, json={"send_at": at})

    async def outbox_statuses(self, draft_ids: set[str]) -> Counter[str]:
        answer = await self.call("GET", "/api/outbox", 200)
        return Counter(item["status"] for item in answer["items"] if item["id"] in draft_ids)


@dataclass(frozen=True)
class Sent:
    draft_id: str
    message_id: str
    send_at: float  # wall clock: the end of its undo window
    answered_at: float  # wall clock: the send request's 202


@dataclass(frozen=True)
class Delivery:
    """What the recorder and the mailbox saw of one phase's messages."""

    sent: list[Sent]
    receipts: list[Received]  # every 250 for a Message-ID of this phase, repeats included
    connections_opened: int  # TCP connections the SMTP server accepted during the phase
    filed: int  # messages the Sent folder gained
    filed_s: float  # from the last 250 until Sent held every copy (nan: not all came)
    drafts_left: int  # Drafts copies left behind (mirrors of sent messages not removed)
    cpu_s: dict[str, float]  # user + system seconds of each Postwise process over the phase
    statuses: Counter[str]  # the outbox's view of these drafts afterwards

    @property
    def first(self) -> dict[str, Received]:
        seen: dict[str, Received] = {}
        for receipt in sorted(self.receipts, key=lambda r: r.at):
            seen.setdefault(receipt.message_id, receipt)
        return seen

    @property
    def duplicates(self) -> int:
        return len(self.receipts) - len(self.first)

    @property
    def missing(self) -> int:
        return len({s.message_id for s in self.sent} - set(self.first))

    @property
    def connections_used(self) -> int:
        return len({r.connection for r in self.receipts})

    @property
    def late(self) -> int:
        """Send requests answered after their own `send_at` (their figure includes API time)."""
        return sum(1 for s in self.sent if s.answered_at > s.send_at)


@dataclass(frozen=True)
class Latency:
    delivery: Delivery
    send_request_s: list[float]

    @property
    def latencies(self) -> list[float]:
        first = self.delivery.first
        return [
            first[s.message_id].at - s.send_at for s in self.delivery.sent if s.message_id in first
        ]


@dataclass(frozen=True)
class Drain:
    delivery: Delivery
    send_request_s: list[float]
    lead_s: float  # how far ahead of the first send request the common send_at was
    mirrored_s: float  # waiting for the drafts' mirror copies before sending (not timed)
    mirrored: int  # drafts whose mirror copy reached the Drafts folder before sending

    def span(self) -> tuple[float, float]:
        """(send_at → first 250, send_at → last 250) in seconds."""
        send_at = self.delivery.sent[0].send_at
        times = [r.at for r in self.delivery.first.values()]
        if not times:
            return math.nan, math.nan
        return min(times) - send_at, max(times) - send_at


@dataclass(frozen=True)
class Plan:
    sends: int = 100
    interval_s: float = 0.25
    lead_s: float = 1.0
    drain: int = 500
    concurrency: int = 8
    stall_s: float = 60.0
    quiet_s: float = 2.0  # idle this long before a phase starts
    profile: Path | None = None  # py-spy profiles of the drain go here


@dataclass(frozen=True)
class Result:
    backend: str
    latency: Latency
    drain: Drain
    elapsed_s: float
    problems: Counter[str] = field(default_factory=Counter)  # logged warnings and errors


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


async def settle(pids: dict[str, int], *, window_s: float, cap_s: float = 180) -> float:
    """Wait until the Postwise processes are idle (each under 5 % of a core over `window_s`);
    returns the seconds waited."""
    began = time.perf_counter()
    while time.perf_counter() - began < cap_s:
        before = _cpu(pids)
        await asyncio.sleep(window_s)
        after = _cpu(pids)
        if all(after[name] - before[name] < 0.05 * window_s for name in pids):
            break
    return time.perf_counter() - began


async def _limited(jobs: Sequence[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def _collect(recorder: Recorder, sent: list[Sent], *, stall_s: float) -> list[Received]:
    """Every receipt of these Message-IDs, waiting until all arrived, or until nothing new came
    for `stall_s` after the last `send_at` (a missing message is then reported, not waited on)."""
    wanted = {s.message_id for s in sent}
    last_send_at = max(s.send_at for s in sent)
    progress_at = time.time()
    count = -1
    while True:
        receipts = [r for r in recorder.received() if r.message_id in wanted]
        if len(receipts) != count:
            count, progress_at = len(receipts), time.time()
        if {r.message_id for r in receipts} >= wanted:
            # A moment more, so that a second delivery right behind the first is counted.
            await asyncio.sleep(1.0)
            return [r for r in recorder.received() if r.message_id in wanted]
        if time.time() > max(last_send_at, progress_at) + stall_s:
            return receipts
        await asyncio.sleep(0.02)


@dataclass
class Phase:
    """The state a phase starts from, to tell its own effects apart."""

    api: Api
    recorder: Recorder
    watch: MailboxWatch
    pids: dict[str, int]
    stall_s: float
    counts: Counts | None = None
    opened: int = 0
    cpu: dict[str, float] = field(default_factory=dict)

    async def begin(self) -> None:
        self.counts = await self.watch.counts()
        self.opened = len(self.recorder.connections())
        self.cpu = _cpu(self.pids)

    async def end(self, sent: list[Sent]) -> Delivery:
        """Wait for the messages, then for their Sent copies (and the removal of their Drafts
        mirrors), so the CPU figure holds all the work one message costs."""
        assert self.counts is not None
        before = self.counts
        # Watched while the messages arrive, so the time they are all in Sent is not late by
        # the collection's own wait.
        filed = asyncio.create_task(
            self.watch.wait(
                lambda c: c.sent >= before.sent + len(sent) and c.drafts <= before.drafts,
                cap_s=max(s.send_at for s in sent) - time.time() + self.stall_s + len(sent),
            )
        )
        receipts = await _collect(self.recorder, sent, stall_s=self.stall_s)
        last = max((r.at for r in receipts), default=math.nan)
        filed_at = await filed
        filed_s = math.nan if filed_at is None else filed_at - last
        after = await self.watch.counts()
        cpu = _cpu(self.pids)
        return Delivery(
            sent=sent,
            receipts=receipts,
            connections_opened=len(self.recorder.connections()) - self.opened,
            filed=after.sent - before.sent,
            filed_s=filed_s,
            drafts_left=max(0, after.drafts - before.drafts),
            cpu_s={name: cpu[name] - self.cpu[name] for name in self.pids},
            statuses=await self.api.outbox_statuses({s.draft_id for s in sent}),
        )


async def latency(phase: Phase, *, account_id: str, plan: Plan) -> Latency:
    sent: list[Sent] = []
    request_s: list[float] = []
    await phase.begin()
    began = time.monotonic()
    for n in range(plan.sends):
        draft_id, message_id = await phase.api.create_draft(
            account_id, f"Latency {n} {uuid.uuid4()}"
        )
        send_at = time.time() + plan.lead_s
        asked = time.perf_counter()
        await phase.api.send(draft_id, send_at)
        request_s.append(time.perf_counter() - asked)
        sent.append(Sent(draft_id, message_id, send_at, time.time()))
        await asyncio.sleep(max(0.0, began + (n + 1) * plan.interval_s - time.monotonic()))
    return Latency(delivery=await phase.end(sent), send_request_s=request_s)


async def drain(phase: Phase, *, account_id: str, plan: Plan, send_request_s: float) -> Drain:
    """`send_request_s`: how long one send request took in the latency phase (its p95)."""
    api = phase.api
    drafts_before = (await phase.watch.counts()).drafts
    drafts = await _limited(
        [
            partial(api.create_draft, account_id, f"Drain {n} {uuid.uuid4()}")
            for n in range(plan.drain)
        ],
        plan.concurrency,
    )
    # Not timed: the drafts' mirror copies reach the Drafts folder, then all is quiet.
    began = time.time()
    reached = await phase.watch.wait_drafts(
        drafts_before + plan.drain, still_s=15, cap_s=120 + 0.5 * plan.drain
    )
    await settle(phase.pids, window_s=plan.quiet_s)
    mirrored_s = time.time() - began
    # Every send request must answer before the common send_at: four times the time they
    # should take at this concurrency, plus three seconds (a request is slower here than in the
    # latency phase: the drafts' rows and the job queue are larger).
    lead_s = 3.0 + 4.0 * plan.drain * send_request_s / plan.concurrency
    send_at = time.time() + lead_s
    profiler = Profiler(plan.profile, phase.pids) if plan.profile else None
    await phase.begin()
    request_s: list[float] = []

    async def send(draft_id: str, message_id: str) -> Sent:
        asked = time.perf_counter()
        await api.send(draft_id, send_at)
        request_s.append(time.perf_counter() - asked)
        return Sent(draft_id, message_id, send_at, time.time())

    if profiler is not None:
        profiler.start()
    try:
        sent = await _limited([partial(send, d, m) for d, m in drafts], plan.concurrency)
        delivery = await phase.end(sent)
    finally:
        if profiler is not None:
            profiler.stop()
    return Drain(
        delivery=delivery,
        send_request_s=request_s,
        lead_s=lead_s,
        mirrored_s=mirrored_s,
        mirrored=reached - drafts_before,
    )
