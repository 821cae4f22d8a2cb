"""SQLite: a snapshot through the online backup API, and its restore. Blocking: run in a thread.

`sqlite3.Connection.backup` copies the pages inside one read transaction, so in WAL mode the
copy is the database as of one commit while writers go on (they append to the WAL; the reader
keeps its snapshot). A plain file copy of a live database is not consistent.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from postwise.db import protect_sqlite_files

__all__ = [
    "REFERENCED_BLOBS_SQL",
    "has_users",
    "integrity_problem",
    "referenced_digests",
    "restore",
    "schema_revision",
    "snapshot",
    "sqlite_path",
]

# Every column that names a blob (`mail.blob_gc` keeps the same list for the collector).
REFERENCED_BLOBS_SQL = (
    "SELECT raw_sha256 FROM messages"
    " UNION SELECT sha256 FROM attachments"
    " UNION SELECT raw_sha256 FROM drafts WHERE raw_sha256 IS NOT NULL"
    " UNION SELECT sha256 FROM draft_attachments"
)


def sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ValueError(f"cannot back up the SQLite database {database!r}: not a plain file")
    return Path(database)


def snapshot(source: Path, target: Path) -> None:
    """Copy the live database at `source` to the new file `target`, consistently."""
    if not source.is_file():
        raise FileNotFoundError(f"no SQLite database at {source}")
    # Not `mode=ro`: a WAL database opened read-only fails when its -shm file is missing (no
    # process has it open). Reading through a read-write connection writes nothing.
    live = sqlite3.connect(source)
    # Created owner-only before SQLite opens it (it keeps an existing file's mode): the copy
    # holds password hashes and sealed mailbox passwords.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        copy = sqlite3.connect(target)
        try:
            # pages=-1: every page in one step, one read transaction; stepping would restart
            # the copy whenever another connection writes, which under steady writes is never
            # done.
            live.backup(copy, pages=-1)
            # One self-contained file: rollback journal instead of WAL (no -wal/-shm beside it).
            copy.execute("PRAGMA journal_mode=DELETE")
            copy.commit()
        finally:
            copy.close()
    finally:
        live.close()
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def referenced_digests(path: Path) -> set[str]:
    with contextlib.closing(_read_only(path)) as db:
        return {row[0] for row in db.execute(REFERENCED_BLOBS_SQL)}


def schema_revision(path: Path) -> str | None:
    with contextlib.closing(_read_only(path)) as db:
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None  # never migrated
        return None if row is None else str(row[0])


def integrity_problem(path: Path) -> str | None:
    """None when the file is a sound SQLite database, else what is wrong with it."""
    try:
        with contextlib.closing(_read_only(path)) as db:
            rows = [row[0] for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return f"{path.name} does not open as an SQLite database: {error}"
    if rows != ["ok"]:
        return f"{path.name} fails PRAGMA integrity_check: {'; '.join(rows[:5])}"
    return None


def has_users(path: Path) -> bool:
    """Whether the database at `path` holds any user (a missing file or table holds none)."""
    if not path.exists():
        return False
    with contextlib.closing(sqlite3.connect(path)) as db:  # a live database: see snapshot()
        try:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
        except sqlite3.OperationalError:
            return False  # no users table: never migrated


def restore(dump: Path, target: Path) -> None:
    """Write the snapshot `dump` over the (empty) database at `target`.

    Through the backup API rather than a file copy: the target may be in WAL mode with a -wal
    file beside it, which a copied main file would be replayed against (corruption); the API
    replaces the whole content under SQLite's own locks."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    protect_sqlite_files(target)
    with (
        contextlib.closing(_read_only(dump)) as source,
        contextlib.closing(sqlite3.connect(target)) as db,
    ):
        source.backup(db, pages=-1)
        # The app runs in WAL mode (db._configure_sqlite); set it now, as it would on connect.
        db.execute("PRAGMA journal_mode=WAL")
