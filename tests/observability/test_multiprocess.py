"""`postwise serve --workers 2`: counters add up across the processes whichever one answers the
scrape; the shared directory is emptied at start; the worker's own scrape endpoint."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from postwise.observability.exporter import serve_metrics
from postwise.observability.metrics import MULTIPROC_ENV, Metrics
from postwise.observability.multiproc import shared_metrics_dir
from tests.observability.promtext import value

REQUESTS = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    # Generous: two processes importing the whole app at once take long on a loaded machine.
    deadline = time.monotonic() + 240
    while True:
        assert server.poll() is None, log_path.read_text()
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)


# Two processes each importing the whole app: over the suite's 120 s on a loaded machine.
@pytest.mark.timeout(300)
def test_serve_with_two_workers_sums_counters_across_processes(tmp_path: Path) -> None:
    port = _free_port()
    shared = tmp_path / "prometheus"
    shared.mkdir()
    # Left by an earlier run (and not even a valid file): must be cleared, not merged.
    (shared / "counter_999999.db").write_bytes(b"stale")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWISE_")}
    env.update(
        POSTWISE_DATA_DIR=str(tmp_path / "data"),
        POSTWISE_PORT=str(port),
        POSTWISE_SECRET_KEY="multiprocess-test-secret-0123456789abcdef",
        POSTWISE_SYNC_IN_PROCESS="false",
        POSTWISE_LOG_LEVEL="WARNING",
        **{MULTIPROC_ENV: str(shared)},
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "postwise", "serve", "--workers", "2"],
            env=env,
            stdout=log,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, log_path)
        for _ in range(REQUESTS):
            # A new connection each: the kernel hands them to either process.
            assert httpx.get(f"{base}/healthz", headers={"Connection": "close"}).status_code == 200
        pids = {path.stem.rsplit("_", 1)[-1] for path in shared.glob("counter_*.db")}
        assert "999999" not in pids
        assert len(pids) >= 2, pids  # both processes keep their values there
        for _ in range(6):
            response = httpx.get(f"{base}/metrics", headers={"Connection": "close"})
            assert response.status_code == 200, log_path.read_text()
            total = value(response.text, "http_requests_total", route="/healthz")
            # Whichever process answered, the count is everyone's.
            assert total >= REQUESTS, total
            assert "process_cpu_seconds_total" not in response.text  # per-process only
            assert value(response.text, "postwise_build_info") == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode in (0, -15), log_path.read_text()


def test_shared_dir_is_made_for_several_processes_and_removed() -> None:
    saved = os.environ.pop(MULTIPROC_ENV, None)
    try:
        with shared_metrics_dir(1) as none:
            assert none is None and MULTIPROC_ENV not in os.environ
        with shared_metrics_dir(3) as made:
            assert made is not None and made.is_dir()
            assert os.environ[MULTIPROC_ENV] == str(made)
        assert not made.exists() and MULTIPROC_ENV not in os.environ
    finally:
        if saved is not None:
            os.environ[MULTIPROC_ENV] = saved


def test_worker_metrics_endpoint_serves_its_registry() -> None:
    metrics = Metrics()
    metrics.sync_messages.inc(7)
    port = _free_port()
    with contextlib.ExitStack() as stack:
        assert serve_metrics(metrics, "127.0.0.1", port, stack) == port
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert value(text, "postwise_sync_messages_total") == 7
        assert value(text, "postwise_build_info") == 1
        # Port 0 is "off".
        assert serve_metrics(metrics, "127.0.0.1", 0, stack) is None
    # Closed with the stack.
    try:
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("the worker's metrics server outlived its stack")
