"""A real `postwise serve` in a temporary data folder, with bench users already in its database."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from argon2 import PasswordHasher, Type
from sqlalchemy import create_engine, insert

from postwise.auth.throttle import rule_names
from postwise.config import Settings
from postwise.users.models import User

HOST = "127.0.0.1"
READY_TIMEOUT_S = 120.0  # a loaded shared machine takes 40 s to import and start the app
STOP_TIMEOUT_S = 10.0


class BenchError(RuntimeError):
    """The benchmark could not run as designed (the server died, a request was refused...)."""


@dataclass(frozen=True)
class Argon2Parameters:
    time_cost: int
    memory_kib: int
    parallelism: int

    @classmethod
    def server_defaults(cls) -> Argon2Parameters:
        # The server's own defaults (OWASP: m=19 MiB, t=2, p=1), read rather than copied.
        fields = Settings.model_fields
        return cls(
            time_cost=int(fields["argon2_time_cost"].default),
            memory_kib=int(fields["argon2_memory_kib"].default),
            parallelism=int(fields["argon2_parallelism"].default),
        )

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            type=Type.ID,
        )

    def __str__(self) -> str:
        return f"m={self.memory_kib},t={self.time_cost},p={self.parallelism}"


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    pid: int
    log_path: Path


def free_port() -> int:
    # Another process could take it before the server binds; on loopback that is unlikely, and
    # the server failing to start is then reported, not hidden.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _postwise_executable() -> str:
    beside = Path(sys.executable).with_name("postwise")
    if beside.exists():
        return str(beside)
    found = shutil.which("postwise")
    if found is None:
        raise BenchError("`postwise` is not installed: run `uv sync` and use .venv/bin/python")
    return found


def server_environment(data_dir: Path, port: int) -> dict[str, str]:
    """The caller's environment without any POSTWISE_* (a stray database or Redis URL would
    change what is measured), plus the bench's settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("POSTWISE_")}
    env.update(
        {
            "POSTWISE_ENV": "dev",
            "POSTWISE_DATA_DIR": str(data_dir),
            "POSTWISE_HOST": HOST,
            "POSTWISE_PORT": str(port),
            "POSTWISE_PUBLIC_URL": f"http://{HOST}:{port}",
            "POSTWISE_LOG_LEVEL": "WARNING",
            # Each flood request claims its own client address in X-Forwarded-For, so the
            # per-IP login limit (30/minute) is spread instead of tripped.
            "POSTWISE_TRUSTED_PROXIES": HOST,
            # The per-user and per-IP limits of search, import, send, the live socket and the
            # assistant (docs/security.md) would refuse a load test: lifted, as measuring
            # Postwise, not its limiter, is the point. Sign-in's own limits stay.
            "POSTWISE_RATE_LIMITS": json.dumps(dict.fromkeys(rule_names(), "1000000/minute")),
        }
    )
    return env


def migrate(env: dict[str, str], log_path: Path) -> None:
    with log_path.open("ab") as log:
        result = subprocess.run(
            [_postwise_executable(), "migrate"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=False,
        )
    if result.returncode != 0:
        raise BenchError(f"`postwise migrate` failed:\n{_tail(log_path)}")


def seed_users(data_dir: Path, emails: Sequence[str], password_hash: str) -> None:
    """Insert verified, active users straight into the migrated database.

    Registration would need one throttled request per user and an emailed link for all but
    the first; inserting rows with one shared hash (the server's own parameters, so a login
    never rehashes) makes N accounts in milliseconds and exercises login exactly as usual.
    """
    engine = create_engine(f"sqlite:///{(data_dir / 'postwise.db').resolve()}")
    now = datetime.now(UTC)
    rows = [
        {
            "email": email,
            "name": f"Bench {index}",
            "password_hash": password_hash,
            "email_verified_at": now,
        }
        for index, email in enumerate(emails)
    ]
    try:
        with engine.begin() as connection:
            connection.execute(insert(User), rows)
    finally:
        engine.dispose()


@contextmanager
def running_server(data_dir: Path, env: dict[str, str], port: int) -> Iterator[RunningServer]:
    log_path = data_dir / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [_postwise_executable(), "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(base_url=f"http://{HOST}:{port}", pid=process.pid, log_path=log_path)
    try:
        _wait_ready(process, server)
        yield server
        if process.poll() is not None:
            raise BenchError(f"the server exited during the run:\n{_tail(log_path)}")
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], server: RunningServer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"the server did not start:\n{_tail(server.log_path)}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise BenchError(f"the server was not ready in {READY_TIMEOUT_S:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
