"""Database engine and sessions: the request or job owns the transaction; services never commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
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

from postwise.config import Settings
from postwise.db_sqlite import one_trip_dbapi

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL and let
# batch-mode migrations on SQLite find constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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
        if sqlite_path and sqlite_path != ":memory:":
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {}
        if url_parts.get_driver_name() == "aiosqlite":
            # One trip to the connection's thread per statement instead of four.
            extra["module"] = one_trip_dbapi()
        engine = create_async_engine(
            database_url,
            connect_args={"timeout": timeout},
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
        _configure_sqlite(engine, busy_timeout_ms=int(timeout * 1000))
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


def _translate_connect_errors(engine: AsyncEngine) -> None:
    # asyncpg raises bare OSError / TimeoutError when the server is down, which SQLAlchemy
    # passes through unwrapped; naming them here keeps "database down" apart from other I/O.
    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except (OSError, TimeoutError) as error:
            raise DatabaseUnavailableError(f"cannot connect to the database: {error}") from error


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
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
        if not dbapi_connection.driver_connection.in_transaction:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("BEGIN")
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


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are serialised after the commit and must not lazy-load.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


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
