"""`python -m bench.auth`: set up a server, measure, print the table (and update the docs)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench.auth import cpu
from bench.auth.cpu import CpuUsage
from bench.auth.load import (
    Latency,
    LoginFlood,
    access_token,
    api_client,
    bare_hash_rate,
    me_paced,
    me_sequential,
    time_hash,
    wait_for_session,
)
from bench.auth.report import Results, detail_table, figures_table, noise_warning, write_docs
from bench.auth.server import (
    Argon2Parameters,
    BenchError,
    RunningServer,
    free_port,
    migrate,
    running_server,
    seed_users,
    server_environment,
)

PASSWORD = "correct-Horse-battery-staple-93"
PROBE_EMAIL = "bench-probe@example.com"
LOGINS_PER_ACCOUNT = 9  # below the per-account limit of 10 a minute: nothing is throttled
IDLE_WARMUP_REQUESTS = 20
RESUME_SETTLE_S = 0.3  # after the flood resumes, until the server's pipeline is full again
BARE_SLICE_WARMUP_S = 0.2  # a fresh hasher pool: its threads' first hash allocates memory
_STARTED = time.monotonic()
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    accounts: int
    concurrency: int
    warmup_s: float
    duration_s: float
    idle_requests: int
    probe_rate: float
    probe_s: float
    hash_runs: int
    slices: int
    docs: Path | None
    json: Path | None

    @property
    def emails(self) -> list[str]:
        return [f"bench-{index:05d}@example.com" for index in range(self.accounts)]


@dataclass(frozen=True)
class Measured:
    window_s: float
    flood: LoginFlood
    me_idle: list[float]
    me_flood: list[float]
    cpu: cpu.CpuUsage
    early_401s: int
    logins_per_slice: list[float]
    bare_per_slice: list[float]
    bare_threads: int
    bare_cpu: CpuUsage


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return value

    return parse


def parse_plan(argv: Sequence[str], cores: int) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench.auth",
        description="Login throughput vs the argon2id limit, and /api/users/me latency "
        "under a login flood, against a real `postwise serve` on 127.0.0.1.",
    )
    add = parser.add_argument
    add("--accounts", type=_int_in(50, 5000), default=600, help="bench users (600)")
    add(
        "--concurrency",
        type=_int_in(1, 64),
        default=3 * cores,
        help=f"login requests in flight (3 x cores = {3 * cores})",
    )
    add("--warmup", type=_float_in(0, 10), default=2.0, help="flood warm-up, s (2)")
    add("--duration", type=_float_in(1, 30), default=10.0, help="counted window, s (10)")
    add("--idle-requests", type=_int_in(50, 2000), default=500, help="idle /me (500)")
    add("--probe-rate", type=_float_in(1, 100), default=20.0, help="/me per s (20)")
    add("--probe-duration", type=_float_in(1, 20), default=5.0, help="/me probe, s (5)")
    add("--hash-runs", type=_int_in(5, 200), default=20, help="argon2id timings (20)")
    add(
        "--slices",
        type=_int_in(1, 20),
        default=5,
        help="the counted window is cut in this many slices, each followed by as long of "
        "bare argon2id with the flood paused (5)",
    )
    add("--docs", type=Path, default=None, help="update the Auth section of this file")
    add("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    return Plan(
        accounts=args.accounts,
        concurrency=args.concurrency,
        warmup_s=args.warmup,
        duration_s=args.duration,
        idle_requests=args.idle_requests,
        probe_rate=args.probe_rate,
        probe_s=args.probe_duration,
        hash_runs=args.hash_runs,
        slices=args.slices,
        docs=args.docs,
        json=args.json,
    )


def _step(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


async def _measure(server: RunningServer, plan: Plan, params: Argon2Parameters) -> Measured:
    async with api_client(server.base_url, connections=1) as probe:
        token = await access_token(probe, email=PROBE_EMAIL, password=PASSWORD)
        early_401s = await wait_for_session(probe, token)
        await me_sequential(probe, token, count=IDLE_WARMUP_REQUESTS)
        _step(f"/me idle: {plan.idle_requests} sequential requests")
        idle = await me_sequential(probe, token, count=plan.idle_requests)

        flood = LoginFlood(
            server.base_url,
            emails=plan.emails,
            password=PASSWORD,
            concurrency=plan.concurrency,
            max_requests=plan.accounts * LOGINS_PER_ACCOUNT,
        )
        slice_s = plan.duration_s / plan.slices
        _step(f"login flood: {plan.warmup_s:g} s warm-up, concurrency {plan.concurrency}")
        await flood.start()
        login_cpu: list[cpu.CpuUsage] = []
        bare_cpu: list[cpu.CpuUsage] = []
        logins: list[int] = []
        bare: list[float] = []
        threads = 0
        try:
            await asyncio.sleep(plan.warmup_s)
            _step(
                f"{plan.slices} x ({slice_s:g} s of logins, then {slice_s:g} s of bare argon2id "
                "with the flood paused)"
            )
            for index in range(plan.slices):
                if index:
                    flood.resume()
                    await asyncio.sleep(RESUME_SETTLE_S)
                before = cpu.sample(server.pid)
                window = flood.open_window("throughput")
                counted = window.ok
                await asyncio.sleep(slice_s)
                flood.open_window("between")
                logins.append(window.ok - counted)
                login_cpu.append(cpu.usage(before, cpu.sample(server.pid)))
                await flood.pause()
                before = cpu.sample(server.pid)
                rate, threads = await bare_hash_rate(
                    params, duration_s=slice_s, password=PASSWORD, warmup_s=BARE_SLICE_WARMUP_S
                )
                bare_cpu.append(cpu.usage(before, cpu.sample(server.pid)))
                bare.append(rate)
            flood.resume()
            await asyncio.sleep(RESUME_SETTLE_S)
            flood.open_window("probe")
            exhausted = flood.exhausted
            _step(f"/me under flood: {plan.probe_rate:g}/s for {plan.probe_s:g} s")
            under = await me_paced(probe, token, rate=plan.probe_rate, duration=plan.probe_s)
            exhausted = exhausted or flood.exhausted
        finally:
            await flood.stop()
    if exhausted:
        raise BenchError(
            f"the flood used up its {flood.sent} requests before the end: raise --accounts"
        )
    logins_cpu = cpu.combine(login_cpu)
    return Measured(
        window_s=logins_cpu.window_s,
        flood=flood,
        me_idle=idle,
        me_flood=under,
        cpu=logins_cpu,
        early_401s=early_401s,
        logins_per_slice=[n / slice_s for n in logins],
        bare_per_slice=bare,
        bare_threads=threads,
        bare_cpu=cpu.combine(bare_cpu),
    )


def _machine(cores: int) -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cores} x {model}, Python {platform.python_version()}"


def run(plan: Plan, *, command: str, cores: int) -> Results:
    params = Argon2Parameters.server_defaults()
    with tempfile.TemporaryDirectory(prefix="postwise-bench-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = server_environment(data_dir, port)
        _step("postwise migrate")
        migrate(env, data_dir / "migrate.log")
        _step(f"seeding {plan.accounts + 1} verified users (one shared argon2id hash)")
        seed_users(data_dir, [PROBE_EMAIL, *plan.emails], params.hasher().hash(PASSWORD))
        _step(f"postwise serve on 127.0.0.1:{port}")
        with running_server(data_dir, env, port) as server:
            _step("waiting for the machine to be idle")
            cpu.wait_until_quiet()
            _step(f"argon2id ({params}): {plan.hash_runs} hashes")
            before = cpu.sample(server.pid)
            hash_before_s = time_hash(params, runs=plan.hash_runs, password=PASSWORD)
            hash_cpu = cpu.usage(before, cpu.sample(server.pid))
            measured = _run_async(_measure(server, plan, params))
            _step("argon2id again, the server idle after the flood")
            cpu.wait_until_quiet()
            hash_after_s = time_hash(params, runs=plan.hash_runs, password=PASSWORD)
            _step("stopping the server")
    window = measured.flood.windows["throughput"]
    return Results(
        date=datetime.now(UTC),
        command=command,
        machine=_machine(cores),
        cores=cores,
        argon2=params,
        hash_runs=plan.hash_runs,
        hash_before_s=hash_before_s,
        hash_after_s=hash_after_s,
        hash_cpu=hash_cpu,
        bare_threads=measured.bare_threads,
        bare_per_slice=measured.bare_per_slice,
        logins_per_slice=measured.logins_per_slice,
        bare_cpu=measured.bare_cpu,
        accounts=plan.accounts,
        concurrency=plan.concurrency,
        window_s=measured.window_s,
        logins_ok=window.ok,
        login_failures=window.failures(),
        login_latency=Latency.of(window.latencies),
        me_idle=Latency.of(measured.me_idle),
        me_flood=Latency.of(measured.me_flood),
        probe_rate=plan.probe_rate,
        cpu=measured.cpu,
        early_401s=measured.early_401s,
    )


def _run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    # uvloop, as the server uses: the load generator's own loop overhead is CPU the server
    # does not get.
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # The server sizes its argon2 pool with os.cpu_count(); the limit uses the same count.
    cores = os.cpu_count() or 1
    plan = parse_plan(args, cores)
    command = shlex.join([".venv/bin/python", "-m", "bench.auth", *args])
    try:
        results = run(plan, command=command, cores=cores)
    except BenchError as error:
        print(f"bench.auth: {error}", file=sys.stderr)
        return 1
    _step("done")
    print(f"\nAuth benchmark, {results.date:%Y-%m-%d %H:%M} UTC, {results.machine}")
    print("(the load generator runs on the same cores as the server)\n")
    print(figures_table(results))
    print()
    print(detail_table(results))
    warning = noise_warning(results)
    if warning:
        print(f"\n{warning}")
    if plan.json is not None:
        plan.json.write_text(json.dumps(results.as_json(), indent=2) + "\n", encoding="utf-8")
    if plan.docs is not None:
        write_docs(plan.docs, results)
        print(f"\nwritten to {plan.docs}")
    return 0
