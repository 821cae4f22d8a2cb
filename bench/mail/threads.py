"""Thread list latency: `GET /api/threads` (50 items) over a 100,000-message mailbox, idle and
under 50 concurrent clients, against a real `postwise serve` on SQLite.

Server CPU per page is the server process's user + system time (from /proc, its SQLite threads
included) over each phase divided by the pages it answered: it depends far less than latency on
what else the two cores are doing, so it is the figure to compare between runs on a busy
machine. `bench.mail.inprocess` then splits the page's own work (without HTTP and sign-in).
The same server's floor is measured beside it, in rounds taken in turn with the idle pages': the
CPU of `GET /healthz` (HTTP and the middleware) and of `GET /api/users/me` (that plus signing
the request in and reading the user's row, which a page no longer reads).

The mailbox is written straight into the migrated database (messages, threads, the per-folder
thread index) rather than synced: what is measured is reading, and 100,000 rows take seconds to
insert where a sync would take minutes. Each client pages like a person scrolling: the first page,
then a few pages further with the cursors it was given.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select

from bench.auth.rawhttp import RawConnection
from bench.auth.server import (
    HOST,
    Argon2Parameters,
    BenchError,
    free_port,
    migrate,
    running_server,
    seed_users,
    server_environment,
)
from bench.mail import inprocess
from bench.mail.inprocess import Breakdown
from bench.sync.proc import tree_cpu
from postwise.accounts.models import MailAccount
from postwise.mail.models import Folder, Message, Thread, ThreadFolder
from postwise.mail.thread_summary import participants_json, participants_of
from postwise.users.models import User

BEGIN = "<!-- bench.mail:begin (written by `python -m bench.mail --docs`) -->"
END = "<!-- bench.mail:end -->"
EMAIL = "reader@bench.example"
PASSWORD = "bench-reading-password-1"


@dataclass(frozen=True)
class Figures:
    messages: int
    threads: int
    seed_s: float
    idle: list[float]
    loaded: list[float]
    idle_cpu_ms: float  # the server's CPU per page, idle (the median of its rounds)
    loaded_cpu_s: float
    floor_ms: dict[str, float]  # server CPU per request of the floor's routes
    breakdown: Breakdown
    clients: int
    window_s: float
    errors: int


def seed_mailbox(data_dir: Path, messages: int, seed: int) -> int:
    """One user's mailbox: threads of 1-8 messages over two years, 80 % of the messages in
    INBOX, the rest in Archive and Sent, every fifth unread; returns the thread count."""
    rng = random.Random(seed)
    engine = create_engine(f"sqlite:///{(data_dir / 'postwise.db').resolve()}")
    end = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        with engine.begin() as db:
            user_id = db.execute(select(User.id).where(User.email == EMAIL)).scalar_one()
            account_id = uuid.uuid4()
            db.execute(
                insert(MailAccount),
                [{"id": account_id, "user_id": user_id, "kind": "local", "email": EMAIL}],
            )
            folders = {name: uuid.uuid4() for name in ("INBOX", "Archive", "Sent")}
            roles = {"INBOX": "inbox", "Archive": "archive", "Sent": "sent"}
            db.execute(
                insert(Folder),
                [
                    {
                        "id": fid,
                        "user_id": user_id,
                        "account_id": account_id,
                        "name": name,
                        "role": roles[name],
                        "uidvalidity": 1,
                    }
                    for name, fid in folders.items()
                ],
            )
            threads: list[dict[str, object]] = []
            rows: list[dict[str, object]] = []
            index: dict[tuple[uuid.UUID, uuid.UUID], dict[str, object]] = {}
            uid = 0
            while uid < messages:
                thread_id = uuid.uuid4()
                size = min(rng.choice((1, 1, 1, 2, 2, 3, 4, 8)), messages - uid)
                start = end - timedelta(seconds=rng.random() * 730 * 86400)
                subject = f"Conversation {len(threads)}"
                last = start
                senders: dict[str, tuple[datetime, str, str]] = {}
                snippet = ""
                for n in range(size):
                    uid += 1
                    at = start + timedelta(minutes=37 * n)
                    last = max(last, at)
                    folder = "INBOX" if rng.random() < 0.8 else rng.choice(("Archive", "Sent"))
                    unread = rng.random() < 0.2
                    name = f"Person {rng.randrange(500)}"
                    address = f"p{rng.randrange(500)}@example.org"
                    # As `refresh_threads` stores them: each address once, at its first
                    # message, under the greatest of its names.
                    first, known, _ = senders.get(address, (at, name, address))
                    senders[address] = (min(first, at), max(known, name), address)
                    snippet = f"Message {uid} of {subject}, about the plan"
                    rows.append(
                        {
                            "id": uid,
                            "user_id": user_id,
                            "account_id": account_id,
                            "folder_id": folders[folder],
                            "thread_id": thread_id,
                            "uidvalidity": 1,
                            "uid": uid,
                            "subject": subject if n == 0 else f"Re: {subject}",
                            "from_name": name,
                            "from_address": address,
                            "received_at": at,
                            "is_read": not unread,
                            "snippet": snippet,
                            "raw_sha256": "0" * 64,
                            "size": 6000,
                        }
                    )
                    key = (thread_id, folders[folder])
                    entry = index.setdefault(
                        key,
                        {
                            "thread_id": thread_id,
                            "folder_id": folders[folder],
                            "user_id": user_id,
                            "message_count": 0,
                            "unread_count": 0,
                        },
                    )
                    entry["message_count"] = int(entry["message_count"]) + 1  # type: ignore[call-overload]
                    entry["unread_count"] = int(entry["unread_count"]) + int(unread)  # type: ignore[call-overload]
                threads.append(
                    {
                        "id": thread_id,
                        "user_id": user_id,
                        "account_id": account_id,
                        "subject": subject,
                        "subject_key": subject.lower(),
                        "message_count": size,
                        "unread_count": 0,
                        "last_message_at": last,
                        "snippet": snippet,
                        "participants": participants_json(participants_of(senders.values())),
                    }
                )
                for folder_id in folders.values():
                    if (thread_id, folder_id) in index:
                        index[(thread_id, folder_id)]["last_message_at"] = last
            db.execute(insert(Thread), threads)
            for chunk in range(0, len(rows), 5000):
                db.execute(insert(Message), rows[chunk : chunk + 5000])
            db.execute(insert(ThreadFolder), list(index.values()))
    finally:
        engine.dispose()
    return len(threads)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _get(path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


async def _client(
    base_url: str,
    token: str,
    stop_at: float,
    latencies: list[float],
    errors: list[int],
    rng: random.Random,
) -> None:
    connection = await RawConnection.open(base_url)
    try:
        cursor: str | None = None
        depth = 0
        while time.perf_counter() < stop_at:
            path = "/api/threads?limit=50" + (f"&cursor={cursor}" if cursor else "")
            began = time.perf_counter()
            status, body = await connection.request(_get(path, token))
            latencies.append(time.perf_counter() - began)
            if status != 200:
                errors.append(status)
                cursor = None
                continue
            # Scroll a few pages, then start again from the top, like a reader.
            depth += 1
            if depth >= rng.choice((1, 2, 3, 5)):
                cursor, depth = None, 0
            else:
                marker = body.rfind(b'"next_cursor":"')
                cursor = (
                    body[marker + 15 : body.index(b'"', marker + 15)].decode()
                    if marker >= 0
                    else None
                )
    finally:
        await connection.close()


@dataclass
class _Phases:
    idle: list[float]
    loaded: list[float]
    idle_cpu_ms: float  # the server's CPU per page over the idle phase (median of rounds)
    loaded_cpu_s: float
    errors: int
    floor_ms: dict[str, float]


FLOOR_ROUTES = ("/healthz", "/api/users/me")
# The idle phase is cut into rounds, each followed by the floor's routes: this machine's
# speed drifts by a third within a minute, and a page measured in one minute against a floor
# measured in another told more about the drift than about the page. Medians of the rounds.
_IDLE_ROUNDS = 5


async def _cpu_per_request(
    connection: RawConnection, server_pid: int, token: str, path: str, window_s: float
) -> float:
    """Server CPU per request of `path`, one client, sequential, for `window_s`."""
    cpu_before, count = tree_cpu(server_pid), 0
    stop_at = time.perf_counter() + window_s
    while count == 0 or time.perf_counter() < stop_at:  # one at least, however short the window
        status, _ = await connection.request(_get(path, token))
        count += 1
        if status != 200:
            raise BenchError(f"{path} answered {status}")
    return (tree_cpu(server_pid) - cpu_before) / count * 1000


async def _measure(
    base_url: str, server_pid: int, token: str, clients: int, window_s: float, idle_s: float
) -> _Phases:
    idle: list[float] = []
    errors: list[int] = []
    rng = random.Random(7)
    # Idle: one client, sequential, after a warm-up of the same (long enough that the first
    # pages' one-time costs, seen as a third more CPU per page after 2 s, are behind it).
    await _client(base_url, token, time.perf_counter() + idle_s, [], errors, rng)
    page_cpu: list[float] = []
    floor: dict[str, list[float]] = {path: [] for path in FLOOR_ROUTES}
    connection = await RawConnection.open(base_url)
    try:
        for path in FLOOR_ROUTES:
            for _ in range(50):  # warm-up
                await connection.request(_get(path, token))
        for _ in range(_IDLE_ROUNDS):
            answered = len(idle)
            cpu_before = tree_cpu(server_pid)
            await _client(
                base_url, token, time.perf_counter() + idle_s / _IDLE_ROUNDS, idle, errors, rng
            )
            pages = max(1, len(idle) - answered)
            page_cpu.append((tree_cpu(server_pid) - cpu_before) / pages * 1000)
            for path in FLOOR_ROUTES:
                window = idle_s / _IDLE_ROUNDS / 2
                floor[path].append(
                    await _cpu_per_request(connection, server_pid, token, path, window)
                )
    finally:
        await connection.close()
    loaded: list[float] = []
    stop_at = time.perf_counter() + window_s
    cpu_before = tree_cpu(server_pid)
    await asyncio.gather(
        *(
            _client(base_url, token, stop_at, loaded, errors, random.Random(n))
            for n in range(clients)
        )
    )
    loaded_cpu_s = tree_cpu(server_pid) - cpu_before
    return _Phases(
        idle,
        loaded,
        statistics.median(page_cpu),
        loaded_cpu_s,
        len(errors),
        {path: statistics.median(values) for path, values in floor.items()},
    )


def run(
    messages: int, clients: int, window_s: float, idle_s: float = 5.0, pages: int = 200
) -> Figures:
    """`idle_s`: the warm-up and the idle phase, each; `pages`: the in-process breakdown's."""
    with tempfile.TemporaryDirectory(prefix="postwise-bench-mail-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = server_environment(data_dir, port)
        migrate(env, data_dir / "server.log")
        password_hash = Argon2Parameters.server_defaults().hasher().hash(PASSWORD)
        seed_users(data_dir, [EMAIL], password_hash)
        began = time.perf_counter()
        threads = seed_mailbox(data_dir, messages, seed=1)
        seed_s = time.perf_counter() - began
        with running_server(data_dir, env, port) as server:
            login = httpx.post(
                f"{server.base_url}/api/auth/login",
                json={"email": EMAIL, "password": PASSWORD},
                headers={"X-Postwise-Client": "api"},
                timeout=30,
            )
            login.raise_for_status()
            token = login.json()["access_token"]
            phases = asyncio.run(
                _measure(server.base_url, server.pid, token, clients, window_s, idle_s)
            )
        # With the server stopped: nothing else uses the CPU this measures.
        breakdown = inprocess.measure(data_dir, EMAIL, pages=pages)
    return Figures(
        messages=messages,
        threads=threads,
        seed_s=seed_s,
        idle=phases.idle,
        loaded=phases.loaded,
        idle_cpu_ms=phases.idle_cpu_ms,
        loaded_cpu_s=phases.loaded_cpu_s,
        floor_ms=phases.floor_ms,
        breakdown=breakdown,
        clients=clients,
        window_s=window_s,
        errors=phases.errors,
    )


def report(f: Figures) -> str:
    def ms(values: list[float], q: float) -> str:
        return f"{_percentile(values, q) * 1000:.1f} ms"

    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}"
    idle = f"{ms(f.idle, 0.5)} / {ms(f.idle, 0.95)} ({len(f.idle)} requests)"
    loaded = f"{ms(f.loaded, 0.5)} / {ms(f.loaded, 0.95)} / {ms(f.loaded, 0.99)}"
    rate = f"{len(f.loaded) / f.window_s:.0f} pages/s ({len(f.loaded):,} requests"
    idle_cpu = f.idle_cpu_ms
    loaded_cpu = f.loaded_cpu_s / max(1, len(f.loaded)) * 1000
    b = f.breakdown
    parts = f"{b.page_ms:.2f} + {b.response_ms:.2f} = {b.total_ms:.2f} ms ({b.pages:,} pages)"
    lines = [
        f"Thread list benchmark, {stamp}",
        "",
        "| figure | value |",
        "|---|---|",
        f"| mailbox | {f.messages:,} messages, {f.threads:,} conversations (80 % INBOX), SQLite |",
        f"| idle: one client, sequential, p50 / p95 | {idle} |",
        f"| {f.clients} concurrent clients for {f.window_s:.0f} s: p50 / p95 / p99 | {loaded} |",
        f"| … throughput | {rate}, {f.errors} not 200) |",
        f"| server CPU per page: idle / under load | {idle_cpu:.2f} ms / {loaded_cpu:.2f} ms |",
        f"| … of which the page itself (in-process): one statement / response body | {parts} |",
        "| the floor, server CPU per request: `/healthz` / `/api/users/me` "
        f"| {f.floor_ms['/healthz']:.2f} ms / {f.floor_ms['/api/users/me']:.2f} ms |",
        f"| not timed: writing the mailbox | {f.seed_s:.1f} s |",
    ]
    return "\n".join(lines)


def write_docs(path: Path, text: str) -> None:
    content = path.read_text()
    command = "Command: `.venv/bin/python -m bench.mail --docs docs/benchmarks.md`"
    block = f"{BEGIN}\n\n{command}\n\n{text}\n\n{END}"
    if BEGIN in content and END in content:
        before = content[: content.index(BEGIN)]
        after = content[content.index(END) + len(END) :]
        path.write_text(before + block + after)
    else:
        path.write_text(content.rstrip() + "\n\n## Thread list\n\n" + block + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail", description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--docs", type=Path, help="update the Thread list section of this file")
    args = parser.parse_args(argv)
    figures = run(args.messages, args.clients, args.seconds)
    text = report(figures)
    print(text)
    if args.docs:
        write_docs(args.docs, text)
    return 0 if figures.errors == 0 else 1
