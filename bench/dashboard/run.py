"""Dashboard latency: `GET /api/dashboard` over a generated 100,000-message mailbox, against a real
`postwise serve` on SQLite and, when a server is reachable, on PostgreSQL.

The mailbox (`bench.dashboard.seed`) is written straight into the migrated database: what is
measured is the aggregate read, and 100,000 rows take seconds to insert where a sync would take
minutes. One keep-alive client asks for the dashboard back to back (after a warm-up), for the
default 30-day window and for the largest, 90 days, in the time zone of Paris; the figures are
the client's clock, the server's answer plus loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.auth.rawhttp import RawConnection
from bench.auth.server import (
    HOST,
    Argon2Parameters,
    BenchError,
    free_port,
    migrate,
    running_server,
    server_environment,
)
from bench.dashboard.seed import generate, write
from postwise.users.models import User

BEGIN = "<!-- bench.dashboard:begin (written by `python -m bench.dashboard --docs`) -->"
END = "<!-- bench.dashboard:end -->"
EMAIL = "dashboard@bench.example"
PASSWORD = "bench-dashboard-password-1"
TZ = "Europe/Paris"
WINDOWS = (30, 90)
TARGET_MS = 100.0
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Timing:
    backend: str
    days: int
    latencies: list[float]
    body_bytes: int
    server_cpu_ms: float  # per request: the `postwise serve` process (all its threads)
    received: int
    sent: int
    waiting: int


@dataclass(frozen=True)
class Run:
    backend: str
    messages: int
    seed_s: float
    timings: list[Timing]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: a value that was measured."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


async def _seed(url: str, messages: int) -> float:
    """The bench user and their mailbox; returns the seconds the mailbox took to write."""
    engine = create_async_engine(url)
    try:
        user_id = uuid.uuid4()
        password_hash = Argon2Parameters.server_defaults().hasher().hash(PASSWORD)
        async with engine.begin() as db:
            await db.execute(
                insert(User),
                [
                    {
                        "id": user_id,
                        "email": EMAIL,
                        "name": "Dashboard Bench",
                        "password_hash": password_hash,
                        "email_verified_at": datetime.now(UTC),
                    }
                ],
            )
        began = time.perf_counter()
        box = generate(user_id=user_id, messages=messages, now=datetime.now(UTC), seed=1)
        await write(engine, box)
        seconds = time.perf_counter() - began
        if engine.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load on any real server: statistics for the
            # planner and a visibility map, without which no index-only scan is possible.
            async with engine.connect() as db:
                await db.execute(text("COMMIT"))
                await db.execute(text("VACUUM ANALYZE"))
        return seconds
    finally:
        await engine.dispose()


def _process_cpu(pid: int) -> float:
    """User + system seconds of one process, all its threads (its parse pool children are
    other processes, idle here, and left out)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _request(token: str, days: int) -> bytes:
    path = f"/api/dashboard?days={days}&tz={quote(TZ, safe='')}"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


async def _measure(
    base_url: str, token: str, requests: int, pid: int
) -> list[tuple[int, list[float], bytes, float]]:
    connection = await RawConnection.open(base_url)
    results = []
    try:
        for days in WINDOWS:
            raw = _request(token, days)
            body = b""
            for _ in range(10):  # warm-up: caches, statement cache, the first connection
                status, body = await connection.request(raw)
                if status != 200:
                    raise BenchError(f"/api/dashboard answered {status}: {body[:300]!r}")
            latencies = []
            cpu_before = _process_cpu(pid)
            for _ in range(requests):
                began = time.perf_counter()
                status, body = await connection.request(raw)
                latencies.append(time.perf_counter() - began)
                if status != 200:
                    raise BenchError(f"/api/dashboard answered {status}: {body[:300]!r}")
            cpu_ms = (_process_cpu(pid) - cpu_before) * 1000 / requests
            results.append((days, latencies, body, cpu_ms))
    finally:
        await connection.close()
    return results


def _login(base_url: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login",
        json={"email": EMAIL, "password": PASSWORD},
        headers={"X-Postwise-Client": "api"},
        timeout=30,
    )
    if response.status_code != 200:
        raise BenchError(f"login answered {response.status_code}: {response.text[:300]}")
    return str(response.json()["access_token"])


async def _admin(admin_url: str, statement: str) -> None:
    url = make_url(admin_url)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def _database(backend: str, data_dir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{data_dir / 'postwise.db'}"
        return
    admin = os.environ.get("POSTWISE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    name = f"postwise_bench_dashboard_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(backend: str, messages: int, requests: int) -> Run:
    with (
        tempfile.TemporaryDirectory(prefix="postwise-bench-dashboard-") as tmp,
        _database(backend, Path(tmp)) as url,
    ):
        data_dir = Path(tmp)
        port = free_port()
        env = server_environment(data_dir, port)
        env["POSTWISE_DATABASE_URL"] = url
        migrate(env, data_dir / "server.log")
        seed_s = asyncio.run(_seed(url, messages))
        with running_server(data_dir, env, port) as server:
            token = _login(server.base_url)
            measured = asyncio.run(_measure(server.base_url, token, requests, server.pid))
    timings = []
    for days, latencies, body, cpu_ms in measured:
        answer = json.loads(body)
        timings.append(
            Timing(
                backend=backend,
                days=days,
                latencies=latencies,
                body_bytes=len(body),
                server_cpu_ms=cpu_ms,
                received=answer["activity"]["received"],
                sent=answer["activity"]["sent"],
                waiting=answer["waiting"]["count"],
            )
        )
    return Run(backend=backend, messages=messages, seed_s=seed_s, timings=timings)


def postgres_reachable() -> bool:
    url = make_url(os.environ.get("POSTWISE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))

    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(
                host=url.host, port=url.port or 5432, user=url.username, database=url.database
            )
        except (OSError, asyncpg.PostgresError):
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


def report(runs: Sequence[Run], load: tuple[float, float, float]) -> str:
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}"
    lines = [
        f"Dashboard benchmark, {stamp}, {os.cpu_count()} cores, load average at the start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
        "",
        "| database | window | p50 | p95 | max | target (p95) | result "
        "| server CPU per request | answer |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        for t in r.timings:
            p95 = percentile(t.latencies, 0.95) * 1000
            target = f"< {TARGET_MS:.0f} ms" if t.days == 30 else ""
            result = ("PASS" if p95 < TARGET_MS else "MISS") if t.days == 30 else ""
            lines.append(
                f"| {r.backend} | {t.days} days | {percentile(t.latencies, 0.5) * 1000:.1f} ms "
                f"| {p95:.1f} ms | {max(t.latencies) * 1000:.1f} ms | {target} | {result} "
                f"| {t.server_cpu_ms:.1f} ms "
                f"| {t.received:,} received, {t.sent:,} sent, {t.waiting:,} waiting; "
                f"{t.body_bytes / 1024:.1f} KB |"
            )
    lines += ["", "| detail | value |", "|---|---|"]
    for r in runs:
        requests = len(r.timings[0].latencies) if r.timings else 0
        lines.append(
            f"| {r.backend}: mailbox | {r.messages:,} messages over two years, one user; "
            f"{requests} timed requests per window, one keep-alive client |"
        )
        lines.append(f"| {r.backend}: not timed: writing the mailbox | {r.seed_s:.1f} s |")
    lines.append(
        "| server CPU | user + system time of the `postwise serve` process (all its threads) over "
        "the timed requests, divided by their number: on SQLite all of the work, on PostgreSQL "
        "without the database server's share |"
    )
    return "\n".join(lines)


def write_docs(path: Path, text_block: str) -> None:
    content = path.read_text()
    command = "Command: `.venv/bin/python -m bench.dashboard --docs docs/benchmarks.md`"
    block = f"{BEGIN}\n\n{command}\n\n{text_block}\n\n{END}"
    if BEGIN in content and END in content:
        before = content[: content.index(BEGIN)]
        after = content[content.index(END) + len(END) :]
        path.write_text(before + block + after)
    else:
        path.write_text(content.rstrip() + "\n\n## Dashboard\n\n" + block + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per window")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="both: PostgreSQL too when a server answers (default)",
    )
    parser.add_argument("--docs", type=Path, help="update the Dashboard section of this file")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.backend == "both" and not postgres_reachable():
        print("PostgreSQL is not reachable: measuring SQLite only", file=sys.stderr)
        backends = ["sqlite"]
    load = os.getloadavg()
    runs = [run(backend, args.messages, args.requests) for backend in backends]
    text_block = report(runs, load)
    print(text_block)
    if args.docs:
        write_docs(args.docs, text_block)
    default = [t for r in runs for t in r.timings if t.days == 30]
    return 0 if all(percentile(t.latencies, 0.95) * 1000 < TARGET_MS for t in default) else 1
