"""Scale-out: the same read load through nginx with one `postwise serve` process, then with two.

Each configuration is a fresh topology from tests/fixtures/topology.py (PostgreSQL, Redis,
nginx, the API processes; no worker: nothing is synced, what is measured is serving reads)
with the same generated mailbox (bench.dashboard.seed: one user, conversations over two years),
written straight into the database and VACUUM ANALYZEd as autovacuum would. N keep-alive
clients then send a weighted mix of routes (bench.scale.load) for a fixed window after a
warm-up; the report gives requests/s and p95 per route and overall, and the speed-up of two
processes over one.

The machine's cores are shared by everything: the API processes, PostgreSQL, Redis, nginx and
the load generator itself. With two cores, two API processes cannot double the throughput; the
CPU columns say where the time went.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tests import services
from tests.fixtures.topology import Topology, add_user, require_topology, running_topology

from bench.dashboard.seed import generate, write
from bench.docs import replace_block
from bench.scale.load import ROUTES, Load, Reader, percentile, run_load
from bench.sync.proc import tree_cpu

BEGIN = "<!-- bench.scale:begin (written by `python -m bench.scale --docs`) -->"
END = "<!-- bench.scale:end -->"
SECTION = "## Scale-out"
PASSWORD = "bench-scale-password-1"


@dataclass(frozen=True)
class Configuration:
    apis: int
    load: Load
    api_cpu_s: float  # the API processes' CPU over the measured window
    other_cpu_s: float  # PostgreSQL, Redis and nginx over the same window
    client_cpu_s: float  # this process: the load generator
    busy_s: float  # every process on the machine (from /proc/stat)
    loadavg_before: float


def _say(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


def _email(n: int) -> str:
    return f"reader{n}@bench.example"


def _address(n: int) -> str:
    return f"10.9.{n // 250}.{n % 250 + 1}"


async def _seed(database_url: str, users: int, messages: int) -> None:
    """`users` users with a generated mailbox of `messages` each, then VACUUM ANALYZE."""
    engine = create_async_engine(database_url)
    try:
        for n in range(users):
            user_id = await add_user(database_url, _email(n), PASSWORD)
            box = generate(user_id=user_id, messages=messages, now=datetime.now(UTC), seed=n)
            await write(engine, box)
        async with engine.connect() as db:
            await db.execute(text("COMMIT"))
            await db.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


def _readers(url: str, users: int) -> list[Reader]:
    readers = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for n in range(users):
            # Each from its own address: the login limit is per address too.
            headers = {"X-Postwise-Client": "api", "X-Forwarded-For": _address(n)}
            login = http.post(
                "/api/auth/login", json={"email": _email(n), "password": PASSWORD}, headers=headers
            )
            login.raise_for_status()
            token = login.json()["access_token"]
            page = http.get(
                "/api/threads?limit=100", headers={"Authorization": f"Bearer {token}"}
            ).json()
            readers.append(Reader(token, [item["id"] for item in page["items"]], _address(n)))
    return readers


def _pids(names: Sequence[str]) -> list[int]:
    """Processes whose command starts with one of `names` (PostgreSQL's and Redis's servers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if any(Path(command).name.startswith(name) for name in names):
            found.append(int(entry.name))
    return found


def _cpu(pids: Sequence[int]) -> float:
    return sum(tree_cpu(pid) for pid in pids)


def _machine_busy() -> float:
    """CPU seconds every core has spent on anything but idling and waiting for I/O."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(apis: int, *, messages: int, clients: int, seconds: float) -> Configuration:
    root = Path(tempfile.mkdtemp(prefix="postwise-bench-scale-"))
    try:
        with running_topology(
            root,
            apis=apis,
            workers=0,
            extra_env={"POSTWISE_AI_TRIAGE": "false", "POSTWISE_LOG_LEVEL": "WARNING"},
        ) as topology:
            _say(f"{apis} API process(es) up; {clients} users of {messages:,} messages each")
            asyncio.run(_seed(topology.database_url, clients, messages))
            return _measure_running(topology, _readers(topology.url, clients), seconds)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _measure_running(topology: Topology, readers: list[Reader], seconds: float) -> Configuration:
    api_pids = [api.pid for api in topology.apis]
    # postgres backends and redis are not our children: counted by name (the whole server,
    # other databases' work included, which on a quiet machine is nothing).
    others = [*_pids(("postgres", "redis-server")), topology.proxy.pid]
    loadavg = os.getloadavg()[0]
    warmup = 3.0
    _say(f"{len(readers)} clients for {warmup:.0f} + {seconds:.0f} s")
    api_before, other_before = _cpu(api_pids), _cpu(others)
    client_before, busy_before = time.process_time(), _machine_busy()
    started = time.perf_counter()
    load = asyncio.run(run_load(topology.url, readers, seconds=seconds, warmup=warmup))
    # The CPU counters cover the warm-up too: scaled to the measured window.
    share = seconds / (time.perf_counter() - started)
    return Configuration(
        apis=len(api_pids),
        load=load,
        api_cpu_s=(_cpu(api_pids) - api_before) * share,
        other_cpu_s=(_cpu(others) - other_before) * share,
        client_cpu_s=(time.process_time() - client_before) * share,
        busy_s=(_machine_busy() - busy_before) * share,
        loadavg_before=loadavg,
    )


def report(runs: Sequence[Configuration], *, messages: int, clients: int) -> str:
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}"
    one, two = runs[0], runs[-1]
    header = " | ".join(f"{run.apis} API: req/s | p95" for run in runs)
    lines = [
        f"Scale-out benchmark, {stamp}, {os.cpu_count()} cores",
        "",
        f"{clients} users with {messages:,} messages each, one keep-alive client each through "
        f"nginx, {one.load.seconds:.0f} s per configuration after a 3 s warm-up; PostgreSQL + "
        "Redis.",
        "",
        f"| route (weight) | {header} |",
        "|---|" + "---|---|" * len(runs),
    ]
    for name, weight in ROUTES:
        cells = []
        for run in runs:
            figures = run.load.routes[name]
            rate = len(figures.latencies) / run.load.seconds
            cells.append(f"{rate:.0f} | {percentile(figures.latencies, 0.95) * 1000:.0f} ms")
        lines.append(f"| {name} ({weight}) | " + " | ".join(cells) + " |")
    totals = [
        f"**{run.load.requests / run.load.seconds:.0f}** | {_p95_all(run):.0f} ms" for run in runs
    ]
    lines.append("| all | " + " | ".join(totals) + " |")
    speedup = two.load.requests / max(1, one.load.requests)
    lines += [
        "",
        "| figure | " + " | ".join(f"{run.apis} API" for run in runs) + " |",
        "|---|" + "---|" * len(runs),
        "| requests not answered 200 (429 apart) | "
        + " | ".join(str(r.load.errors) for r in runs)
        + " |",
        "| … 429 (rate limits; the mix stays under them) | "
        + " | ".join(str(r.load.limited) for r in runs)
        + " |",
        "| API processes' CPU, s per s (of "
        f"{os.cpu_count()}) | "
        + " | ".join(f"{r.api_cpu_s / r.load.seconds:.2f}" for r in runs)
        + " |",
        "| PostgreSQL + Redis + nginx CPU, s per s | "
        + " | ".join(f"{r.other_cpu_s / r.load.seconds:.2f}" for r in runs)
        + " |",
        "| the load generator's CPU, s per s | "
        + " | ".join(f"{r.client_cpu_s / r.load.seconds:.2f}" for r in runs)
        + " |",
        "| the whole machine's CPU busy, s per s (other work included) | "
        + " | ".join(f"{r.busy_s / r.load.seconds:.2f}" for r in runs)
        + " |",
        "| API CPU per request | "
        + " | ".join(f"{r.api_cpu_s / max(1, r.load.requests) * 1000:.2f} ms" for r in runs)
        + " |",
        "| load average before the run | "
        + " | ".join(f"{r.loadavg_before:.1f}" for r in runs)
        + " |",
        "",
        f"Speed-up of {two.apis} API processes over {one.apis}: **{speedup:.2f}x** "
        f"(throughput), p95 {_p95_all(one):.0f} ms → {_p95_all(two):.0f} ms.",
    ]
    return "\n".join(lines)


def _p95_all(run: Configuration) -> float:
    every = [t for figures in run.load.routes.values() for t in figures.latencies]
    return percentile(every, 0.95) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--messages", type=int, default=2_000, help="per user")
    parser.add_argument("--clients", type=int, default=32, help="one user each")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--docs", type=Path, help="update the Scale-out section of this file")
    args = parser.parse_args(argv)
    try:
        require_topology()
    except BaseException as error:  # pytest's skip outside pytest: say what is missing
        _say(
            f"cannot run: {error} (PostgreSQL at {services.postgres_admin_url()}, Redis at "
            f"{services.redis_url()} and nginx are needed)"
        )
        return 2
    runs = [
        measure(apis, messages=args.messages, clients=args.clients, seconds=args.seconds)
        for apis in (1, 2)
    ]
    text_block = report(runs, messages=args.messages, clients=args.clients)
    print(text_block)
    if args.docs:
        command = "Command: `make bench-scale` (`python -m bench.scale --docs docs/benchmarks.md`)"
        replace_block(
            args.docs,
            section=SECTION,
            begin=BEGIN,
            end=END,
            block=f"{BEGIN}\n\n{command}\n\n{text_block}\n\n{END}",
        )
    return 0 if all(run.load.errors == 0 for run in runs) else 1
