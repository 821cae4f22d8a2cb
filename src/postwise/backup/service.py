"""Make, verify and restore backups (docs/backup.md). Async; the blocking work runs in threads
or subprocesses, so the scheduled job never stalls the event loop it shares with the API.

A backup is a folder:

    manifest.json            what is inside, with sizes and SHA-256 (backup.manifest)
    database.sqlite3         SQLite: a snapshot through the online backup API
    database.pgdump          PostgreSQL: pg_dump --format=custom
    blobs/ab/cd/<sha256>     every blob the snapshot names (message bodies, attachments)
    data/secret_key          the dev secret, when the instance keeps it in its data folder

It is written as `<name>.partial` and renamed once complete, so a folder with the final name is
always a whole backup.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from postwise.backup import postgres, sqlite
from postwise.backup.blobs import copy_referenced, restore_blobs, store_is_empty
from postwise.backup.manifest import (
    MANIFEST_NAME,
    Backend,
    Manifest,
    ManifestError,
    blob_path,
    file_entry,
    read_manifest,
    sha256_file,
    write_manifest,
)
from postwise.config import Settings, make_data_dir, secret_file
from postwise.db import is_sqlite
from postwise.mail.blobs import BlobStore
from postwise.migrations.runner import alembic_config, upgrade_database

__all__ = [
    "BackupError",
    "RestoreResult",
    "VerifyReport",
    "create_backup",
    "restore_backup",
    "verify_backup",
]

SQLITE_DUMP = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"
SECRET_COPY = "data/secret_key"
PARTIAL_SUFFIX = ".partial"
_HASH_THREADS = 8


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator."""


def _version() -> str:
    try:
        return metadata.version("postwise")
    except metadata.PackageNotFoundError:
        return "unknown"


def _secret_in_force(settings: Settings) -> str | None:
    """As `Settings.secret()`, without creating a dev secret when there is none yet."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    with contextlib.suppress(FileNotFoundError):
        return secret_file(settings.data_dir).read_text(encoding="utf-8").strip()
    return None


def secret_fingerprint(secret: str | None) -> str | None:
    if secret is None:
        return None
    return hashlib.sha256(b"postwise-backup-fingerprint\0" + secret.encode()).hexdigest()[:16]


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- backup ------------------------------------------------------------------------------------


async def create_backup(settings: Settings, path: Path) -> Manifest:
    """Write a backup of the instance `settings` configures into the new folder `path`."""
    path, partial = await asyncio.to_thread(_start, path)
    try:
        manifest = await _write_backup(settings, partial)
        await asyncio.to_thread(_finish, partial, path)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, partial, ignore_errors=True)
        raise
    return manifest


def _start(path: Path) -> tuple[Path, Path]:
    path = path.absolute()
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    if path.exists():
        raise BackupError(f"{path} already exists: a backup goes into a new folder")
    try:
        partial.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        raise BackupError(
            f"{partial} exists: another backup is being written there, or one was interrupted "
            "(remove it if no backup is running)"
        ) from None
    return path, partial


def _finish(partial: Path, path: Path) -> None:
    for directory in (partial, partial / "blobs"):
        _fsync_dir(directory)
    os.rename(partial, path)
    _fsync_dir(path.parent)


async def _write_backup(settings: Settings, root: Path) -> Manifest:
    url = settings.effective_database_url
    # The database first: the blobs copied next are the ones this snapshot names, which
    # exist by then (rows are committed after their blobs are durable, mail.blobs).
    if is_sqlite(url):
        backend: Backend = "sqlite"
        database = SQLITE_DUMP
        dump = root / database
        try:
            await asyncio.to_thread(sqlite.snapshot, sqlite.sqlite_path(url), dump)
        except (FileNotFoundError, ValueError) as error:
            raise BackupError(str(error)) from error
        revision = await asyncio.to_thread(sqlite.schema_revision, dump)
        digests = await asyncio.to_thread(sqlite.referenced_digests, dump)
    else:
        backend = "postgresql"
        database = POSTGRES_DUMP
        try:
            snapshot = await postgres.dump_snapshot(url, root / database)
        except postgres.PostgresError as error:
            raise BackupError(str(error)) from error
        revision, digests = snapshot.revision, snapshot.digests
    store = BlobStore(settings.effective_blob_dir)
    copied = await asyncio.to_thread(copy_referenced, store, digests, root)
    relative = [database]
    if await asyncio.to_thread(_copy_secret, settings.data_dir, root):
        relative.append(SECRET_COPY)
    files = await asyncio.to_thread(lambda: [file_entry(root, name) for name in relative])
    manifest = Manifest(
        version=_version(),
        schema_revision=revision,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        backend=backend,
        database=database,
        files=files,
        blobs=copied.blobs,
        missing_blobs=sorted(copied.missing + copied.corrupt),
        secret_fingerprint=secret_fingerprint(_secret_in_force(settings)),
    )
    await asyncio.to_thread(write_manifest, root, manifest)
    return manifest


def _copy_secret(data_dir: Path, root: Path) -> bool:
    """Copy the dev secret, if the instance keeps one: it signs sessions and seals mailbox
    passwords, so without it the restored instance could read neither."""
    secret = secret_file(data_dir)
    if not secret.is_file():
        return False
    (root / "data").mkdir(mode=0o700)
    fd = os.open(root / SECRET_COPY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret.read_bytes())
        handle.flush()
        os.fsync(handle.fileno())
    return True


# --- verify ------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    manifest: Manifest | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_files(root: Path, manifest: Manifest) -> list[str]:
    problems: list[str] = []
    expected: list[tuple[str, int, str]] = [(f.path, f.size, f.sha256) for f in manifest.files]
    expected += [(blob_path(digest), size, digest) for digest, size in manifest.blobs]

    def check(item: tuple[str, int, str]) -> str | None:
        relative, size, digest = item
        path = root / relative
        try:
            actual_size = path.stat().st_size
            if actual_size != size:
                return f"{relative}: {actual_size} bytes, the manifest says {size}"
            if sha256_file(path) != digest:
                return f"{relative}: SHA-256 differs from the manifest's"
        except FileNotFoundError:
            return f"{relative}: missing"
        return None

    with ThreadPoolExecutor(_HASH_THREADS) as pool:
        problems.extend(p for p in pool.map(check, expected) if p is not None)
    listed = {relative for relative, _size, _digest in expected} | {MANIFEST_NAME}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            relative = (Path(directory) / name).relative_to(root).as_posix()
            if relative not in listed:
                problems.append(f"{relative}: not in the manifest")
    return problems


async def verify_backup(path: Path) -> VerifyReport:
    """Re-check every checksum and that the database dump opens."""
    report = VerifyReport()
    try:
        manifest = await asyncio.to_thread(read_manifest, path)
    except ManifestError as error:
        report.problems.append(str(error))
        return report
    report.manifest = manifest
    report.problems.extend(await asyncio.to_thread(_check_files, path, manifest))
    dump = path / manifest.database
    if dump.is_file():
        if manifest.backend == "sqlite":
            problem = await asyncio.to_thread(sqlite.integrity_problem, dump)
        else:
            try:
                problem = await postgres.list_dump(dump)
            except postgres.PostgresError as error:  # pg_restore not installed
                problem = str(error)
        if problem is not None:
            report.problems.append(problem)
    if manifest.missing_blobs:
        report.warnings.append(
            f"{len(manifest.missing_blobs)} blobs the database names were missing from the "
            "blob store when the backup was made (listed in the manifest's missing_blobs)"
        )
    return report


# --- restore -----------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: Manifest
    # The revision the backup had, when migrations then brought it to this version's head.
    migrated_from: str | None = None
    warnings: list[str] = field(default_factory=list)


def _script(settings: Settings) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(settings))


async def _target_has_users(settings: Settings) -> bool:
    url = settings.effective_database_url
    if is_sqlite(url):
        return await asyncio.to_thread(sqlite.has_users, sqlite.sqlite_path(url))
    return await postgres.has_users(url)


async def restore_backup(settings: Settings, path: Path) -> RestoreResult:
    """Restore the backup at `path` into the empty instance `settings` configures.

    Nothing is written before the backup is verified and the target found empty. The app and
    workers must be stopped meanwhile (docs/backup.md)."""
    report = await verify_backup(path)
    if not report.ok or report.manifest is None:
        raise BackupError("the backup fails verification:\n  " + "\n  ".join(report.problems))
    manifest = report.manifest
    result = RestoreResult(manifest=manifest, warnings=list(report.warnings))
    url = settings.effective_database_url
    backend = "sqlite" if is_sqlite(url) else "postgresql"
    if manifest.backend != backend:
        raise BackupError(
            f"the backup holds a {manifest.backend} database and this instance uses {backend}: "
            "restore into an instance of the same backend"
        )
    script = await asyncio.to_thread(_script, settings)
    head = script.get_current_head()
    if manifest.schema_revision is not None:
        try:
            known = script.get_revision(manifest.schema_revision) is not None
        except CommandError:
            known = False
        if not known:
            raise BackupError(
                f"the backup's schema revision {manifest.schema_revision} is unknown to this "
                f"version of Postwise ({_version()}); it was made by {manifest.version}: "
                "restore with that version or a newer one"
            )
    if await _target_has_users(settings):
        raise BackupError(
            "the target database already has users: restore goes into an empty instance only "
            "(point POSTWISE_DATABASE_URL or POSTWISE_DATA_DIR at a new one)"
        )
    blob_root = settings.effective_blob_dir
    if not await asyncio.to_thread(store_is_empty, blob_root):
        raise BackupError(f"the blob folder {blob_root} is not empty: restore needs an empty one")

    # Owner-only, as the app creates it: a restore may be the first to create the data folder.
    await asyncio.to_thread(make_data_dir, settings.data_dir)
    dump = path / manifest.database
    if backend == "sqlite":
        await asyncio.to_thread(sqlite.restore, dump, sqlite.sqlite_path(url))
    else:
        try:
            await postgres.restore(url, dump)
        except postgres.PostgresError as error:
            raise BackupError(str(error)) from error
    await asyncio.to_thread(restore_blobs, path, manifest.blobs, blob_root)
    if any(entry.path == SECRET_COPY for entry in manifest.files):
        await asyncio.to_thread(_restore_secret, path / SECRET_COPY, settings.data_dir)
    if secret_fingerprint(_secret_in_force(settings)) != manifest.secret_fingerprint:
        result.warnings.append(
            "this instance's secret is not the one the backup was made with: sessions will "
            "not refresh and mailbox passwords will not unseal. Set POSTWISE_SECRET_KEY to the "
            "old secret (or list it in POSTWISE_SECRET_KEY_PREVIOUS and run `postwise reseal`)"
        )
    if manifest.schema_revision != head:
        await asyncio.to_thread(upgrade_database, settings)
        result.migrated_from = manifest.schema_revision
    return result


def _restore_secret(source: Path, data_dir: Path) -> None:
    """Put the backup's dev secret in place (replacing one an empty instance generated: nothing
    was signed or sealed with it that the restore keeps)."""
    target = secret_file(data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restore")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(source.read_bytes())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)
