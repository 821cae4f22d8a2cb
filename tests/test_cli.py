"""The `postwise` command as a user runs it: help, migrate, serve (with dev auto-migration)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWISE_")}
    env["POSTWISE_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "postwise", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run("--help", env=_env(tmp_path))
    assert result.returncode == 0
    for command in ("serve", "migrate", "worker", "reseal"):
        assert command in result.stdout


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    result = _run("migrate", env=_env(tmp_path))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "postwise.db") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"alembic_version", "instance_settings"} <= tables


def test_serve_refuses_production_without_a_secret(tmp_path: Path) -> None:
    result = _run("serve", env=_env(tmp_path, POSTWISE_ENV="production"))
    assert result.returncode == 2
    assert "POSTWISE_SECRET_KEY" in result.stderr


def test_serve_in_dev_migrates_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(tmp_path, POSTWISE_PORT=str(port), POSTWISE_LOG_FORMAT="json")
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "postwise", "serve"], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        assert httpx.get(f"{base}/readyz").status_code == 200
        metrics = httpx.get(f"{base}/metrics").text
        assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in metrics
    finally:
        server.terminate()
        server.wait(timeout=20)
    # Uvicorn shuts down cleanly, then re-raises SIGTERM so supervisors see why it stopped.
    assert server.returncode in (0, -15), log_path.read_text()
    assert "Application shutdown complete" in log_path.read_text()
    assert (tmp_path / "secret_key").exists()
    with sqlite3.connect(tmp_path / "postwise.db") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "instance_settings" in tables
