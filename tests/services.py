"""Which system services the suite can reach, and what to do when one is missing.

Locally a missing service skips the tests that need it, with one line of reason each.
Under CI (CI=true) a missing service is a failure: CI promises PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import shutil
import socket
from functools import cache
from urllib.parse import urlsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def redis_url() -> str:
    return os.environ.get("POSTWISE_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def postgres_admin_url() -> str:
    return os.environ.get("POSTWISE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@cache
def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _url_reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    return _tcp_open(parts.hostname or "127.0.0.1", parts.port or default_port)


def missing(service: str, why: str) -> None:
    """Skip (locally) or fail (in CI) a test whose service is not there."""
    message = f"{service} unavailable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true requires it)", pytrace=False)
    pytest.skip(message)


def require_redis() -> str:
    url = redis_url()
    if not _url_reachable(url, 6379):
        missing("redis", f"nothing listens at {url}")
    return url


def require_postgres() -> str:
    url = postgres_admin_url()
    if not _url_reachable(url, 5432):
        missing("postgresql", f"nothing listens at {url}")
    return url


def require_binary(service: str, path: str) -> str:
    found = shutil.which(path)
    if found is None:
        missing(service, f"{path} is not installed")
    assert found is not None
    return found


if __name__ == "__main__":
    # Used by scripts/pytest.sh: print what the PostgreSQL + Redis pass lacks, exit 1 if any.
    import sys

    lacking = [
        f"{name} at {url}"
        for name, url, port in (
            ("PostgreSQL", postgres_admin_url(), 5432),
            ("Redis", redis_url(), 6379),
        )
        if not _url_reachable(url, port)
    ]
    print(", ".join(lacking))
    sys.exit(1 if lacking else 0)
