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
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

__all__ = ["one_trip_dbapi"]

_Outcome = tuple[Any, list[Any], int, int | None]


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
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


def _executemany(conn: sqlite3.Connection, operation: str, seq: Sequence[Any]) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


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
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await connection._execute(  # type: ignore[no-untyped-call]
                function, connection._conn, operation, parameters
            )
        description, rows, self._rowcount, self._lastrowid = outcome
        self._description = description
        self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass; mypy reads it as invariant


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    """The `module=` for `create_async_engine` on a `sqlite+aiosqlite` URL."""
    return OneTripDBAPI(aiosqlite, sqlite3)
