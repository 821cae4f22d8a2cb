"""Shared fixtures: the database backend under test, settings, the app and an HTTP client.

POSTWISE_TEST_BACKEND=postgres runs the suite on PostgreSQL + Redis (what .ci/run does on its
second pass); the default is SQLite with the in-process store, as `make run` uses.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from postwise.app import create_app
from postwise.config import ARGON2_MIN_MEMORY_KIB, Settings
from postwise.migrations.runner import upgrade_database
from tests import services
from tests.fixtures.dovecot import dovecot, dovecot_without_condstore  # noqa: F401
from tests.fixtures.jobs import consume_jobs

BACKEND = os.environ.get("POSTWISE_TEST_BACKEND", "sqlite")
TEST_SECRET = "test-secret-" + "x" * 40


def pytest_report_header() -> str:
    return f"postwise backend: {BACKEND} (POSTWISE_TEST_BACKEND), CI={services.IN_CI}"


async def _admin_execute(admin_url: str, statement: str) -> None:
    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_postgres_database(admin_url: str) -> str:
    """A throwaway database on the test server; returns its SQLAlchemy URL."""
    name = f"postwise_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    # A commit need not wait for its WAL to reach the disk: nothing here outlives a crash,
    # and the PostgreSQL pass commits thousands of times.
    await _admin_execute(admin_url, f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, database_url: str) -> None:
    name = make_url(database_url).database
    await _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database for the session, on the backend under test."""
    if BACKEND == "postgres":
        admin = services.require_postgres()
        url = asyncio.run(create_postgres_database(admin))
        upgrade_database(_settings(tmp_path_factory.mktemp("pg")), url=url)
        yield url
        asyncio.run(drop_postgres_database(admin, url))
        return
    path = tmp_path_factory.mktemp("db") / "postwise.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_database(_settings(path.parent), url=url)
    yield url


@pytest.fixture(scope="session")
def store_url() -> str | None:
    """Redis when the suite runs on the production backends, the in-process store otherwise."""
    if BACKEND == "postgres":
        return services.require_redis()
    return None


def _settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "secret_key": TEST_SECRET,
        "data_dir": data_dir,
        "web_dir": data_dir / "web",
        "migrate_on_start": False,
        "log_level": "INFO",
        "log_format": "json",
        # The sync engine runs only in the tests that are about it.
        "sync_in_process": False,
        # The Drafts-folder mirror waits out a burst of autosaves in production; here every
        # test that saves a draft would wait for it at teardown.
        "draft_mirror_delay_seconds": 0,
        # Local triage in a thread: a process pool per test app would start a process each.
        "ai_triage_processes": 0,
        # MIME parsing in the calling thread: a process pool per sync engine or import would
        # start (forkserver, about a second each) for a handful of messages. The import speed
        # test and the sync benchmarks use the pool.
        "sync_parse_processes": 1,
        # Triage jobs after every sync and import of every test would race their teardown;
        # the assistant's own tests turn it on.
        "ai_triage": False,
        # Dovecot, the SMTP sink and the discovery servers listen on loopback, which
        # POSTWISE_ENV=test (like production) refuses by default; other private ranges stay
        # refused (tests/accounts/test_private_hosts.py).
        "mail_private_hosts": "127.0.0.0/8, ::1",
    }
    values.update(overrides)
    if values["env"] == "test":
        # The cheapest argon2id (only POSTWISE_ENV=test allows it); tests about hashing are
        # marked owasp_argon2 and get the production parameters.
        values.setdefault("argon2_memory_kib", 8)
        values.setdefault("argon2_time_cost", 1)
    return Settings(**values)


@pytest.fixture
def make_settings(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, store_url: str | None
):
    # A prefix per test keeps Redis keys, rate-limit counters and the job stream apart.
    prefix = f"test-{uuid.uuid4().hex[:10]}:"
    owasp = request.node.get_closest_marker("owasp_argon2") is not None

    def make(**overrides: object) -> Settings:
        base: dict[str, object] = {
            "database_url": database_url,
            "redis_url": store_url,
            "store_prefix": prefix,
        }
        if owasp:
            base.update(argon2_memory_kib=ARGON2_MIN_MEMORY_KIB, argon2_time_cost=2)
        base.update(overrides)
        return _settings(tmp_path, **base)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@asynccontextmanager
async def serve(app: FastAPI, **client_options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan, an httpx client on it, and a job consumer when jobs go to
    Redis (what `postwise worker` does in production, here in the test's event loop)."""
    async with LifespanManager(app, shutdown_timeout=20) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        options: dict[str, Any] = {"base_url": "http://testserver"}
        options.update(client_options)
        # Every job the test started ends before the app (and the test's teardown) goes on.
        async with (
            consume_jobs(manager._state["services"].jobs.broker),
            httpx.AsyncClient(transport=transport, **options) as http,
        ):
            yield http


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as http:
        yield http


@pytest.fixture
async def empty_database(database_url: str, tmp_path: Path) -> None:
    """Delete every row, for tests whose meaning depends on an empty instance."""
    from postwise import db

    engine = db.create_engine(_settings(tmp_path), url=database_url)
    try:
        async with engine.begin() as connection:
            for table in reversed(db.Base.metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()


# Fixtures through which a test reaches the database, the Store, jobs or events: such a test must
# carry the `backend` marker, since the PostgreSQL + Redis pass runs only `-m backend`.
BACKEND_FIXTURES = frozenset(
    {"database_url", "store_url", "make_settings", "settings", "app", "client", "empty_database"}
)


# Modules whose tests take seconds each (a real worker process, Dovecot round trips, thousands of
# messages) start first: pytest-xdist hands tests out in collection order, and one of these
# arriving last would leave the other worker idle while it runs.
SLOW_FIRST = (
    "tests/scale/test_topology.py",
    "tests/deploy/test_monitoring.py",
    "tests/observability/test_multiprocess.py",
    "tests/sync/test_durability.py",
    "tests/test_bench_live.py",
    "tests/test_fuzz_schemathesis.py",
    "tests/imports/test_concurrent_imports.py",
    "tests/sync/test_worker_process.py",
    "tests/sync/test_leases.py",
    "tests/imports/test_delete_while_running.py",
    "tests/imports/test_importers.py",
    "tests/sync/test_engine.py",
    "tests/imports/test_demo.py",
    "tests/worker/test_worker_process.py",
    "tests/compose/test_worker_killed.py",
    "tests/test_bench_compose.py",
    "tests/test_cli.py",
    "tests/imports/test_import_api.py",
    "tests/notifications/test_sources.py",
    "tests/imports/test_teardown_drains_jobs.py",
    "tests/sync/test_delete_while_syncing.py",
    "tests/realtime/test_push.py",
    "tests/test_api_contract.py",
    "tests/store/test_redis_outage.py",
    "tests/backup/test_backup.py",
    "tests/test_rate_limits.py",
)


def _start_order(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_start_order)  # stable: the order within a module is kept
    for item in items:
        # The last auth test greps the log file every auth test wrote, in its own process.
        if item.nodeid.startswith("tests/auth/"):
            item.add_marker(pytest.mark.xdist_group("auth"))
    unmarked = [
        item.nodeid
        for item in items
        if BACKEND_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("backend") is None
    ]
    if unmarked:
        listed = "\n  ".join(unmarked)
        raise pytest.UsageError(
            f"{len(unmarked)} tests use the database or Store fixtures without "
            f"@pytest.mark.backend, so the PostgreSQL + Redis pass would skip them:\n  {listed}"
        )
