"""The database layer: SQLite pragmas, fast 503 when the database is down, transaction ownership."""

from __future__ import annotations

import time

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.util import greenlet_spawn

from postwise import db
from postwise.app import create_app
from postwise.config import Settings
from tests.routes import router

pytestmark = pytest.mark.asyncio


async def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:
    settings = Settings(env="dev", data_dir=tmp_path)
    engine = db.create_engine(settings)
    try:
        async with engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
    finally:
        await engine.dispose()
    assert mode == "wal"
    assert foreign_keys == 1
    assert (tmp_path / "postwise.db").exists()


async def test_sqlite_connection_returned_mid_transaction_is_rolled_back(tmp_path) -> None:
    # The pool's own reset is replaced by a listener that rolls back only an open
    # transaction: an abandoned one must still never reach the next borrower.
    settings = Settings(env="dev", data_dir=tmp_path)
    engine = db.create_engine(settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))

        def abandon() -> bool:
            raw = engine.sync_engine.raw_connection()
            cursor = raw.cursor()
            cursor.execute("INSERT INTO t VALUES (1)")
            cursor.close()
            was_open = bool(raw.driver_connection.in_transaction)
            raw.close()  # back to the pool, never committed
            return was_open

        assert await greenlet_spawn(abandon)
        async with engine.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one()
            assert count == 0
        # A committed connection needs no rollback and gets none; it still works after.
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (2)"))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT x FROM t"))).scalars().all() == [2]
    finally:
        await engine.dispose()


async def test_sqlite_savepoint_first_in_a_transaction_is_undone_by_rollback(tmp_path) -> None:
    # A SAVEPOINT before any other write used to start SQLite's own transaction, and its
    # RELEASE committed what it wrote, whatever the outer transaction did next.
    settings = Settings(env="dev", data_dir=tmp_path)
    engine = db.create_engine(settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        async with db.create_sessionmaker(engine)() as session:
            await session.execute(text("SELECT 1"))
            async with session.begin_nested():
                await session.execute(text("INSERT INTO t VALUES (1)"))
            await session.execute(text("INSERT INTO t VALUES (2)"))
            await session.rollback()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT x FROM t"))).all() == []
        async with db.create_sessionmaker(engine)() as session:
            async with session.begin_nested():
                await session.execute(text("INSERT INTO t VALUES (3)"))
            await session.commit()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT x FROM t"))).scalars().all() == [3]
    finally:
        await engine.dispose()


@pytest.mark.backend
async def test_unreachable_database_answers_503_quickly(make_settings) -> None:
    settings = make_settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:9/none", database_timeout=2
    )
    app = create_app(settings)
    app.include_router(router)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            started = time.monotonic()
            response = await http.get("/api/test/db")
            elapsed = time.monotonic() - started
    # A refused connection fails at once (0.3 s alone); the bound is the 2 s timeout plus room
    # for a loaded machine (3.4 s was seen with six test workers on two cores), and still far
    # below the minute a hanging connect would take.
    assert elapsed < 6, f"{elapsed:.2f} s"
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "127.0.0.1" not in response.text


@pytest.mark.backend
async def test_request_session_reads_the_database(client: httpx.AsyncClient, app) -> None:
    app.include_router(router)
    response = await client.get("/api/test/db")
    assert response.status_code == 200
    assert response.json() == {"value": 1}


@pytest.mark.backend
async def test_commit_happens_before_the_response(client: httpx.AsyncClient, app) -> None:
    """A commit that fails must fail the request: the answer is never sent before the commit."""
    app.include_router(router)
    first = await client.post("/api/test/settings/unique-key/insert")
    assert first.status_code == 200
    duplicate = await client.post("/api/test/settings/unique-key/insert")
    assert duplicate.status_code == 500
    assert duplicate.json()["code"] == "internal_error"
