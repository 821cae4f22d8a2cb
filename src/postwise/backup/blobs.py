"""Copying the blobs a database snapshot names into a backup, and back into an empty store.

Blocking; run in a thread. Only the blobs the snapshot names are copied: blobs stored after the
snapshot belong to rows it does not hold, and unreferenced blobs are garbage the collector
removes anyway (`mail.blob_gc`). Blobs are content-addressed and never rewritten, so a blob
copied now has the bytes the snapshot's rows meant; the one way one can go missing meanwhile is
the collector deleting it after its row was deleted, which a blob set aside mid-collection
(`.gc-<digest>`) still covers, and which is otherwise reported (`missing_blobs`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from postwise.backup.manifest import blob_path
from postwise.mail.blobs import BlobStore

__all__ = ["CopiedBlobs", "copy_referenced", "restore_blobs", "store_is_empty"]

_CHUNK = 1024 * 1024
_THREADS = 8  # copies overlap their I/O; the hashing releases the GIL
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_GC_PREFIX = ".gc-"  # mail.blobs names a blob set aside by the collector so


@dataclass(frozen=True)
class CopiedBlobs:
    blobs: list[tuple[str, int]]  # (digest, size), sorted
    missing: list[str]  # named by the snapshot, found nowhere in the store
    corrupt: list[str]  # in the store with other bytes than their name says: not copied


def _copy_one(source: Path, target: Path) -> tuple[int, str]:
    """Copy and hash in one pass; returns (size, sha256 of what was written)."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    # Owner-only, as in the store: mail is private.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return size, digest.hexdigest()


def copy_referenced(store: BlobStore, digests: Iterable[str], backup_root: Path) -> CopiedBlobs:
    def copy(digest: str) -> tuple[str, int | None, bool]:
        target = backup_root / blob_path(digest)
        source = store.path(digest)
        for candidate in (source, source.with_name(_GC_PREFIX + digest)):
            try:
                size, actual = _copy_one(candidate, target)
            except FileNotFoundError:
                continue
            if actual != digest:
                target.unlink()
                return digest, None, True
            return digest, size, False
        return digest, None, False

    blobs: list[tuple[str, int]] = []
    missing: list[str] = []
    corrupt: list[str] = []
    with ThreadPoolExecutor(_THREADS) as pool:
        for digest, size, bad in pool.map(copy, sorted(digests)):
            if bad:
                corrupt.append(digest)
            elif size is None:
                missing.append(digest)
            else:
                blobs.append((digest, size))
    return CopiedBlobs(blobs=blobs, missing=missing, corrupt=corrupt)


def store_is_empty(root: Path) -> bool:
    """No file anywhere under `root` (empty fan-out directories do not count)."""
    if not root.exists():
        return True
    return all(not files for _directory, _dirs, files in os.walk(root))


def restore_blobs(backup_root: Path, blobs: Iterable[tuple[str, int]], store_root: Path) -> None:
    """Copy the backup's blobs into the (empty) store, each written aside and renamed into
    place as `BlobStore` does, so a crash never leaves a partial blob under its name."""
    store = BlobStore(store_root)
    store_root.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)

    def put(digest: str) -> None:
        target = store.path(digest)
        target.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        partial = target.with_name(f".tmp-restore-{digest}.part")
        try:
            shutil.copyfile(backup_root / blob_path(digest), partial)
            with open(partial, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise

    with ThreadPoolExecutor(_THREADS) as pool:
        list(pool.map(put, [digest for digest, _size in blobs]))
    # The new names are durable once their directories are.
    for directory, _dirs, _files in os.walk(store_root):
        with contextlib.suppress(OSError):
            fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
