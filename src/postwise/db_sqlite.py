"""A DB-API module for SQLAlchemy's aiosqlite dialect that runs each statement in one trip.

SQLAlchemy's adapter drives aiosqlite one call at a time: `cursor()`, `execute()`, `fetchall()`
and `close()` are each a round trip to the connection's thread, and each trip costs the event
loop a wake-up, a future and a greenlet switch. A login runs about six statements, so that was
two dozen trips where six do. Here the cursor asks the thread once to execute, fetch every row
and close, and keeps description, rowcount and lastrowid from that same trip.

This uses two private names of aiosqlite (`Connection._execute`, which queues a function on its
thread, and `Connection._conn`), as SQLAlchemy's own adapter does for `isolation_level`;
tests/test_db_sqlite.py checks the behaviour SQLAlchemy relies on, so an aiosqlite upgrade that
changes them fails there first. Server-side cursors keep SQLAlchemy's implementation.

It also keeps the writers of one process in line (`WriterLane`): SQLite lets one connection
write at a time, and a writer that finds the lock taken polls it at growing intervals until
busy_timeout runs out, so under bulk writes (imports, sync batches) a request either failed
("database is locked", answered 503) or was overtaken again and again. Here a connection
waits for its turn on the event loop before its first write, in arrival order except that
bulk transactions let the others go first, and then opens the transaction with BEGIN
IMMEDIATE: the write lock is taken at the start, never by upgrading a read, so SQLite has no
deadlock to refuse with an instant SQLITE_BUSY (another process's writers still wait in
busy_timeout). A transaction that holds the turn ends with commit, rollback or close.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

__all__ = ["OneTripConnection", "WriterLane", "one_trip_dbapi"]

_Outcome = tuple[Any, list[Any], int, int | None]
# sqlite3 (Python 3.11) opens a transaction before these statements and no others; "begin" is
# the savepoint listener's (postwise.db) explicit one.
_WRITE_STARTS = ("insert", "update", "delete", "replace", "begin")


def opens_write(operation: object) -> bool:
    """Whether the statement, run outside a transaction, starts a write transaction."""
    return isinstance(operation, str) and operation.lstrip()[:7].lower().startswith(_WRITE_STARTS)


def _begin_immediate(conn: sqlite3.Connection, operation: str) -> None:
    # Only when sqlite3 would open a transaction itself (isolation_level None is autocommit).
    if (
        conn.isolation_level is not None
        and not conn.in_transaction
        and operation.lstrip()[:5].lower() != "begin"
    ):
        conn.execute("BEGIN IMMEDIATE")


def _execute(
    conn: sqlite3.Connection, operation: str, parameters: Any, begin: bool = False
) -> _Outcome:
    if begin:
        _begin_immediate(conn, operation)
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany(
    conn: sqlite3.Connection, operation: str, seq: Sequence[Any], begin: bool = False
) -> _Outcome:
    if begin:
        _begin_immediate(conn, operation)
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


_Waiter = tuple[object, "asyncio.Future[None]"]


class WriterLane:
    """Whose turn it is to write to one SQLite database, among this process's connections.

    First come, first served, except that bulk transactions (a batch of messages) queue
    behind every interactive one: a click then waits for at most the batch being written.
    (Bulk writers wait only while interactive writes keep coming back to back.)
    A waiter gives up after `timeout` seconds with SQLite's own "database is locked", which
    the API answers 503 as before; the same timeout is SQLite's busy_timeout."""

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout
        self._holder: object | None = None
        self._interactive: collections.deque[_Waiter] = collections.deque()
        self._bulk: collections.deque[_Waiter] = collections.deque()

    @property
    def holder(self) -> object | None:
        return self._holder

    async def acquire(self, holder: object, *, bulk: bool = False) -> None:
        if self._holder is None and not self._interactive and not self._bulk:
            self._holder = holder
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (holder, future)
        queue = self._bulk if bulk else self._interactive
        queue.append(waiter)
        try:
            await asyncio.wait({future}, timeout=self.timeout)
        except BaseException:  # cancelled, perhaps just after its turn came
            self._give_up(waiter, queue)
            raise
        if self._holder is not holder:
            self._give_up(waiter, queue)
            raise sqlite3.OperationalError(
                f"database is locked (no turn to write within {self.timeout:g} s)"
            )

    def _give_up(self, waiter: _Waiter, queue: collections.deque[_Waiter]) -> None:
        holder, future = waiter
        if self._holder is holder:
            self.release(holder)
            return
        future.cancel()
        with contextlib.suppress(ValueError):
            queue.remove(waiter)

    def release(self, holder: object) -> None:
        """Hands the turn to the next waiter, if `holder` has it."""
        if self._holder is not holder:
            return
        self._holder = None
        while self._interactive or self._bulk:
            holder, future = (self._interactive or self._bulk).popleft()
            if future.done():  # gave up meanwhile
                continue
            self._holder = holder
            _wake(future)
            return


def _wake(future: asyncio.Future[None]) -> None:
    loop = future.get_loop()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        future.set_result(None)
    else:
        # A pooled connection that was garbage-collected is closed in whatever thread ran it.
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _in_transaction(connection: aiosqlite.Connection) -> bool:
    try:
        return connection._conn.in_transaction
    except (ValueError, sqlite3.ProgrammingError):  # closed
        return False


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """Buffered cursor: every result is fetched whole in the trip that executes it."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor on the thread side until a statement runs (the base class makes one here,
        # one more trip).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        # Nothing is open on the thread side: the rows are already here.
        return None

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def nextset(self) -> None:
        return None

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._run(_execute, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._run(_executemany, operation, seq_of_parameters)

    async def _run(self, function: Any, operation: Any, parameters: Any) -> None:
        connection = cast(aiosqlite.Connection, self._connection)
        adapted = cast(OneTripConnection, self._adapt_connection)
        begin = not adapted.writing and opens_write(operation) and not _in_transaction(connection)
        if begin:
            await adapted.take_turn()
        try:
            async with adapted._execute_mutex:
                outcome: _Outcome = await connection._execute(  # type: ignore[no-untyped-call]
                    function, connection._conn, operation, parameters, begin
                )
        finally:
            # An autocommit statement, a failed BEGIN, a COMMIT or ROLLBACK written as SQL.
            if adapted.writing and not _in_transaction(connection):
                adapted.transaction_over()
        description, rows, self._rowcount, self._lastrowid = outcome
        self._description = description
        self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Also the writer lane's holder: from its first write until the transaction ends."""

    __slots__ = ("bulk", "writing")
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass; mypy reads it as invariant
    dbapi: OneTripDBAPI

    def __init__(self, dbapi: OneTripDBAPI, connection: Any) -> None:
        super().__init__(dbapi, connection)
        # Set by postwise.db.bulk_transaction for the current transaction only.
        self.bulk = False
        self.writing = False

    async def take_turn(self) -> None:
        await self.dbapi.lane.acquire(self, bulk=self.bulk)
        self.writing = True

    def transaction_over(self) -> None:
        self.bulk = False
        if self.writing:
            self.writing = False
            self.dbapi.lane.release(self)

    def _end(self) -> None:
        # A commit that failed may leave the transaction open: the turn is kept until the
        # rollback that follows (or the pool's reset).
        if not _in_transaction(cast(aiosqlite.Connection, self._connection)):
            self.transaction_over()

    # Outside a transaction sqlite3's commit and rollback do nothing, and a request that only
    # read never opened one (sqlite3 begins none for a SELECT): no trip to the thread then.
    # This is every read-only request's commit and the pool's rollback when the connection
    # is checked back in, two wake-ups of the event loop each.
    def commit(self) -> None:
        try:
            if _in_transaction(cast(aiosqlite.Connection, self._connection)):
                super().commit()
        finally:
            self._end()

    def rollback(self) -> None:
        try:
            if _in_transaction(cast(aiosqlite.Connection, self._connection)):
                super().rollback()
        finally:
            self._end()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.transaction_over()

    async def _terminate_graceful_close(self) -> None:
        try:
            await super()._terminate_graceful_close()
        finally:
            self.transaction_over()

    def _terminate_force_close(self) -> None:
        try:
            super()._terminate_force_close()
        finally:
            self.transaction_over()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, *, write_timeout: float) -> None:
        super().__init__(aiosqlite, sqlite3)
        # One lane per engine: every connection of its pool writes to the same file.
        self.lane = WriterLane(timeout=write_timeout)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi(*, write_timeout: float) -> OneTripDBAPI:
    """The `module=` for `create_async_engine` on a `sqlite+aiosqlite` URL; a writer waits up
    to `write_timeout` seconds for its turn."""
    return OneTripDBAPI(write_timeout=write_timeout)
