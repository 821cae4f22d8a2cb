"""Content-addressed blob store for attachments and raw messages.

A blob lives at `root/ab/cd/<sha256>`: the same bytes are stored once however many messages carry
them, a name can never point at other content, and two levels of fan-out keep directories small
(65,536 leaf directories before any holds more than a handful of files at 10 million blobs).

Writes go to a temporary file in the destination directory and are renamed into place with
`os.replace`, so a reader (or a crash) sees either no blob or the whole blob, never a partial one.
The methods are synchronous: callers run them in worker threads.

Blobs no row names any more are collected (`mail.blob_gc`), which has to be safe against a
writer that stores (or re-uses) a blob now and commits the row naming it a moment later:

- only blobs whose mtime is older than a grace period (a day, far beyond any transaction) are
  candidates, and `put` of content that is already there refreshes the mtime (at most hourly,
  see `_REFRESH_AFTER`), so re-using an old unreferenced blob re-arms its grace period;
- `collect` renames a candidate aside before deleting it, then looks at its mtime again: a `put`
  that re-used it between the collector's first look and the rename refreshed it, and the blob
  is put back; a `put` after the rename finds no blob and writes it anew. Either way the row the
  writer commits names a blob that exists.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BlobFile", "BlobNotFoundError", "BlobStore"]

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")
_FAN_OUT_RE = re.compile(r"[0-9a-f]{2}")
# Mail is private: blobs are readable by the service account only.
_DIR_MODE = 0o700
# `put` of an existing blob refreshes its mtime when it is older than this: often enough to keep
# a re-used blob far inside the collector's grace period, rarely enough that the same content
# stored many times (Gmail's labels are copies of one message) does not rewrite its inode each
# time, which would make `make_durable` write it out again.
_REFRESH_AFTER = 3600.0
# Concurrent fsyncs: the file system commits its journal for several at once, which roughly
# halves the time of a batch compared with one after the other.
_SYNC_THREADS = 16
# Prefixes of the store's own temporary names (never valid digests, so never blobs).
_TMP_PREFIX = ".tmp-"
_GC_PREFIX = ".gc-"


class BlobNotFoundError(KeyError):
    """No blob with this digest (a KeyError, so `except KeyError` callers keep working)."""


@dataclass(frozen=True, slots=True)
class BlobFile:
    """A file in one leaf directory, as the collector sees it."""

    name: str
    path: Path
    mtime: float

    @property
    def digest(self) -> str | None:
        """The blob's digest; None for the store's temporary files."""
        name = self.name.removeprefix(_GC_PREFIX)
        return name if _DIGEST_RE.fullmatch(name) else None

    @property
    def temporary(self) -> bool:
        """A write in progress, or left behind by a writer that crashed."""
        return self.name.startswith(_TMP_PREFIX)

    @property
    def set_aside(self) -> bool:
        """Renamed aside by a collector that stopped before deciding (a crash)."""
        return self.name.startswith(_GC_PREFIX)


class BlobStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        """`fsync=False` trades durability after a power cut for speed (bulk imports, tests,
        and parse processes, whose blobs the parent makes durable: `make_durable(digests)`)."""
        self.root = Path(root)
        self._fsync = fsync
        self._lock = threading.Lock()
        # Files this store wrote without an fsync since the last `make_durable`, and directories
        # it created entries in (new fan-out directories) that no fsync has covered yet.
        self._unsynced: set[Path] = set()
        self._new_entries: set[Path] = set()

    def path(self, digest: str) -> Path:
        """Where the blob with `digest` lives; the digest is checked, so never a traversal."""
        if not isinstance(digest, str) or not _DIGEST_RE.fullmatch(digest):
            raise ValueError("blob digest must be 64 lower-case hex characters")
        return self.root / digest[:2] / digest[2:4] / digest

    @property
    def durable(self) -> bool:
        """Whether this store makes what it stores survive a power cut (`fsync`)."""
        return self._fsync

    def put(self, data: bytes) -> str:
        """Store `data` and return its sha256 hex digest; storing it again writes nothing (it
        only refreshes the mtime, for the collector: see the module docstring)."""
        return self._put(data, fsync=self._fsync)

    def put_many(self, items: Sequence[bytes]) -> list[str]:
        """Store a batch, durable as a whole before returning: the fsyncs of the batch run
        together instead of two after each blob (about 1.8 ms each here, which capped a sync at
        a few hundred messages a second). The caller commits the rows naming them afterwards."""
        digests = [self._put(data, fsync=False) for data in items]
        # The digests, not only what this call wrote: content that was already there may have
        # been written by another process that has not made it durable yet.
        self.make_durable(digests)
        return digests

    def make_durable(self, digests: Iterable[str] = ()) -> None:
        """Flush to disk the blobs this store wrote without fsync (`put_many`) and the blobs
        `digests` name, which other processes may have written (parse processes store with
        `fsync=False`) or re-used: whoever wrote them, they are on disk before a row names
        them. Only those files and their directories are synced, not the whole machine."""
        if not self._fsync:
            return
        with self._lock:
            files, self._unsynced = self._unsynced, set()
            created, self._new_entries = self._new_entries, set()
        files.update(self.path(digest) for digest in digests)
        if not files:
            return
        # The leaf directory holds the renamed entry; the fan-out directories above it may
        # have been created for it, by this process or another.
        directories = {self.root, *created}
        directories.update(d for f in files for d in (f.parent, f.parent.parent))
        # Contents first, then the names: a name never outlives its content on disk. On a
        # failure the caller's batch fails, and the retry passes the same digests again.
        _sync_all(sorted(files), _fsync_file)
        _sync_all(sorted(directories), _fsync_dir)

    def flush(self, digest: str) -> None:
        """fsync one blob and its directory now, whatever this store's `fsync` setting: what a
        parse process does in the background while it parses on (see `mail.ingest`)."""
        path = self.path(digest)
        _fsync_file(path)
        self._fsync_dirs(path.parent)

    def _fsync_dirs(self, leaf: Path) -> None:
        """The leaf directory, and the fan-out directories that got new entries."""
        with self._lock:
            created, self._new_entries = self._new_entries, set()
        for directory in {leaf, *created}:
            _fsync_dir(directory)

    def _put(self, data: bytes, *, fsync: bool) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        with contextlib.suppress(FileNotFoundError):
            # A blob of the wrong size (cut short by a crash with fsync off) is written again.
            found = target.stat()
            if found.st_size == len(data):
                if found.st_mtime < time.time() - _REFRESH_AFTER:
                    # FileNotFoundError: a collector just set it aside; it is written anew.
                    os.utime(target)
                return digest
        if not target.parent.is_dir():
            target.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            with self._lock:
                self._new_entries.update((self.root, target.parent.parent))
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=_TMP_PREFIX, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        if fsync:
            self._fsync_dirs(target.parent)
        elif self._fsync:
            with self._lock:
                self._unsynced.add(target)
        return digest

    def get(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(digest) from None

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def delete(self, digest: str) -> bool:
        """Remove the blob; False when it was not there. Callers check it is unreferenced."""
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    # --- garbage collection (see the module docstring and `mail.blob_gc`) ----------------------

    def leaves(self, after: str = "") -> Iterator[str]:
        """Leaf directories ("ab/cd") in order, starting after `after`."""
        for top in _fan_out(self.root):
            if top < after[:2]:
                continue
            for leaf in _fan_out(self.root / top):
                name = f"{top}/{leaf}"
                if name > after:
                    yield name

    def files(self, leaf: str) -> list[BlobFile]:
        """The files in one leaf directory (blobs, temporary files, blobs set aside)."""
        found = []
        with contextlib.suppress(FileNotFoundError), os.scandir(self.root / leaf) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    if entry.is_file(follow_symlinks=False):
                        mtime = entry.stat(follow_symlinks=False).st_mtime
                        found.append(BlobFile(entry.name, Path(entry.path), mtime))
        return found

    def collect(self, digest: str, *, older_than: float) -> bool:
        """Delete an unreferenced blob unless it was written or re-used at or after the time
        `older_than`; the caller has checked that no row names it. True when deleted."""
        path = self.path(digest)
        aside = path.with_name(_GC_PREFIX + digest)
        try:
            if path.stat().st_mtime >= older_than:
                return False
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        return self.settle(aside, older_than=older_than, referenced=False)

    def settle(self, aside: Path, *, older_than: float, referenced: bool) -> bool:
        """Decide about a blob set aside: back into place when it is referenced or was re-used
        since `older_than`, else deleted. True when deleted."""
        try:
            fresh = aside.stat().st_mtime >= older_than
            if referenced or fresh:
                # A writer may have stored the same bytes again meanwhile; same content.
                os.replace(aside, aside.with_name(aside.name.removeprefix(_GC_PREFIX)))
                return False
            aside.unlink()
        except FileNotFoundError:
            return False
        return True

    def discard(self, path: Path, *, older_than: float) -> bool:
        """Delete a temporary file a crashed writer left behind, if it is old."""
        if not path.name.startswith(_TMP_PREFIX) or path.parent.parent.parent != self.root:
            raise ValueError("only the store's temporary files are discarded this way")
        try:
            if path.stat().st_mtime >= older_than:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def _fan_out(directory: Path) -> list[str]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if _FAN_OUT_RE.fullmatch(n))


def _sync_all(paths: Sequence[Path], sync: Callable[[Path], None]) -> None:
    if len(paths) <= 2:
        for path in paths:
            sync(path)
        return
    with ThreadPoolExecutor(min(_SYNC_THREADS, len(paths))) as pool:
        # list(): wait for all and raise the first failure.
        list(pool.map(sync, paths))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry is; not possible on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
