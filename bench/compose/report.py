"""The compose bench's table, its verdict against issue 14's targets, and its docs block."""

from __future__ import annotations

import math
import os
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.compose.phases import Delivery, Plan, Result
from bench.docs import replace_block

BEGIN = "<!-- bench.compose:begin (written by `python -m bench.compose --docs`) -->"
END = "<!-- bench.compose:end -->"
SECTION = "## Compose and send"
TARGET_P95_S = 0.5
# "The SMTP connection reused per account": on average at least this many messages per
# connection (a client may reconnect now and then, or keep a few in parallel, but not one per
# message).
MIN_PER_CONNECTION = 20
STACKS = {"sqlite": "SQLite, jobs in `serve`", "postgres": "PostgreSQL + Redis + `worker`"}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: a value that was measured."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def _s(seconds: float) -> str:
    return "not all" if math.isnan(seconds) else f"{seconds:.1f} s"


def latency_ok(result: Result) -> bool:
    d = result.latency.delivery
    p95 = percentile(result.latency.latencies, 0.95)
    return d.missing == 0 and d.duplicates == 0 and p95 <= TARGET_P95_S


def reused(d: Delivery) -> bool:
    return d.connections_used * MIN_PER_CONNECTION <= max(len(d.sent), MIN_PER_CONNECTION)


def drain_ok(result: Result) -> bool:
    d = result.drain.delivery
    return d.missing == 0 and d.duplicates == 0 and reused(d)


def passed(result: Result) -> bool:
    return latency_ok(result) and drain_ok(result)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _cpu(d: Delivery) -> str:
    count = max(1, len(d.sent))
    return ", ".join(f"{name} {seconds * 1000 / count:.0f} ms" for name, seconds in d.cpu_s.items())


def _statuses(d: Delivery) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(d.statuses.items())) or "none listed"


def _latency_rows(r: Result) -> list[str]:
    d, values = r.latency.delivery, r.latency.latencies
    p95 = percentile(values, 0.95)
    stack = STACKS.get(r.backend, r.backend)
    requests = r.latency.send_request_s
    return [
        f"| {stack} | latency: sends received / sent | {len(d.first)} / {len(d.sent)} "
        f"| all | {_verdict(d.missing == 0)} |",
        f"| | end of undo window → 250, p50 / p95 / max | {_ms(percentile(values, 0.5))} / "
        f"**{_ms(p95)}** / {_ms(max(values, default=math.nan))} | p95 ≤ 500 ms "
        f"({p95 / TARGET_P95_S:.2f}x the target) | {_verdict(latency_ok(r))} |",
        f"| | send request → 202, p50 / p95 | {_ms(percentile(requests, 0.5))} / "
        f"{_ms(percentile(requests, 0.95))} | | |",
        f"| | duplicates; send answered after its send_at | {d.duplicates}; {d.late} | 0; 0 | |",
        f"| | SMTP connections opened (messages) | {d.connections_opened} ({len(d.receipts)}) "
        "| | |",
        f"| | outbox afterwards | {_statuses(d)} | | |",
        f"| | copies in Sent; all filed this long after the last 250; copies left in Drafts "
        f"| {d.filed}; {_s(d.filed_s)}; {d.drafts_left} | every message; ; none | |",
        f"| | CPU per message | {_cpu(d)} | | |",
    ]


def _drain_rows(r: Result) -> list[str]:
    d = r.drain.delivery
    first, last = r.drain.span()
    rate = len(d.first) / last if last > 0 else math.nan
    per_connection = len(d.receipts) / d.connections_used if d.connections_used else math.nan
    return [
        f"| | drain: messages received / queued | {len(d.first)} / {len(d.sent)} | all "
        f"| {_verdict(d.missing == 0)} |",
        f"| | send_at → first 250 / last 250 (drain time) | {_ms(first)} / **{last:.1f} s** | | |",
        f"| | messages per second | {rate:.1f} | | |",
        f"| | SMTP connections that carried them (messages each) | {d.connections_used} "
        f"({per_connection:.0f}); {d.connections_opened} opened | reused: ≥ "
        f"{MIN_PER_CONNECTION} each | {_verdict(reused(d))} |",
        f"| | sent twice (same Message-ID) / missing | **{d.duplicates}** / {d.missing} | 0 / 0 "
        f"| {_verdict(d.duplicates == 0 and d.missing == 0)} |",
        f"| | send requests → 202, p50 / p95; answered after the common send_at "
        f"| {_ms(percentile(r.drain.send_request_s, 0.5))} / "
        f"{_ms(percentile(r.drain.send_request_s, 0.95))}; {d.late} | ; 0 | |",
        f"| | outbox afterwards | {_statuses(d)} | | |",
        f"| | copies in Sent; all filed this long after the last 250; copies left in Drafts "
        f"| {d.filed}; {_s(d.filed_s)}; {d.drafts_left} | every message; ; none | |",
        f"| | CPU per message | {_cpu(d)} | | |",
        f"| | not timed: drafts mirrored to the Drafts folder before sending (waited); "
        f"send_at lead | {r.drain.mirrored} / {len(d.sent)} ({r.drain.mirrored_s:.1f} s); "
        f"{r.drain.lead_s:.1f} s | | |",
    ]


def render(results: Sequence[Result], plan: Plan, load: tuple[float, float, float]) -> str:
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}"
    lines = [
        f"Compose benchmark, {stamp}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average at the start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}. "
        f"Latency: {plan.sends} sends, one every {plan.interval_s:g} s, each with `send_at` "
        f"{plan.lead_s:g} s ahead; drain: {plan.drain} drafts sent with one `send_at` "
        f"({plan.concurrency} requests at a time); SMTP: aiosmtpd on 127.0.0.1, no TLS, no auth.",
        "",
        "| stack | figure | value | target | result |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        lines += _latency_rows(result) + _drain_rows(result)
    for result in results:
        logged = ", ".join(f"{n} {event}" for event, n in result.problems.most_common())
        stack = STACKS.get(result.backend, result.backend)
        lines += [
            "",
            f"Warnings and errors the Postwise processes logged ({stack}): {logged or 'none'}.",
        ]
    lines += [
        "",
        "CPU per message: user + system time of each Postwise process over the phase divided "
        "by its messages (creating the drafts is outside the drain's figure; the database "
        "server's share on PostgreSQL is not counted).",
    ]
    return "\n".join(lines)


def write_docs(path: Path, text: str) -> None:
    command = "Command: `make bench-compose` (`python -m bench.compose --docs docs/benchmarks.md`)"
    block = f"{BEGIN}\n\n{command}\n\n{text}\n\n{END}"
    replace_block(path, section=SECTION, begin=BEGIN, end=END, block=block)
