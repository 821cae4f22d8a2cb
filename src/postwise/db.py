"""Database engine and sessions: the request or job owns the transaction; services never commit."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, event, exc, text
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from postwise.config import Settings, make_data_dir
from postwise.db_sqlite import OneTripConnection, one_trip_dbapi

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL and let
# batch-mode migrations on SQLite find constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# How long an SQLite writer waits for its turn (the writer lane in this process, busy_timeout
# against other processes) before the request answers 503. Not POSTWISE_DATABASE_TIMEOUT's
# 5 s: that is about reaching a server that may be down, while a local file that is busy is
# only a queue, and the queue behind an import or a sync burst can be longer than that.
SQLITE_WRITE_WAIT_S = 30.0
# The database holds mail, password hashes and sealed mailbox passwords.
SQLITE_FILE_MODE = 0o600


class DatabaseUnavailableError(Exception):
    """The database cannot be reached; requests answer 503 instead of hanging or crashing."""


def is_database_unavailable(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailableError | exc.TimeoutError | exc.InterfaceError):
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    # SQLite says OperationalError for "unable to open" and for a busy timeout that ran out;
    # PostgreSQL for a server shutting down. All of them are worth a retry later, not a 500.
    return isinstance(error, exc.OperationalError)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases.

    SQLite has no time zones and hands back naive values, which then cannot be compared with
    aware ones; this normalises both directions.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def affected_rows(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched: how a compare-and-set learns whether it won."""
    return int(cast(CursorResult[Any], result).rowcount)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(settings: Settings, *, url: str | None = None) -> AsyncEngine:
    """Build the engine for the configured database, tuned so an outage fails fast (503)."""
    database_url = url or settings.effective_database_url
    timeout = settings.database_timeout
    if is_sqlite(database_url):
        url_parts = make_url(database_url)
        sqlite_path = url_parts.database
        file_path: Path | None = None
        if sqlite_path and sqlite_path != ":memory:":
            make_data_dir(settings.data_dir)
            if not sqlite_path.startswith("file:"):
                file_path = Path(sqlite_path)
                protect_sqlite_files(file_path)
        write_wait = max(timeout, SQLITE_WRITE_WAIT_S)
        extra: dict[str, Any] = {}
        if url_parts.get_driver_name() == "aiosqlite":
            # One trip to the connection's thread per statement instead of four, and the
            # process's writers in line (db_sqlite.WriterLane).
            extra["module"] = one_trip_dbapi(write_timeout=write_wait)
        engine = create_async_engine(
            database_url,
            connect_args={"timeout": write_wait},
            **extra,
            # Reset on return is done by the "reset" listener in _configure_sqlite instead.
            pool_reset_on_return=None,
            # SQLAlchemy's default (5 + 10 overflow) opens and closes an overflow connection,
            # with its own thread and PRAGMAs, whenever more than 5 requests overlap: under a
            # login flood that showed in the event loop's profile (bench/auth). Idle SQLite
            # connections cost a thread and a small page cache each.
            pool_size=12,
            max_overflow=20,
        )
        _configure_sqlite(engine, busy_timeout_ms=int(write_wait * 1000), path=file_path)
        return engine
    connect_args: dict[str, Any] = {"timeout": timeout, "command_timeout": max(timeout, 30.0)}
    engine = create_async_engine(
        database_url,
        pool_pre_ping=True,
        pool_timeout=timeout,
        pool_size=10,
        max_overflow=10,
        connect_args=connect_args,
    )
    _translate_connect_errors(engine)
    return engine


def protect_sqlite_files(path: Path) -> None:
    """Make the database file owner-only, creating it so if it is missing.

    Created by SQLite it would get the umask's mode (0644, readable by every local user).
    SQLite gives the -wal and -shm files it creates the database file's mode, so a 0600
    database is enough for them; ones left by an older version are tightened here too. Files
    owned by another user are left alone. Any failure is SQLite's to report when it opens the
    file (as 503 database_unavailable), not this function's."""
    if not path.exists():
        with contextlib.suppress(OSError):
            _create_private(path)
    tighten_sqlite_files(path)


def _create_private(path: Path) -> None:
    # Never open the database file itself: closing any descriptor of it drops every POSIX lock
    # this process holds on it, those of other engines' open connections included, and SQLite
    # then lets two writers in at once (a corrupt file, seen in the suite). So an empty 0600
    # file is made under a temporary name, closed, and linked into place (refused, not
    # replaced, if the database appeared meanwhile).
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(descriptor)
    try:
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def tighten_sqlite_files(path: Path) -> None:
    """chmod 0600 the database, -wal and -shm files we own that others can read (by name
    only, never through a descriptor: see _create_private)."""
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            status = name.stat()
            if status.st_uid == os.getuid() and status.st_mode & 0o077:
                name.chmod(SQLITE_FILE_MODE)


def _translate_connect_errors(engine: AsyncEngine) -> None:
    # asyncpg raises bare OSError / TimeoutError when the server is down, which SQLAlchemy
    # passes through unwrapped; naming them here keeps "database down" apart from other I/O.
    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except (OSError, TimeoutError) as error:
            raise DatabaseUnavailableError(f"cannot connect to the database: {error}") from error


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int, path: Path | None) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if path is not None:
            # Before the WAL files exist, which copy its mode: a database SQLite had to create
            # itself (no hard links on this file system) or that was replaced meanwhile.
            tighten_sqlite_files(path)
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while the sync worker writes; foreign keys are off by
        # default in SQLite and every ON DELETE CASCADE depends on them.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "savepoint")
    def _on_savepoint(connection: Any, _name: str) -> None:
        # sqlite3 opens a transaction only before an INSERT/UPDATE/DELETE, so a SAVEPOINT as
        # the transaction's first write would start SQLite's own transaction, and releasing it
        # would commit at once: a later rollback could not undo what the savepoint wrote.
        # Opening the transaction first makes the savepoint nest inside it, as it should.
        dbapi_connection = connection.connection.dbapi_connection
        # IMMEDIATE: a savepoint is there to write (see db_sqlite on why writes begin so).
        if not dbapi_connection.driver_connection.in_transaction:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
            finally:
                cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, reset_state: Any) -> None:
        # The pool's default reset rolls back every returned connection, even one whose
        # transaction was just committed; with aiosqlite that is one more trip to the
        # connection's thread on every request. sqlite3 knows whether a transaction is open,
        # so only then is there anything to roll back.
        if reset_state.terminate_only:
            return
        if dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()
        if isinstance(dbapi_connection, OneTripConnection):
            # A bulk mark on a transaction that never wrote must not outlive it.
            dbapi_connection.transaction_over()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are serialised after the commit and must not lazy-load.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def bulk_transaction(db: AsyncSession) -> None:
    """Declare the session's current transaction bulk work (storing a batch of messages).

    On SQLite its writes then wait behind every interactive write queued in this process
    (db_sqlite.WriterLane): a click waits for the batch being written, not for the others.
    Call it before the transaction's first write; it lasts until the commit or rollback.
    Elsewhere nothing changes: PostgreSQL writers do not exclude one another."""
    if db.get_bind().dialect.name != "sqlite":
        return
    connection = await db.connection()
    raw = await connection.get_raw_connection()
    if isinstance(raw.dbapi_connection, OneTripConnection):
        raw.dbapi_connection.bulk = True


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@asynccontextmanager
async def engine_scope(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()
