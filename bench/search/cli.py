"""`python -m bench.search`: generate a mailbox, index it with notmuch and with Postwise, time a
mix of searches through both, print the tables (and update the docs)."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.auth.server import BenchError, free_port, running_server
from bench.search import api, measure, peer, queries, report
from bench.search.corpus import write_corpus

_STARTED = time.monotonic()


@dataclass(frozen=True)
class Plan:
    messages: int
    rounds: int
    seed: int
    docs: Path | None
    keep: bool
    workdir: Path | None


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def parse_plan(argv: Sequence[str]) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search",
        description="Search latency of a mix of queries through Postwise's HTTP API next to "
        "`notmuch search` on the same generated Maildir, in the same run.",
    )
    add = parser.add_argument
    add("--messages", type=_int_in(500, 500_000), default=100_000, help="mailbox size (100000)")
    add("--rounds", type=_int_in(1, 1000), default=20, help="timed runs of each query (20)")
    add("--seed", type=int, default=1, help="generator seed (1)")
    add("--docs", type=Path, default=None, help="update the Search section of this file")
    add("--keep", action="store_true", help="keep the temporary folder (mail, indexes, logs)")
    add(
        "--workdir",
        type=Path,
        default=None,
        help="where the temporary folder goes (default: the system's, e.g. /tmp); "
        "100,000 messages need about 8 GB",
    )
    args = parser.parse_args(argv)
    return Plan(
        messages=args.messages,
        rounds=args.rounds,
        seed=args.seed,
        docs=args.docs,
        keep=args.keep,
        workdir=args.workdir,
    )


def _step(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count() or 1} x {model}, Python {platform.python_version()}"


def _check_space(root: Path, messages: int) -> None:
    # The Maildir (~25 KB a message), Postwise's blobs and database, and Xapian's files.
    needed = messages * 80_000
    free = shutil.disk_usage(root).free
    if free < needed:
        raise BenchError(f"{root} has {free / 1e9:.1f} GB free, {needed / 1e9:.1f} GB needed")


def _bytes(path: Path, pattern: str = "**/*") -> int:
    return sum(f.stat().st_size for f in path.glob(pattern) if f.is_file())


def run(plan: Plan, *, command: str) -> report.Results:
    peer.check_tool()
    notmuch_version, xapian_version = peer.versions()
    root = Path(tempfile.mkdtemp(prefix="postwise-bench-search-", dir=plan.workdir))
    try:
        _check_space(root, plan.messages)
        _step(f"generating {plan.messages:,} messages (seed {plan.seed}) into {root / 'mail'}")
        facts = write_corpus(root / "mail", plan.messages, seed=plan.seed)
        _step(f"written in {facts.seconds:.1f} s, {facts.stats.total_bytes / 1e6:,.0f} MB")

        nm = peer.setup(root / "notmuch", root / "mail", user=facts.user)
        _step("notmuch new")
        indexed = peer.index(nm, expected=plan.messages)
        _step(f"notmuch indexed in {indexed.seconds:.1f} s")

        port = free_port()
        data_dir = root / "postwise"
        env = api.prepare(data_dir, port)
        _step("postwise import")
        imported = api.import_maildir(env, root / "mail", expected=plan.messages)
        _step(f"Postwise imported in {imported.seconds:.1f} s")

        with running_server(data_dir, env, port) as server:
            token = api.login(server.base_url)
            settled = measure.settle()
            # Built now, not before the indexing: `newer_than:` counts back from this moment.
            mix = queries.build_mix(facts, now=datetime.now(UTC))
            _step(f"{len(mix)} queries, {plan.rounds} rounds (machine busy {settled:.2f} cores)")
            timings, window = measure.measure(
                server.base_url,
                token,
                nm,
                [*mix, queries.baseline()],
                rounds=plan.rounds,
                server_pid=server.pid,
            )
        _step(f"timed in {window.seconds:.1f} s")
        # What each side keeps besides the Maildir: Postwise's database (rows, FTS5 index) and
        # notmuch's Xapian database; Postwise also keeps the raw messages as blobs.
        disk = {
            "postwise": _bytes(data_dir, "postwise.db*"),
            "blobs": _bytes(data_dir / "blobs"),
            "notmuch": _bytes(root / "notmuch" / "database"),
        }
    finally:
        if plan.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            _step(f"removing {root}")
            shutil.rmtree(root, ignore_errors=True)
    return report.Results(
        date=datetime.now(UTC),
        command=command,
        machine=_machine(),
        sqlite=sqlite3.sqlite_version,
        notmuch=notmuch_version,
        xapian=xapian_version,
        seed=plan.seed,
        messages=facts.count,
        total_bytes=facts.stats.total_bytes,
        folders=dict(facts.stats.folders),
        mix=facts.stats.mix(),
        generate_s=facts.seconds,
        indexed=indexed,
        imported=imported,
        rounds=plan.rounds,
        timings=timings[:-1],
        baseline=timings[-1],
        window=window,
        settled_cores=settled,
        disk=disk,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    plan = parse_plan(args)
    command = shlex.join([".venv/bin/python", "-m", "bench.search", *args])
    try:
        results = run(plan, command=command)
    except (BenchError, peer.PeerError, queries.NoValue) as error:
        print(f"bench.search: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.search: interrupted", file=sys.stderr)
        return 130
    _step("done")
    print(f"\nSearch benchmark, {results.date:%Y-%m-%d %H:%M} UTC, {results.machine}")
    print(f"SQLite {results.sqlite}, notmuch {results.notmuch} (Xapian {results.xapian})\n")
    print(report.figures_table(results))
    print()
    print(report.query_table(results))
    print()
    print(report.detail_table(results))
    warning = report.noise_warning(results)
    if warning:
        print(f"\n{warning}")
    empty = results.empty()
    if empty:
        print("\nQueries that found nothing: " + "; ".join(empty))
    if plan.docs is not None:
        report.write_docs(plan.docs, results)
        print(f"\nwritten to {plan.docs}")
    return 1 if empty or results.window.statuses else 0
