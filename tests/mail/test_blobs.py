"""The content-addressed blob store: round trip, idempotence, atomicity, digest validation."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from pathlib import Path

import pytest

from postwise.mail.blobs import BlobNotFoundError, BlobStore

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


def test_put_many_stores_a_batch_with_one_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"fsync": 0, "sync": 0}
    real_fsync = os.fsync
    monkeypatch.setattr(
        os, "fsync", lambda fd: (calls.__setitem__("fsync", calls["fsync"] + 1), real_fsync(fd))[1]
    )
    monkeypatch.setattr(os, "sync", lambda: calls.__setitem__("sync", calls["sync"] + 1))
    store = BlobStore(tmp_path)
    items = [b"first", b"second", b"first"]
    digests = store.put_many(items)
    assert digests == [hashlib.sha256(i).hexdigest() for i in items]
    assert [store.get(d) for d in digests] == items
    assert calls == {"fsync": 0, "sync": 1}
    assert BlobStore(tmp_path, fsync=False).put_many([b"third"]) and calls["sync"] == 1
