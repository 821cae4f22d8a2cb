"""`python -m bench.sync`: generate a mailbox, serve it with Dovecot, time mbsync and Postwise
downloading it, print the table (and update the docs)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import shlex
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.fixtures.dovecot import Dovecot

from bench.sync import engine, peer, server
from bench.sync.generate import generate
from bench.sync.report import (
    Corpus,
    Results,
    detail_table,
    figures_table,
    noise_warning,
    phase_table,
    write_docs,
)
from bench.sync.server import BenchError, Mailbox

BIG_WARM_BODIES = 1000  # newest bodies fetched while warming the large INBOX
_STARTED = time.monotonic()


@dataclass(frozen=True)
class Plan:
    messages: int
    first50_size: int
    seed: int
    rounds: int
    docs: Path | None
    json: Path | None
    keep: bool


def _int_in(low: int, high: int, *, zero: bool = False) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not (low <= value <= high or (zero and value == 0)):
            allowed = f"0 or between {low} and {high}" if zero else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be {allowed}")
        return value

    return parse


def parse_plan(argv: Sequence[str]) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sync",
        description="Postwise's full initial sync of a generated mailbox served by Dovecot, "
        "next to mbsync downloading the same mailbox in the same run; and the time to the "
        "first 50 inbox messages of a large INBOX.",
    )
    add = parser.add_argument
    add("--messages", type=_int_in(50, 200_000), default=10_000, help="mailbox size (10000)")
    add(
        "--first50-size",
        type=_int_in(1000, 500_000, zero=True),
        default=100_000,
        help="INBOX size for the first-50 figure, 0 to skip (100000)",
    )
    add("--seed", type=int, default=1, help="generator seed (1)")
    add(
        "--rounds",
        type=_int_in(1, 9),
        default=3,
        help="mbsync and Postwise take turns this many times; medians are shown (3)",
    )
    add("--docs", type=Path, default=None, help="update the Mail sync section of this file")
    add("--json", type=Path, default=None, help="also write the figures to this JSON file")
    add("--keep", action="store_true", help="keep the temporary folder (mail, databases, logs)")
    args = parser.parse_args(argv)
    return Plan(
        messages=args.messages,
        first50_size=args.first50_size,
        seed=args.seed,
        rounds=args.rounds,
        docs=args.docs,
        json=args.json,
        keep=args.keep,
    )


def _step(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


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


def _mailbox(
    dovecot: Dovecot, count: int, *, seed: int, inbox_only: bool, warm_bodies: int | None
) -> tuple[Mailbox, Corpus]:
    mailbox = server.new_mailbox(dovecot)
    started = time.monotonic()
    stats = generate(mailbox.maildir, count, seed=seed, owner=server.owner(), inbox_only=inbox_only)
    os.sync()  # written back now, not under the contenders' fsyncs
    generated = time.monotonic() - started
    warmed = server.warm(dovecot, mailbox, bodies=warm_bodies)
    if sum(warmed.folders.values()) != count:
        raise BenchError(f"Dovecot sees {warmed.folders}, {count} messages were written")
    corpus = Corpus(
        count=stats.count,
        total_bytes=stats.total_bytes,
        median_bytes=stats.median_bytes,
        mean_bytes=stats.mean_bytes,
        p90_bytes=stats.p90_bytes,
        folders=dict(stats.folders),
        mix=stats.mix(),
        generate_s=generated,
        warm_s=warmed.seconds,
    )
    return mailbox, corpus


def _peer_round(
    root: Path, dovecot: Dovecot, mailbox: Mailbox, plan: Plan, version: str, label: str
) -> peer.PeerRun:
    _step(f"{label}mbsync -a")
    workdir = root / "mbsync"
    os.sync()
    result = peer.run_mbsync(workdir, dovecot, mailbox, version=version, expected=plan.messages)
    _step(f"{label}mbsync: {result.seconds:.2f} s")
    _discard(workdir, plan)
    return result


def _full_round(
    root: Path, dovecot: Dovecot, mailbox: Mailbox, plan: Plan, cores: int, label: str
) -> engine.EngineRun:
    _step(f"{label}Postwise: full initial sync")
    data = root / "postwise-full"
    settings = engine.settings_for(data, parse_processes=cores)
    engine.migrate(settings)
    os.sync()
    result = asyncio.run(engine.sync(settings, dovecot, mailbox, expected=plan.messages))
    _step(f"{label}Postwise: {result.seconds:.2f} s")
    _discard(data, plan)
    return result


def _big_round(
    root: Path, dovecot: Dovecot, mailbox: Mailbox, plan: Plan, cores: int, label: str
) -> engine.EngineRun:
    _step(f"{label}Postwise: first {engine.FIRST} of the {plan.first50_size:,}-message INBOX")
    data = root / "postwise-first"
    settings = engine.settings_for(data, parse_processes=cores)
    engine.migrate(settings)
    os.sync()
    result = asyncio.run(engine.sync(settings, dovecot, mailbox, expected=None))
    _step(f"{label}Postwise: first {engine.FIRST} after {result.first_s:.2f} s")
    _discard(data, plan)
    return result


def _discard(path: Path, plan: Plan) -> None:
    """Each round starts from an empty Maildir and a fresh database; with --keep, every
    round's copy stays (renamed)."""
    if not plan.keep:
        server.remove_tree(path)
    elif path.exists():
        target = path.with_name(f"{path.name}-{time.monotonic_ns()}")
        path.rename(target)


def run(plan: Plan, *, command: str, cores: int) -> Results:
    server.check_tools()
    dovecot_version, isync_version = server.versions()
    root = Path(tempfile.mkdtemp(prefix="postwise-bench-sync-"))
    root.chmod(0o755)  # Dovecot's mail processes run as another user
    dovecot: Dovecot | None = None
    try:
        _step(f"Dovecot in {root}")
        dovecot = server.start(root / "dovecot")
        _step(f"generating {plan.messages:,} messages (seed {plan.seed}), warming Dovecot")
        mailbox, corpus = _mailbox(
            dovecot, plan.messages, seed=plan.seed, inbox_only=False, warm_bodies=None
        )
        _step(corpus.describe())
        big: tuple[Mailbox, Corpus] | None = None
        if plan.first50_size:
            _step(f"generating a {plan.first50_size:,}-message INBOX, warming Dovecot")
            big = _mailbox(
                dovecot,
                plan.first50_size,
                seed=plan.seed + 1,
                inbox_only=True,
                warm_bodies=BIG_WARM_BODIES,
            )
            _step(big[1].describe())

        peer_runs: list[peer.PeerRun] = []
        full_runs: list[engine.EngineRun] = []
        big_runs: list[engine.EngineRun] = []
        for number in range(1, plan.rounds + 1):
            label = f"round {number}/{plan.rounds}: " if plan.rounds > 1 else ""
            peer_runs.append(_peer_round(root, dovecot, mailbox, plan, isync_version, label))
            full_runs.append(_full_round(root, dovecot, mailbox, plan, cores, label))
            if big is not None:
                big_runs.append(_big_round(root, dovecot, big[0], plan, cores, label))
        _step("stopping Dovecot")
    finally:
        if dovecot is not None:
            dovecot.stop()
        if plan.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            _step(f"removing {root}")
            server.remove_tree(root)
    return Results(
        date=datetime.now(UTC),
        command=command,
        machine=_machine(cores),
        dovecot=dovecot_version,
        isync=isync_version,
        sqlite=sqlite3.sqlite_version,
        seed=plan.seed,
        corpus=corpus,
        peer_runs=peer_runs,
        full_runs=full_runs,
        big=big[1] if big is not None else None,
        big_runs=big_runs,
    )


def _json(results: Results) -> dict[str, object]:
    data = dataclasses.asdict(results)
    data["date"] = results.date.isoformat()
    data["ratio"] = results.ratio
    data["ratios"] = results.ratios
    others = {
        "peer_runs": [run.others for run in results.peer_runs],
        "full_runs": [run.others for run in results.full_runs],
        "big_runs": [run.others for run in results.big_runs],
    }
    for name, values in others.items():
        for item, value in zip(data[name], values, strict=True):
            item["others"] = value
    return data


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    plan = parse_plan(args)
    # Postwise sizes its parse pool with os.cpu_count() (sync_parse_processes = 0).
    cores = os.cpu_count() or 1
    command = shlex.join([".venv/bin/python", "-m", "bench.sync", *args])
    if os.environ.get("PYTHONPATH"):  # another tree of the code was measured: say which
        command = f"PYTHONPATH={shlex.quote(os.environ['PYTHONPATH'])} {command}"
    try:
        results = run(plan, command=command, cores=cores)
    except BenchError as error:
        print(f"bench.sync: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.sync: interrupted", file=sys.stderr)
        return 130
    _step("done")
    print(f"\nSync benchmark, {results.date:%Y-%m-%d %H:%M} UTC, {results.machine}")
    print(f"Dovecot {results.dovecot}, isync {results.isync}, SQLite {results.sqlite}\n")
    print(figures_table(results))
    print()
    print(detail_table(results))
    print()
    print(phase_table(results.full, results.full_s, "where Postwise's time went"))
    warning = noise_warning(results)
    if warning:
        print(f"\n{warning}")
    if plan.json is not None:
        plan.json.write_text(json.dumps(_json(results), indent=2) + "\n", encoding="utf-8")
    if plan.docs is not None:
        write_docs(plan.docs, results)
        print(f"\nwritten to {plan.docs}")
    return 0
