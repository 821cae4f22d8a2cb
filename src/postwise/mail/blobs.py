"""Content-addressed blob store for attachments and raw messages.

A blob lives at `root/ab/cd/<sha256>`: the same bytes are stored once however many messages carry
them, a name can never point at other content, and two levels of fan-out keep directories small
(65,536 leaf directories before any holds more than a handful of files at 10 million blobs).

Writes go to a temporary file in the destination directory and are renamed into place with
`os.replace`, so a reader (or a crash) sees either no blob or the whole blob, never a partial one.
The methods are synchronous: callers run them in worker threads.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["BlobNotFoundError", "BlobStore"]

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")
# Mail is private: blobs are readable by the service account only.
_DIR_MODE = 0o700


class BlobNotFoundError(KeyError):
    """No blob with this digest (a KeyError, so `except KeyError` callers keep working)."""


class BlobStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        """`fsync=False` trades durability after a power cut for speed (bulk imports, tests)."""
        self.root = Path(root)
        self._fsync = fsync

    def path(self, digest: str) -> Path:
        """Where the blob with `digest` lives; the digest is checked, so never a traversal."""
        if not isinstance(digest, str) or not _DIGEST_RE.fullmatch(digest):
            raise ValueError("blob digest must be 64 lower-case hex characters")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Store `data` and return its sha256 hex digest; storing it again is a no-op."""
        return self._put(data, fsync=self._fsync)

    def put_many(self, items: Sequence[bytes]) -> list[str]:
        """Store a batch, durable as a whole before returning: one `sync()` for the batch
        instead of two fsyncs per blob (about 1.8 ms each here, which capped a sync at a few
        hundred messages a second). The caller commits the rows naming them afterwards."""
        digests = [self._put(data, fsync=False) for data in items]
        if digests:
            self.make_durable()
        return digests

    def make_durable(self) -> None:
        """Flush blobs written without fsync (by `put_many`, or by parse processes writing
        with `fsync=False`) to disk. `os.sync()` flushes every file system, which on a shared
        machine includes other programs' writes; Python offers no syncfs(2)."""
        if self._fsync:
            os.sync()

    def _put(self, data: bytes, *, fsync: bool) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        with contextlib.suppress(FileNotFoundError):
            # A blob of the wrong size (cut short by a crash with fsync off) is written again.
            if target.stat().st_size == len(data):
                return digest
        target.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
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
            self._fsync_dir(target.parent)
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

    @staticmethod
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
