"""System jobs that every deployment runs."""

from __future__ import annotations

import json
import os
import socket
import time

from postwise.worker.registry import JobContext, Schedule, job

HEARTBEAT_PREFIX = "workers:heartbeat:"
HEARTBEAT_INTERVAL = 30
# A worker missing two beats in a row is considered gone.
HEARTBEAT_TTL = HEARTBEAT_INTERVAL * 2 + 5


def process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@job("system.heartbeat", schedule=Schedule(interval=HEARTBEAT_INTERVAL))
async def heartbeat(ctx: JobContext, *, origin: str | None = None) -> str:
    """Record which process ran the job and when, so operators can see workers are alive."""
    runner = process_id()
    payload = json.dumps({"runner": runner, "origin": origin, "at": time.time()})
    await ctx.store.set(f"{HEARTBEAT_PREFIX}{runner}", payload, ttl=HEARTBEAT_TTL)
    return runner
