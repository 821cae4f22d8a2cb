"""Compose and send: from the end of the undo window to the SMTP server's 250, and a queue of
500 messages draining, through a real `postwise serve`.

Two stacks: the embedded default (SQLite, jobs in the API process) and, when PostgreSQL and
Redis answer, PostgreSQL + Redis with a separate `postwise worker` that runs the jobs. Both send
to an aiosmtpd server in this process (`bench.compose.recorder`) and keep their Drafts and Sent
copies on the test suite's private Dovecot: the mailbox is connected through POST /api/accounts
like any user's, so the delivery path is the whole one (mirror copy removed, Sent APPENDed, the
sync engine watching).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import redis
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from tests.fixtures.dovecot import Dovecot

from bench.auth.server import (
    Argon2Parameters,
    BenchError,
    free_port,
    migrate,
    running_server,
    server_environment,
)
from bench.compose import phases, profile, report
from bench.compose.mailbox import MailboxWatch
from bench.compose.phases import Plan, Result
from bench.compose.recorder import Recorder
from bench.dashboard.run import postgres_reachable
from bench.sync.server import start as start_dovecot
from postwise.users.models import User

EMAIL = "compose@bench.example"
PASSWORD = "bench-compose-password-1"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
WORKER_STOP_S = 45.0


def say(text: str) -> None:
    print(f"[compose] {text}", file=sys.stderr, flush=True)


def redis_url() -> str:
    return os.environ.get("POSTWISE_BENCH_REDIS_URL", DEFAULT_REDIS)


def redis_reachable() -> bool:
    client = redis.Redis.from_url(redis_url(), socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


async def _admin(statement: str) -> None:
    url = make_url(os.environ.get("POSTWISE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
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
    admin = make_url(os.environ.get("POSTWISE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    name = f"postwise_bench_compose_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _redis_prefix(env: dict[str, str]) -> Iterator[None]:
    """Its own key prefix (the job stream too lives under it), removed afterwards."""
    prefix = f"postwise-bench-compose-{uuid.uuid4().hex[:8]}:"
    env["POSTWISE_REDIS_URL"] = redis_url()
    env["POSTWISE_STORE_PREFIX"] = prefix
    try:
        yield
    finally:
        client = redis.Redis.from_url(redis_url())
        try:
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
        finally:
            client.close()


@contextmanager
def _worker(env: dict[str, str], data_dir: Path) -> Iterator[int]:
    log_path = data_dir / "worker.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("postwise")), "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise BenchError(f"`postwise worker` did not start:\n{log_path.read_text()[-3000:]}")
        yield process.pid
        if process.poll() is not None:
            raise BenchError(f"the worker exited during the run:\n{log_path.read_text()[-3000:]}")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=WORKER_STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _seed_user(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as db:
            await db.execute(
                insert(User),
                [
                    {
                        "email": EMAIL,
                        "name": "Compose Bench",
                        "password_hash": Argon2Parameters.server_defaults().hasher().hash(PASSWORD),
                        "email_verified_at": datetime.now(UTC),
                    }
                ],
            )
    finally:
        await engine.dispose()


async def _connect_mailbox(
    client: httpx.AsyncClient, dovecot: Dovecot, recorder: Recorder
) -> tuple[phases.Api, str, MailboxWatch]:
    """Sign in, set the undo window to 0 (each send names its own `send_at`), connect the
    mailbox and wait for its first sync."""
    login = await client.post(
        "/api/auth/login",
        json={"email": EMAIL, "password": PASSWORD},
        headers={"X-Postwise-Client": "api"},
    )
    if login.status_code != 200:
        raise BenchError(f"login answered {login.status_code}: {login.text[:300]}")
    api = phases.Api(client, str(login.json()["access_token"]))
    await api.call("PATCH", "/api/users/me", 200, json={"send_undo_seconds": 0})
    username, password = dovecot.add_user()
    account = await api.call(
        "POST",
        "/api/accounts",
        201,
        json={
            "email": username,
            "password": password,
            "display_name": "Compose Bench",
            "imap_host": dovecot.host,
            "imap_port": dovecot.imap_port,
            "imap_security": "none",
            "smtp_host": recorder.host,
            "smtp_port": recorder.port,
            "smtp_security": "none",
        },
    )
    account_id = str(account["id"])
    deadline = time.monotonic() + 60
    while (await api.call("GET", f"/api/accounts/{account_id}", 200))["sync_state"] != "idle":
        if time.monotonic() > deadline:
            raise BenchError("the mailbox's first sync did not finish within 60 s")
        await asyncio.sleep(0.1)
    watch = await asyncio.to_thread(
        MailboxWatch, dovecot.host, dovecot.imap_port, username, password
    )
    return api, account_id, watch


async def _measure(
    base_url: str, dovecot: Dovecot, recorder: Recorder, pids: dict[str, int], plan: Plan
) -> tuple[phases.Latency, phases.Drain]:
    limits = httpx.Limits(
        max_connections=plan.concurrency, max_keepalive_connections=plan.concurrency
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        api, account_id, watch = await _connect_mailbox(client, dovecot, recorder)
        try:
            phase = phases.Phase(api, recorder, watch, pids, stall_s=plan.stall_s)
            await phases.settle(pids, window_s=plan.quiet_s)
            say(f"latency: {plan.sends} sends, one every {plan.interval_s} s")
            latency = await phases.latency(phase, account_id=account_id, plan=plan)
            await phases.settle(pids, window_s=plan.quiet_s)
            say(f"drain: {plan.drain} drafts, then all sent at one instant")
            ordered = sorted(latency.send_request_s)
            drain = await phases.drain(
                phase,
                account_id=account_id,
                plan=plan,
                send_request_s=report.percentile(ordered, 0.95) if ordered else 0.05,
            )
        finally:
            watch.close()
    return latency, drain


def run(backend: str, plan: Plan) -> Result:
    if plan.profile is not None:
        plan = dataclasses.replace(plan, profile=plan.profile / backend)
    say(f"{backend}: starting Dovecot, the SMTP recorder and the server")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="postwise-bench-compose-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # Dovecot's mail processes run as another user
        dovecot = start_dovecot(root / "dovecot")
        recorder = Recorder().start()
        data_dir = root / "postwise"
        data_dir.mkdir()
        try:
            with _database(backend, data_dir) as url:
                port = free_port()
                env = server_environment(data_dir, port)
                env["POSTWISE_DATABASE_URL"] = url
                env["POSTWISE_MAIL_PRIVATE_HOSTS"] = "allow"
                migrate(env, data_dir / "server.log")
                asyncio.run(_seed_user(url))
                latency, drain, problems = _serve(
                    backend, env, data_dir, port, dovecot, recorder, plan
                )
        finally:
            recorder.stop()
            dovecot.stop()
    elapsed_s = time.perf_counter() - began
    return Result(
        backend=backend, latency=latency, drain=drain, elapsed_s=elapsed_s, problems=problems
    )


def _serve(
    backend: str,
    env: dict[str, str],
    data_dir: Path,
    port: int,
    dovecot: Dovecot,
    recorder: Recorder,
    plan: Plan,
) -> tuple[phases.Latency, phases.Drain, Counter[str]]:
    if backend == "sqlite":
        with running_server(data_dir, env, port) as server:
            pids = {"serve": server.pid}
            latency, drain = asyncio.run(_measure(server.base_url, dovecot, recorder, pids, plan))
            return latency, drain, _logged(data_dir)
    with (
        _redis_prefix(env),
        _worker(env, data_dir) as worker_pid,
        running_server(data_dir, env, port) as server,
    ):
        pids = {"serve": server.pid, "worker": worker_pid}
        latency, drain = asyncio.run(_measure(server.base_url, dovecot, recorder, pids, plan))
        return latency, drain, _logged(data_dir)


# The event is structlog's first word; a library's message (a sentence) is cut at 60 characters.
_LOG_LINE = re.compile(r"^\S+Z \[(warning|error|critical)\s*\] (.*)$")
_EVENT_END = re.compile(r"\s{2,}| \[")


def _logged(data_dir: Path) -> Counter[str]:
    """Read while the processes still run: what they log when stopped is not the run's."""
    return log_problems(data_dir / "server.log") + log_problems(data_dir / "worker.log")


def log_problems(path: Path) -> Counter[str]:
    """Warnings and errors the processes logged (console format: `time [level] event ...`),
    by event: what went wrong beside the figures (a failed mirror, a crashed sync)."""
    if not path.exists():
        return Counter()
    found: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        match = _LOG_LINE.match(line)
        if match:
            event = _EVENT_END.split(match[2], maxsplit=1)[0][:60]
            found[f"{event} ({match[1]})"] += 1
    return found


def backends(choice: str) -> list[str]:
    if choice != "both":
        return [choice]
    if not postgres_reachable():
        say("PostgreSQL is not reachable: measuring SQLite only")
        return ["sqlite"]
    if not redis_reachable():
        say("Redis is not reachable: measuring SQLite only")
        return ["sqlite"]
    return ["sqlite", "postgres"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compose", description=__doc__)
    parser.add_argument("--sends", type=int, default=Plan.sends, help="latency sends")
    parser.add_argument("--interval", type=float, default=Plan.interval_s, help="s between sends")
    parser.add_argument("--drain", type=int, default=Plan.drain, help="messages in the queue")
    parser.add_argument("--concurrency", type=int, default=Plan.concurrency)
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="postgres: PostgreSQL + Redis + `postwise worker`; both (default): that too when "
        "PostgreSQL and Redis answer",
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy profiles of each process over the drain, here"
    )
    parser.add_argument("--docs", type=Path, help="update the Compose section of this file")
    args = parser.parse_args(argv)
    plan = Plan(
        sends=args.sends,
        interval_s=args.interval,
        drain=args.drain,
        concurrency=args.concurrency,
        profile=args.profile,
    )
    load = os.getloadavg()
    results = [run(backend, plan) for backend in backends(args.backend)]
    text = report.render(results, plan, load)
    print(text)
    if args.profile:
        for path in sorted(args.profile.glob("*/*.txt")):
            print(profile.summary(path), file=sys.stderr)
    if args.docs:
        report.write_docs(args.docs, text)
    return 0 if all(report.passed(result) for result in results) else 1
