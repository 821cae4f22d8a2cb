"""`python -m bench.ai [PART]`: run one part of the assistant's benchmark, or all four in turn,
print their tables and (with --docs) write them into the Assistant section."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.ai import backfill, cache, sync, triage
from bench.ai.common import step, write_docs
from bench.auth.server import BenchError as ServerError
from bench.sync.server import BenchError
from postwise.config import Settings
from postwise.observability.logging import configure_logging

PARTS = ("triage", "sync", "backfill", "cache")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ai",
        description="The assistant's performance: local triage throughput (triage), the sync "
        "with triage on and off (sync), a backfill while the thread list is read (backfill), "
        "and the remote provider's cache on a re-sync (cache). All four by default.",
    )
    add = parser.add_argument
    add("part", nargs="?", choices=(*PARTS, "all"), default="all")
    add("--seed", type=int, default=1, help="generator seed (1)")
    add("--triage-messages", type=int, default=3000, help="triage: messages (3000)")
    add("--sync-messages", type=int, default=10_000, help="sync: mailbox size (10000)")
    add("--rounds", type=int, default=2, help="sync: rounds of off and on, alternating (2)")
    add("--backfill-messages", type=int, default=100_000, help="backfill: mailbox (100000)")
    add(
        "--embedded-seconds",
        type=float,
        default=45.0,
        help="backfill: window with the backfill in `postwise serve`, 0 to skip (45)",
    )
    add("--cache-messages", type=int, default=300, help="cache: mailbox size (300)")
    add("--docs", type=Path, default=None, help="update the Assistant section of this file")
    return parser


def _runners(args: argparse.Namespace, command: str) -> dict[str, Callable[[], tuple[str, str]]]:
    """Each part: run it, and give (its tables, its docs block)."""

    def run_triage() -> tuple[str, str]:
        f = triage.run(triage.Plan(messages=args.triage_messages, seed=args.seed))
        return triage.report(f), triage.docs(f, command)

    def run_sync() -> tuple[str, str]:
        plan = sync.Plan(messages=args.sync_messages, seed=args.seed, rounds=args.rounds)
        f = sync.run(plan)
        return sync.report(f), sync.docs(f, command)

    def run_backfill() -> tuple[str, str]:
        plan = backfill.Plan(
            messages=args.backfill_messages, seed=args.seed, embedded_s=args.embedded_seconds
        )
        f = backfill.run(plan)
        return backfill.report(f), backfill.docs(f, command)

    def run_cache() -> tuple[str, str]:
        f = cache.run(cache.Plan(messages=args.cache_messages))
        return cache.report(f), cache.docs(f, command)

    return {"triage": run_triage, "sync": run_sync, "backfill": run_backfill, "cache": run_cache}


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(args_list)
    command = shlex.join([".venv/bin/python", "-m", "bench.ai", *args_list])
    if os.environ.get("PYTHONPATH"):  # another tree of the code was measured: say which
        command = f"PYTHONPATH={shlex.quote(os.environ['PYTHONPATH'])} {command}"
    # Warnings and errors on stderr; the jobs' and schedules' info lines would bury the tables.
    configure_logging(Settings(env="dev", log_level="WARNING"))
    parts = PARTS if args.part == "all" else (args.part,)
    runners = _runners(args, command)
    blocks: dict[str, str] = {}
    status = 0
    try:
        for part in parts:
            step(f"--- {part}")
            text, blocks[part] = runners[part]()
            print(f"\n{part}\n\n{text}\n", flush=True)
    except (BenchError, ServerError) as error:
        print(f"bench.ai: {error}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("bench.ai: interrupted", file=sys.stderr)
        return 130
    if args.docs is not None and blocks:
        # Last part first: a block missing from the file goes right under the heading, so
        # the parts end up in their order.
        for part in reversed([p for p in PARTS if p in blocks]):
            write_docs(args.docs, part, blocks[part])
        print(f"written to {args.docs}", file=sys.stderr)
    return status
