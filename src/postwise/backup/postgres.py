"""PostgreSQL: `pg_dump -Fc` of one snapshot, `pg_restore --list` to check a dump, and restore.

The dump and the list of blobs it names come from the same snapshot: a REPEATABLE READ
transaction exports it (`pg_export_snapshot()`), reads the blob digests, and stays open while
`pg_dump --snapshot` dumps exactly that state. Writers carry on meanwhile.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from postwise.backup.sqlite import REFERENCED_BLOBS_SQL

__all__ = [
    "LibpqTarget",
    "PostgresError",
    "dump_snapshot",
    "find_binary",
    "has_users",
    "libpq_target",
    "list_dump",
    "restore",
]

# libpq connection parameters a SQLAlchemy URL may carry in its query; the rest (asyncpg's
# own: prepared_statement_cache_size...) mean nothing to pg_dump and are left out.
_LIBPQ_PARAMS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "application_name",
        "connect_timeout",
        "options",
        "target_session_attrs",
        "host",
    }
)
_INSTALL_GLOB = "/usr/lib/postgresql/*/bin/"


class PostgresError(Exception):
    """pg_dump or pg_restore is missing or failed; the message says which and why."""


@dataclass(frozen=True)
class LibpqTarget:
    """A libpq URL without the password, and the password for PGPASSWORD: a password on a
    command line is visible to every local user in `ps`."""

    url: str
    password: str | None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def libpq_target(database_url: str) -> LibpqTarget:
    """`postgresql+asyncpg://u:p@h/db?ssl=require` -> `postgresql://u@h/db?sslmode=require`."""
    url = make_url(database_url)
    query: dict[str, str] = {}
    for key, value in url.query.items():
        text = value if isinstance(value, str) else value[-1]
        if key == "ssl":  # asyncpg's name for sslmode
            key = "sslmode"
        if key in _LIBPQ_PARAMS:
            query[key] = text
    # URL.create, not url.set: set(password=None) leaves the password as it was.
    clean = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=query,
    )
    return LibpqTarget(url=clean.render_as_string(hide_password=False), password=url.password)


def find_binary(name: str) -> str:
    """`name` on PATH, else the newest of Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parent.parent.name
        return tuple(int(p) for p in part.split(".") if p.isdigit())

    candidates = sorted(glob.glob(_INSTALL_GLOB + name), key=version, reverse=True)
    if not candidates:
        raise PostgresError(
            f"{name} not found on PATH nor in {_INSTALL_GLOB}: install the PostgreSQL client "
            "tools (Debian/Ubuntu: apt install postgresql-client) of the server's version or newer"
        )
    return candidates[0]


async def _run(binary: str, *args: str, target: LibpqTarget | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        find_binary(binary),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=target.env() if target else None,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        detail = err.decode(errors="replace").strip() or f"exit status {process.returncode}"
        raise PostgresError(f"{binary} failed: {detail}")
    return out.decode(errors="replace")


@asynccontextmanager
async def _connect(database_url: str) -> AsyncIterator[AsyncConnection]:
    """One connection of its own, through SQLAlchemy's URL handling (as the app connects)."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Snapshot:
    revision: str | None
    digests: set[str]


async def dump_snapshot(database_url: str, dump: Path) -> Snapshot:
    """Dump the database to `dump` (custom format) and read the blobs that state names."""
    target = libpq_target(database_url)
    # Created owner-only first (pg_dump keeps an existing file's mode, else takes the umask's):
    # the dump holds password hashes and sealed mailbox passwords.
    os.close(os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    async with _connect(database_url) as db:
        db = await db.execution_options(isolation_level="REPEATABLE READ")
        async with db.begin():
            await db.execute(text("SET TRANSACTION READ ONLY"))
            snapshot_id = (await db.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
            revision = (
                await db.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
            digests = set((await db.execute(text(REFERENCED_BLOBS_SQL))).scalars())
            # The exporting transaction must stay open until pg_dump has imported the
            # snapshot; it stays open for the whole dump here, which is simplest and as cheap.
            await _run(
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot_id}",
                f"--file={dump}",
                f"--dbname={target.url}",
                target=target,
            )
    return Snapshot(revision=revision, digests=digests)


async def list_dump(dump: Path) -> str | None:
    """None when `pg_restore --list` reads the dump, else why not."""
    try:
        await _run("pg_restore", "--list", str(dump))
    except PostgresError as error:
        return f"{dump.name}: {error}"
    return None


async def has_users(database_url: str) -> bool:
    async with _connect(database_url) as db:
        exists = (await db.execute(text("SELECT to_regclass('users') IS NOT NULL"))).scalar_one()
        if not exists:
            return False  # never migrated
        return bool((await db.execute(text("SELECT EXISTS (SELECT 1 FROM users)"))).scalar_one())


async def restore(database_url: str, dump: Path) -> None:
    """pg_restore into the configured database, in one transaction.

    `--clean --if-exists` first drops what the dump creates, so an empty instance that
    `postwise migrate` already set up is restored as well as a blank database; the caller
    has checked that it holds no users. `--no-owner --no-privileges`: the objects belong to
    the configured user, whoever owned them where the dump was made."""
    target = libpq_target(database_url)
    await _run(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={target.url}",
        str(dump),
        target=target,
    )
