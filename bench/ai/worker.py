"""The backfill as a worker process runs it: `python -m bench.ai.worker DATA_DIR` opens the
runtime on the server's database, starts the triage pool, prints `ready`, waits for a line on
stdin, then runs the `ai.backfill` job back to back (each run triages in transactions of 100
messages within its time budget; a scheduler would start the next run 20 s after the last)
until it finds nothing left, and prints one JSON line: messages, seconds, CPU of this process
and of the triage pool's process.

A process of its own, apart from the bench's HTTP client: in the client's process the
backfill's Python work would hold the GIL between requests and the client's clock would count
it as the server's latency.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from bench.ai.common import process_cpu, start_triage_process
from postwise.ai.tasks import backfill
from postwise.config import Settings
from postwise.observability.logging import configure_logging
from postwise.runtime import open_runtime
from postwise.worker.registry import JobContext


def settings_for(data_dir: Path, *, processes: int = 1) -> Settings:
    """The settings `postwise serve` has with bench.auth's environment (dev, this data
    folder: the same SQLite file and secret); `processes` 0 triages in a thread of this
    process instead of a pool's process (as a one-core server would)."""
    return Settings(
        env="dev",
        data_dir=data_dir,
        log_level="WARNING",
        ai_triage=True,
        ai_triage_processes=processes,
    )


async def backfill_all(
    data_dir: Path, *, wait_for_go: bool = True, processes: int = 1
) -> dict[str, float]:
    settings = settings_for(data_dir, processes=processes)
    async with open_runtime(settings, strict=True) as runtime:
        ctx = JobContext(
            settings=settings,
            store=runtime.store,
            sessionmaker=runtime.sessionmaker,
            jobs=runtime.jobs,
            mailer=runtime.mailer,
            ai=runtime.ai,
        )
        pid = await start_triage_process(runtime.ai.pool) if processes else None
        if wait_for_go:
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
        pool_before = (process_cpu(pid) if pid else None) or 0.0
        began, cpu = time.monotonic(), time.process_time()
        total, runs = 0, 0
        while True:
            done = await backfill(ctx)  # registered jobs are typed as returning object
            assert isinstance(done, int)
            if done == 0:
                break
            total += done
            runs += 1
        return {
            "messages": total,
            "runs": runs,
            "seconds": time.monotonic() - began,
            "cpu_s": time.process_time() - cpu,
            "pool_cpu_s": ((process_cpu(pid) if pid else None) or pool_before) - pool_before,
        }


def main(argv: list[str]) -> int:
    configure_logging(settings_for(Path(argv[0])))  # warnings and errors, on stderr
    result = asyncio.run(backfill_all(Path(argv[0])))
    print(json.dumps(result), flush=True)
    return 0


# Guarded: the triage pool's forkserver imports this module again in its process.
if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
