"""Memory soak: a real `postwise serve` (embedded default: SQLite, in-process Store and jobs)
holding 200 WebSockets while API clients list, read, search, star and sign in, in rounds with
idle gaps, its resident memory sampled every 10 s.

The question it answers is whether memory that grows under load is a high-water mark (it
levels off: later rounds reuse what the first took) or a leak (every round adds about the
same again). A leak keeps climbing at the same slope whatever the round; a high-water mark
rises in the first round and then stays within a few per cent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.auth.server import (
    _postwise_executable,
    free_port,
    migrate,
    running_server,
    server_environment,
)
from bench.docs import replace_block

BEGIN = "<!-- bench.soak:begin (written by `python -m bench.soak --docs`) -->"
END = "<!-- bench.soak:end -->"
EMAIL = "soak@bench.example"
PASSWORD = "bench-soak-password-1"
# A later round may end this much above the first round's end and still count as levelled off.
LEVEL_TOLERANCE = 0.10


def _say(text: str) -> None:
    print(f"[soak] {text}", file=sys.stderr, flush=True)


@dataclass
class Sample:
    at_s: float
    phase: str
    rss_mb: float
    hwm_mb: float
    children_mb: float


@dataclass
class Counters:
    requests: int = 0
    errors: int = 0
    frames: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            for child in map(int, text):
                found.append(child)
                found.extend(_children(child))
    except OSError:
        pass
    return found


class Sampler:
    """Reads VmRSS/VmHWM of the server (and the sum of its child processes) every period."""

    def __init__(self, pid: int, period_s: float) -> None:
        self.pid = pid
        self.period_s = period_s
        self.phase = "start"
        self.samples: list[Sample] = []
        self._began = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> Sample:
        children = sum(_status_kib(child, "VmRSS") for child in _children(self.pid))
        sample = Sample(
            at_s=time.monotonic() - self._began,
            phase=self.phase,
            rss_mb=_status_kib(self.pid, "VmRSS") / 1024,
            hwm_mb=_status_kib(self.pid, "VmHWM") / 1024,
            children_mb=children / 1024,
        )
        self.samples.append(sample)
        return sample

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            s = self.sample()
            _say(
                f"{s.at_s:5.0f} s  {s.phase:<8} RSS {s.rss_mb:6.1f} MB  "
                f"(children {s.children_mb:.0f})"
            )

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()


async def _open_socket(
    url: str, token: str, counters: Counters
) -> tuple[ClientConnection, asyncio.Task[None]]:
    socket = await connect(url, max_size=2**22, open_timeout=30)
    await socket.send(json.dumps({"type": "auth", "token": token}))
    while json.loads(await socket.recv()).get("type") != "ready":
        pass

    async def drain() -> None:
        # A browser reads every frame; a client that did not would measure the server's
        # per-connection buffers instead.
        try:
            async for _frame in socket:
                counters.frames += 1
        except Exception:  # the socket closing at the end of a round
            return

    return socket, asyncio.create_task(drain())


async def _client(
    http: httpx.AsyncClient,
    token: str,
    thread_ids: list[str],
    until: float,
    counters: Counters,
    seed: int,
    login_share: float,
) -> None:
    rng = random.Random(seed)
    auth = {"Authorization": f"Bearer {token}"}
    words = ["meeting", "invoice", "review", "from:alice", "has:attachment", "project", "lunch"]
    while time.monotonic() < until:
        # Sign-ins (argon2id, 19 MiB each) come at their own rate; the rest share the other 98 %.
        pick = 1.0 if rng.random() < login_share else rng.random() * 0.98
        thread = rng.choice(thread_ids)
        if pick < 0.40:
            request = http.get("/api/threads", params={"limit": 50}, headers=auth)
        elif pick < 0.65:
            request = http.get(f"/api/threads/{thread}", headers=auth)
        elif pick < 0.80:
            request = http.get("/api/search", params={"q": rng.choice(words)}, headers=auth)
        elif pick < 0.92:
            action = rng.choice(["star", "unstar", "read", "unread"])
            request = http.post(
                "/api/threads/actions",
                json={"thread_ids": [thread], "action": action},
                headers=auth,
            )
        elif pick < 0.98:
            request = http.get("/api/users/me", headers=auth)
        else:
            request = http.post(
                "/api/auth/login",
                json={"email": EMAIL, "password": PASSWORD},
                headers={"X-Postwise-Client": "api"},
            )
        try:
            response = await request
            counters.by_status[response.status_code] = (
                counters.by_status.get(response.status_code, 0) + 1
            )
            counters.errors += response.status_code >= 500
        except httpx.HTTPError:
            counters.errors += 1
        counters.requests += 1


async def _round(base_url: str, token: str, thread_ids: list[str], plan: Plan) -> Counters:
    counters = Counters()
    ws_url = base_url.replace("http://", "ws://") + "/api/ws"
    opened = []
    for start in range(0, plan.sockets, 20):
        batch = range(start, min(plan.sockets, start + 20))
        opened += await asyncio.gather(*(_open_socket(ws_url, token, counters) for _ in batch))
    until = time.monotonic() + plan.load_s
    limits = httpx.Limits(max_connections=plan.clients, max_keepalive_connections=plan.clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
        await asyncio.gather(
            *(
                _client(http, token, thread_ids, until, counters, seed, plan.login_share)
                for seed in range(plan.clients)
            )
        )
    for socket, reader in opened:
        await socket.close()
        reader.cancel()
    return counters


def _seed_demo(env: dict[str, str], data_dir: Path) -> None:
    with (data_dir / "server.log").open("ab") as log:
        subprocess.run(
            [_postwise_executable(), "demo", "--email", EMAIL, "--password", PASSWORD],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=300,
            check=True,
        )


@dataclass(frozen=True)
class Plan:
    rounds: int
    load_s: float
    idle_s: float
    final_idle_s: float
    sockets: int
    clients: int
    sample_s: float
    login_share: float


def run(
    plan: Plan, extra_env: dict[str, str]
) -> tuple[list[Sample], list[Counters], dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="postwise-bench-soak-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = server_environment(data_dir, port) | extra_env
        migrate(env, data_dir / "server.log")
        _seed_demo(env, data_dir)
        with (
            running_server(data_dir, env, port) as server,
            httpx.Client(base_url=server.base_url, timeout=30) as http,
        ):
            login = http.post(
                "/api/auth/login",
                json={"email": EMAIL, "password": PASSWORD},
                headers={"X-Postwise-Client": "api"},
            )
            login.raise_for_status()
            token = login.json()["access_token"]
            page = http.get(
                "/api/threads", params={"limit": 100}, headers={"Authorization": f"Bearer {token}"}
            )
            thread_ids = [item["id"] for item in page.json()["items"]]
            sampler = Sampler(server.pid, plan.sample_s)
            sampler.start()
            marks: dict[str, float] = {"start": sampler.samples[0].rss_mb}
            rounds: list[Counters] = []
            try:
                for n in range(1, plan.rounds + 1):
                    sampler.phase = f"load {n}"
                    counters = asyncio.run(_round(server.base_url, token, thread_ids, plan))
                    rounds.append(counters)
                    marks[f"end of round {n}"] = sampler.sample().rss_mb
                    _say(
                        f"round {n}: {counters.requests} requests, {counters.errors} errors, "
                        f"{counters.frames} frames"
                    )
                    sampler.phase = f"idle {n}"
                    time.sleep(plan.final_idle_s if n == plan.rounds else plan.idle_s)
                    marks[f"after idle {n}"] = sampler.sample().rss_mb
            finally:
                sampler.stop()
            marks["peak (VmHWM)"] = max(s.hwm_mb for s in sampler.samples)
            return sampler.samples, rounds, marks


def verdict(marks: dict[str, float], rounds: int) -> str:
    first = marks["end of round 1"]
    last = marks[f"end of round {rounds}"]
    if last <= first * (1 + LEVEL_TOLERANCE):
        return (
            "levels off (a high-water mark): the last round ended within "
            f"{LEVEL_TOLERANCE:.0%} of the first"
        )
    return "keeps growing: every round adds memory (a leak or an unbounded cache)"


def _statuses(rounds: list[Counters]) -> str:
    total: dict[int, int] = {}
    for counters in rounds:
        for status, count in counters.by_status.items():
            total[status] = total.get(status, 0) + count
    return ", ".join(f"{status}: {count:,}" for status, count in sorted(total.items()))


def report(
    samples: list[Sample], rounds: list[Counters], marks: dict[str, float], plan: Plan, label: str
) -> str:
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}"
    requests = sum(c.requests for c in rounds)
    errors = sum(c.errors for c in rounds)
    minutes = (samples[-1].at_s - samples[0].at_s) / 60
    lines = [
        f"Memory soak ({label}), {stamp}: {plan.rounds} rounds of {plan.load_s:.0f} s with "
        f"{plan.sockets} WebSockets and {plan.clients} API clients, {plan.idle_s:.0f} s idle "
        f"between and {plan.final_idle_s:.0f} s at the end ({minutes:.1f} min in all), RSS "
        f"every {plan.sample_s:.0f} s",
        "",
        "| moment | server RSS |",
        "|---|---|",
        *(f"| {name} | {value:.0f} MB |" for name, value in marks.items()),
        "",
        f"Requests: {requests:,} ({errors} errors or 5xx); frames received on the sockets: "
        f"{sum(c.frames for c in rounds):,}; statuses: {_statuses(rounds)}. "
        f"Verdict: {verdict(marks, plan.rounds)}.",
        "",
        "RSS samples (MB): " + ", ".join(f"{s.rss_mb:.0f}" for s in samples),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=120)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--final-idle-seconds", type=float, default=120)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--sample-seconds", type=float, default=10)
    parser.add_argument(
        "--login-share", type=float, default=0.02, help="share of requests that sign in"
    )
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    parser.add_argument("--label", default="default settings")
    parser.add_argument("--docs", type=Path, help="update the soak section of this file")
    args = parser.parse_args(argv)
    plan = Plan(
        rounds=args.rounds,
        load_s=args.load_seconds,
        idle_s=args.idle_seconds,
        final_idle_s=args.final_idle_seconds,
        sockets=args.sockets,
        clients=args.clients,
        sample_s=args.sample_seconds,
        login_share=args.login_share,
    )
    extra_env = dict(item.split("=", 1) for item in args.env)
    samples, rounds, marks = run(plan, extra_env)
    text = report(samples, rounds, marks, plan, args.label)
    print(text)
    if args.docs:
        command = "Command: `.venv/bin/python -m bench.soak --docs docs/benchmarks.md`"
        replace_block(
            args.docs,
            section="## Memory soak",
            begin=BEGIN,
            end=END,
            block=f"{BEGIN}\n\n{command}\n\n{text}\n\n{END}",
        )
    return 0
