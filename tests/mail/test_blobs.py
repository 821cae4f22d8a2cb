"""The content-addressed blob store: round trip, idempotence, atomicity, digest validation."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from postwise.mail.blobs import BlobNotFoundError, BlobStore
from postwise.mail.ingest import prepare_all

DATA = b"%PDF-1.4 attachment bytes \x00\xff" * 100
DIGEST = hashlib.sha256(DATA).hexdigest()


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_get_round_trip_with_fan_out(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    digest = store.put(DATA)
    assert digest == DIGEST
    assert store.get(digest) == DATA
    assert store.exists(digest)
    assert store.path(digest) == tmp_path / "blobs" / DIGEST[:2] / DIGEST[2:4] / DIGEST
    assert _files(tmp_path) == [store.path(digest)]


def test_blobs_are_private(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    path = store.path(store.put(DATA))
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_put_is_idempotent(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, fsync=False)
    first = store.put(DATA)
    mtime = store.path(first).stat().st_mtime_ns
    assert store.put(DATA) == first
    assert store.path(first).stat().st_mtime_ns == mtime  # not rewritten
    assert _files(tmp_path) == [store.path(first)]


def test_a_truncated_blob_is_repaired_by_the_next_put(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    path = store.path(store.put(DATA))
    path.write_bytes(DATA[:10])  # what a crash without fsync can leave behind
    store.put(DATA)
    assert store.get(DIGEST) == DATA


def test_empty_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = store.put(b"")
    assert digest == hashlib.sha256(b"").hexdigest()
    assert store.get(digest) == b""


def test_missing_blob_raises_key_error(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(KeyError):
        store.get(DIGEST)
    with pytest.raises(BlobNotFoundError):
        store.get(DIGEST)
    assert not store.exists(DIGEST)


def test_delete(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = store.put(DATA)
    assert store.delete(digest) is True
    assert not store.exists(digest)
    assert store.delete(digest) is False


@pytest.mark.parametrize(
    "digest",
    [
        "",
        "../../etc/passwd",
        DIGEST.upper(),
        DIGEST[:-1],
        DIGEST + "0",
        "../" + DIGEST[3:],
        DIGEST[:32] + "/" + DIGEST[33:],
        "g" * 64,
        DIGEST[:-1] + "\n",
    ],
)
def test_invalid_digest_is_rejected(tmp_path: Path, digest: str) -> None:
    store = BlobStore(tmp_path)
    for call in (store.path, store.get, store.exists, store.delete):
        with pytest.raises(ValueError, match="digest"):
            call(digest)


def test_failed_write_leaves_no_blob_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = BlobStore(tmp_path)

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.put(DATA)
    monkeypatch.undo()
    assert not store.exists(DIGEST)
    assert _files(tmp_path) == []


def test_readers_never_see_a_partial_blob(tmp_path: Path) -> None:
    # Writers race to store the same large blob while readers poll: a reader either finds
    # nothing or the whole content, never a prefix (which a write in place would expose).
    store = BlobStore(tmp_path, fsync=False)
    big = os.urandom(4 << 20)
    digest = hashlib.sha256(big).hexdigest()
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            with contextlib.suppress(KeyError):
                seen.append(len(store.get(digest)))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    writers = [threading.Thread(target=store.put, args=(big,)) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    done.set()
    for reader in readers:
        reader.join()
    assert store.get(digest) == big
    assert set(seen) <= {len(big)}
    assert _files(tmp_path) == [store.path(digest)]


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Which files and directories get fsynced; os.sync (every file system) must not run."""
    synced: list[Path] = []
    opened: dict[int, Path] = {}
    real_open, real_fsync = os.open, os.fsync

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        opened[fd] = Path(path)
        return fd

    def fsync(fd: int) -> None:
        synced.append(opened.get(fd, Path(f"/proc/self/fd/{fd}").readlink()))
        real_fsync(fd)

    def sync() -> None:
        raise AssertionError("os.sync flushes every file system of the machine")

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "sync", sync)
    return synced


def test_put_many_fsyncs_the_batch_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = BlobStore(tmp_path)
    other = store.path(store.put(b"stored earlier"))
    synced = _record_fsyncs(monkeypatch)
    items = [b"first", b"second", b"first"]
    digests = store.put_many(items)
    assert digests == [hashlib.sha256(i).hexdigest() for i in items]
    assert [store.get(d) for d in digests] == items
    paths = {store.path(d) for d in digests}
    # Each blob once (after all of them were written), and the directories naming them.
    assert sorted(p for p in synced if p.is_file()) == sorted(paths)
    assert {p.parent for p in paths} <= set(synced)
    assert other not in synced
    synced.clear()
    assert BlobStore(tmp_path, fsync=False).put_many([b"third"])
    assert synced == []


def test_make_durable_covers_blobs_other_processes_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A parse process stores without fsync; the digests it returns are enough.
    digest = BlobStore(tmp_path, fsync=False).put(DATA)
    store = BlobStore(tmp_path)
    synced = _record_fsyncs(monkeypatch)
    store.make_durable([digest])
    path = store.path(digest)
    assert synced.count(path) == 1
    assert {path.parent, path.parent.parent, tmp_path} <= set(synced)
    synced.clear()
    store.make_durable()  # nothing written since
    assert synced == []


async def test_parsed_batches_are_durable_before_rows_name_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raws = [
        b"From: a@example.com\r\nSubject: %d\r\nMessage-ID: <%d@example.com>\r\n\r\nbody %d\r\n"
        % (n, n, n)
        for n in range(5)
    ]
    store = BlobStore(tmp_path)
    store.put(raws[0])  # found already stored: flushed too, a writer may not have yet
    synced = _record_fsyncs(monkeypatch)
    prepared = await prepare_all(raws, executor=None, blobs=store)
    paths = {store.path(p.raw_sha256) for p in prepared}
    assert len(paths) == 5
    assert paths <= set(synced)
    assert {p.parent for p in paths} <= set(synced)
    synced.clear()
    await prepare_all(raws, executor=None, blobs=BlobStore(tmp_path, fsync=False))
    assert synced == []


def test_reputting_old_content_refreshes_its_mtime(tmp_path: Path) -> None:
    # The blob collector keeps what was written or re-used within its grace period.
    store = BlobStore(tmp_path, fsync=False)
    path = store.path(store.put(DATA))
    inode = path.stat().st_ino
    os.utime(path, (time.time() - 86400, time.time() - 86400))
    store.put(DATA)
    assert path.stat().st_mtime > time.time() - 60
    assert path.stat().st_ino == inode  # not rewritten
