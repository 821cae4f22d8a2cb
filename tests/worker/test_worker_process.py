"""A real `postwise worker` process takes a job from Redis and runs it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from postwise.store import create_store
from postwise.worker.broker import CONSUMER_GROUP, build_broker
from postwise.worker.queue import JobQueue
from postwise.worker.registry import load_jobs
from postwise.worker.tasks import HEARTBEAT_PREFIX
from tests import services
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.backend


def _worker_env(settings, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWISE_")}
    env.update(
        POSTWISE_ENV="test",
        POSTWISE_SECRET_KEY=TEST_SECRET,
        POSTWISE_DATA_DIR=str(data_dir),
        POSTWISE_DATABASE_URL=settings.effective_database_url,
        POSTWISE_REDIS_URL=settings.redis_url,
        POSTWISE_LOG_FORMAT="json",
        POSTWISE_STORE_PREFIX=settings.store_prefix,
    )
    return env


def stop_worker(worker: subprocess.Popen[bytes], log_path: Path) -> int:
    """SIGTERM, then the exit code. The worker bounds its own stop (its running jobs' 15 s, the
    receiver's 10 s, then the sync engine's 15 s: the deploy files' 60 s grace); a loaded CI
    machine once needed more than 15 s for a stop with no job running, so this waits out the
    whole grace and fails with the log if even that is not enough."""
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        pytest.fail(f"worker did not stop after SIGTERM; log:\n{log_path.read_text()}")


async def _stream_state(redis_url: str, stream: str) -> str:
    raw = aioredis.Redis.from_url(redis_url)
    try:
        return (
            f"stream length {await raw.xlen(stream)}, groups {await raw.xinfo_groups(stream)}, "
            f"pending {await raw.xpending(stream, CONSUMER_GROUP)}"
        )
    except Exception as error:  # a diagnostic: whatever Redis says goes in
        return f"stream state unknown: {error!r}"
    finally:
        await raw.aclose()


async def test_worker_process_runs_a_job_from_redis(make_settings, tmp_path: Path) -> None:
    redis_url = services.require_redis()
    settings = make_settings(redis_url=redis_url)
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "postwise", "worker", "--concurrency", "4"],
            env=_worker_env(settings, tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    broker = build_broker(settings, load_jobs())
    store = create_store(redis_url, prefix=settings.store_prefix)
    origin = f"test-{uuid.uuid4().hex}"
    try:
        await broker.startup()
        queue = JobQueue(broker)
        deadline = time.monotonic() + 30
        seen: dict[str, object] | None = None
        next_send = 0.0
        while seen is None and time.monotonic() < deadline:
            assert worker.poll() is None, log_path.read_text()
            # Sent again every 2 s: the worker's own scheduled heartbeat (origin None) writes
            # the same key, and when it ran just after ours it overwrote our origin before we
            # looked (a full run caught it: the stream showed every job read and acknowledged).
            if time.monotonic() >= next_send:
                await queue.send("system.heartbeat", origin=origin)
                next_send = time.monotonic() + 2
            raw = await store.get(f"{HEARTBEAT_PREFIX}{_hostname()}:{worker.pid}")
            if raw is not None and json.loads(raw)["origin"] == origin:
                seen = json.loads(raw)
            await asyncio.sleep(0.05)
        if seen is None:
            # Say where the job was: the stream tells a job never read from one overwritten.
            stream = await _stream_state(redis_url, f"{settings.store_prefix}jobs")
            pytest.fail(f"job did not finish; {stream}; worker log:\n{log_path.read_text()}")
        assert seen["runner"] == f"{_hostname()}:{worker.pid}"
    finally:
        code = stop_worker(worker, log_path)
        await broker.shutdown()
        await store.close()
    assert code == 0, log_path.read_text()
    assert b"worker_stopped" in log_path.read_bytes()


def test_worker_refuses_to_start_without_redis(make_settings, tmp_path: Path) -> None:
    env = _worker_env(make_settings(), tmp_path)
    env.pop("POSTWISE_REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "postwise", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "POSTWISE_REDIS_URL" in result.stderr


def _hostname() -> str:
    import socket

    return socket.gethostname()
