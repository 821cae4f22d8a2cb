"""The one-trip aiosqlite cursor: what SQLAlchemy relies on holds, in a quarter of the trips;
writers that wait their turn instead of failing; a database only its owner can read."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_asyncio
from sqlalchemy import Integer, String, exc, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from postwise import db
from postwise.config import Settings
from postwise.db_sqlite import OneTripConnection, OneTripCursor, OneTripDBAPI, WriterLane

pytestmark = pytest.mark.asyncio


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String, unique=True)


@pytest_asyncio.fixture
async def engine(tmp_path) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(Settings(env="dev", data_dir=tmp_path))
    async with engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_engine_uses_the_one_trip_cursor(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)


async def test_select_update_insert_behave_as_sqlalchemy_expects(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        session.add_all([Note(body="a"), Note(body="b")])
        await session.flush()
        ids = sorted(n.id for n in (await session.scalars(select(Note))).all())
        assert ids == [1, 2]  # lastrowid reached the ORM
        bang = update(Note).where(Note.id >= 1).values(body=Note.body + "!")
        result = await session.execute(bang)
        assert db.affected_rows(result) == 2  # rowcount
        new_id = (
            await session.execute(insert(Note).values(body="c").returning(Note.id))
        ).scalar_one()
        assert new_id == 3
        await session.commit()
    async with AsyncSession(engine) as session:
        rows = (await session.execute(text("SELECT id, body FROM notes ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "a!"), (2, "b!"), (3, "c")]
        assert list((await session.execute(text("SELECT id FROM notes"))).keys()) == ["id"]


async def test_executemany_and_partial_fetches(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(Note), [{"body": f"n{i}"} for i in range(50)])
        result = await connection.execute(select(Note.body).order_by(Note.id))
        assert result.fetchone() == ("n0",)
        assert [r[0] for r in result.fetchmany(3)] == ["n1", "n2", "n3"]
        assert len(result.fetchall()) == 46
        streamed = await connection.stream(select(Note.id).order_by(Note.id))
        assert [r[0] async for r in streamed][:3] == [1, 2, 3]


async def test_errors_surface_as_sqlalchemy_errors(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        session.add(Note(body="dup"))
        await session.commit()
        session.add(Note(body="dup"))
        with pytest.raises(exc.IntegrityError):
            await session.commit()
        await session.rollback()
        with pytest.raises(exc.OperationalError):
            await session.execute(text("SELECT nope FROM notes"))


async def test_one_trip_per_statement(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        aio = raw.driver_connection
        original = aio._execute
        queued: list[str] = []

        async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
            queued.append(getattr(fn, "__name__", repr(fn)))
            return await original(fn, *args, **kwargs)

        aio._execute = counting
        try:
            rows = (await connection.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
            await connection.execute(text("SELECT count(*) FROM notes"))
        finally:
            del aio._execute
    assert [tuple(r) for r in rows] == [(1,), (2,)]
    # SQLAlchemy's stock cursor queues four per statement: cursor, execute, fetchall, close.
    assert queued == ["_execute", "_execute"]


# --- writers wait their turn (db_sqlite.WriterLane, BEGIN IMMEDIATE) ---------------------------


def _engine(tmp_path: Path, **settings: Any) -> AsyncEngine:
    return db.create_engine(Settings(env="dev", data_dir=tmp_path, **settings))


async def _create_notes(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)


def _lane(engine: AsyncEngine) -> WriterLane:
    return cast(OneTripDBAPI, engine.sync_engine.dialect.dbapi).lane


async def _bodies(engine: AsyncEngine) -> list[str]:
    async with AsyncSession(engine) as session:
        return list((await session.scalars(select(Note.body).order_by(Note.id))).all())


async def test_a_writer_waits_out_a_long_transaction_instead_of_failing(tmp_path: Path) -> None:
    # database_timeout used to be SQLite's busy_timeout too: a write behind an import batch
    # longer than it answered 503 "database is locked".
    engine = _engine(tmp_path, database_timeout=0.2)
    await _create_notes(engine)
    holding = asyncio.Event()

    async def long_writer() -> None:
        async with AsyncSession(engine) as session:
            session.add(Note(body="long"))
            await session.flush()
            holding.set()
            await asyncio.sleep(0.8)
            await session.commit()

    async def second_writer() -> None:
        await holding.wait()
        async with AsyncSession(engine) as session:
            session.add(Note(body="second"))
            await session.commit()

    try:
        await asyncio.gather(long_writer(), second_writer())
        assert await _bodies(engine) == ["long", "second"]
        async with engine.connect() as connection:
            busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
        assert busy == db.SQLITE_WRITE_WAIT_S * 1000
    finally:
        await engine.dispose()


async def _read_then_write(engine: AsyncEngine, *, body: str, wrote: asyncio.Event) -> None:
    """A savepoint that reads before it writes: under a deferred BEGIN the write upgraded the
    read lock, which SQLite refuses at once (no busy wait) when another writer got there
    between the read and the write."""
    async with AsyncSession(engine) as session:
        async with session.begin_nested():
            await session.execute(select(Note.id))
            await asyncio.wait_for(wrote.wait(), timeout=0.5)
            session.add(Note(body=body))
        await session.commit()


async def _write_once(engine: AsyncEngine, *, body: str, wrote: asyncio.Event) -> None:
    await asyncio.sleep(0.05)  # after the other's read
    async with AsyncSession(engine) as session:
        session.add(Note(body=body))
        await session.commit()
    wrote.set()


async def test_a_read_before_the_first_write_cannot_be_refused(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    await _create_notes(engine)
    wrote = asyncio.Event()
    try:
        results = await asyncio.gather(
            _read_then_write(engine, body="savepoint", wrote=wrote),
            _write_once(engine, body="plain", wrote=wrote),
            return_exceptions=True,
        )
        # The savepoint's BEGIN IMMEDIATE took the turn first; the plain write waited for it
        # (so the savepoint's wait for it timed out, and it rolled back, as it should).
        assert [type(r) for r in results] == [TimeoutError, type(None)]
        assert await _bodies(engine) == ["plain"]
        assert _lane(engine).holder is None
    finally:
        await engine.dispose()


async def test_another_process_writer_waits_rather_than_deadlocks(tmp_path: Path) -> None:
    # Two engines on one file stand for two processes (`postwise import` next to the server):
    # no shared lane, only SQLite's lock, taken by BEGIN IMMEDIATE and waited for.
    first, second = _engine(tmp_path), _engine(tmp_path)
    await _create_notes(first)
    holding = asyncio.Event()

    async def hold() -> None:
        async with AsyncSession(first) as session:
            session.add(Note(body="first"))
            await session.flush()
            holding.set()
            await asyncio.sleep(0.4)
            await session.commit()

    async def read_then_write() -> None:
        await holding.wait()
        async with AsyncSession(second) as session:
            async with session.begin_nested():
                await session.execute(select(Note.id))
                session.add(Note(body="second"))
            await session.commit()

    try:
        await asyncio.gather(hold(), read_then_write())
        assert await _bodies(first) == ["first", "second"]
    finally:
        await first.dispose()
        await second.dispose()


async def test_interactive_writes_go_before_queued_bulk_ones(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    await _create_notes(engine)
    order: list[str] = []
    holding = asyncio.Event()

    async def write(body: str, *, bulk: bool, delay: float = 0.0, hold: float = 0.0) -> None:
        await asyncio.sleep(delay)
        async with AsyncSession(engine) as session:
            if bulk:
                await db.bulk_transaction(session)
            session.add(Note(body=body))
            await session.flush()
            order.append(body)
            holding.set()
            await asyncio.sleep(hold)
            await session.commit()

    try:
        await asyncio.gather(
            write("batch 1", bulk=True, hold=0.3),
            write("batch 2", bulk=True, delay=0.05),
            write("batch 3", bulk=True, delay=0.1),
            write("click 1", bulk=False, delay=0.15),
            write("click 2", bulk=False, delay=0.2),
        )
        assert order == ["batch 1", "click 1", "click 2", "batch 2", "batch 3"]
        assert _lane(engine).holder is None
    finally:
        await engine.dispose()


async def test_the_turn_ends_with_every_way_a_transaction_can_end(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    await _create_notes(engine)
    lane = _lane(engine)
    try:
        async with engine.connect() as connection:  # a failed write, then a rollback
            await connection.execute(insert(Note).values(body="dup"))
            with pytest.raises(exc.IntegrityError):
                await connection.execute(insert(Note).values(body="dup"))
            assert lane.holder is not None
            await connection.rollback()
            assert lane.holder is None
        async with AsyncSession(engine) as session:  # a failed flush (rolled back by it)
            session.add_all([Note(body="dup"), Note(body="dup")])
            with pytest.raises(exc.IntegrityError):
                await session.flush()
            assert lane.holder is None
        async with AsyncSession(engine) as session:  # closed without a commit
            await db.bulk_transaction(session)
            session.add(Note(body="dropped"))
            await session.flush()
        assert lane.holder is None
        async with AsyncSession(engine) as session:  # a bulk mark that never wrote
            await db.bulk_transaction(session)
            raw = await (await session.connection()).get_raw_connection()
            marked = raw.dbapi_connection
            assert isinstance(marked, OneTripConnection) and marked.bulk
        assert marked.bulk is False  # back in the pool, it forgot
        async with engine.connect() as connection:  # invalidated mid-transaction
            await connection.execute(insert(Note).values(body="lost"))
            assert lane.holder is not None
            await connection.invalidate()
        assert lane.holder is None
        async with engine.connect() as connection:  # autocommit: the turn ends with it
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(insert(Note).values(body="autocommit"))
            assert lane.holder is None
        assert await _bodies(engine) == ["autocommit"]
    finally:
        await engine.dispose()


async def test_a_waiter_that_gives_up_leaves_the_lane_usable() -> None:
    lane = WriterLane(timeout=0.1)
    first, late, cancelled, after = object(), object(), object(), object()
    await lane.acquire(first)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await lane.acquire(late)
    waiting = asyncio.create_task(lane.acquire(cancelled, bulk=True))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    lane.release(first)
    assert lane.holder is None
    await lane.acquire(after)
    assert lane.holder is after


# --- file modes --------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    # The usual umask, under which files are created readable by every local user.
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_022")
async def test_a_new_data_folder_and_database_are_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = _engine(data)
    try:
        await _create_notes(engine)
        async with AsyncSession(engine) as session:
            session.add(Note(body="secret"))
            await session.commit()
            # The -wal and -shm files exist while a connection is open.
            files = {p.name: _mode(p) for p in data.iterdir()}
    finally:
        await engine.dispose()
    assert _mode(data) == 0o700
    assert files == {"postwise.db": 0o600, "postwise.db-wal": 0o600, "postwise.db-shm": 0o600}
    assert Settings(env="dev", data_dir=tmp_path / "other").secret()
    assert _mode(tmp_path / "other") == 0o700  # whichever creates it first


@pytest.mark.usefixtures("umask_022")
async def test_files_left_readable_by_an_older_version_are_tightened(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "postwise.db")) as old:
        old.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR UNIQUE)")
        old.commit()
    for name in ("postwise.db-wal", "postwise.db-shm"):
        (tmp_path / name).touch()
    tmp_path.chmod(0o755)
    assert _mode(tmp_path / "postwise.db") == 0o644
    engine = _engine(tmp_path)
    try:
        async with AsyncSession(engine) as session:
            session.add(Note(body="secret"))
            await session.commit()
        modes = {p.name: _mode(p) for p in tmp_path.iterdir() if p.name.startswith("postwise")}
    finally:
        await engine.dispose()
    assert modes == {"postwise.db": 0o600, "postwise.db-wal": 0o600, "postwise.db-shm": 0o600}
    # An existing folder keeps the mode someone chose for it (docs/security.md).
    assert _mode(tmp_path) == 0o755


async def test_a_second_engine_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    # Closing any descriptor of the database file drops every POSIX lock the process holds on
    # it. Protecting the file by opening it did that to the connections already open, and
    # another process's SQLite, believing itself the last user, then deleted the WAL under
    # them: "database disk image is malformed" in the suite, where apps come and go while a
    # `postwise import` subprocess shares the database.
    first = _engine(tmp_path)
    await _create_notes(first)
    path = tmp_path / "postwise.db"
    try:
        async with first.connect() as connection:
            await connection.execute(insert(Note).values(body="kept"))
            await connection.commit()
            await connection.execute(select(Note.id))
            assert path.with_name("postwise.db-wal").exists()
            await _engine(tmp_path).dispose()  # protects the (existing) file again
            other = (
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                "c.execute('SELECT count(*) FROM notes').fetchall(); c.close()"
            )
            process = await asyncio.create_subprocess_exec(sys.executable, "-c", other, str(path))
            assert await asyncio.wait_for(process.wait(), timeout=30) == 0
            # Still ours: the other process saw our lock and left the WAL alone.
            assert path.with_name("postwise.db-wal").exists()
        assert await _bodies(first) == ["kept"]
    finally:
        await first.dispose()
