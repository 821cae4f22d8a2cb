"""The name a process holds mailbox leases under: one that a restarted process gets back, and
that no two live processes share.

A lease names its owner. When the name was new at every start (host, pid, random), a process
killed with SIGKILL and started again waited for its own leases to run out (a minute) before
syncing again: nothing told it they were its own. So a process now takes a *slot*: the
lowest-numbered lock file `<data dir>/sync-owners/<host>/<role>-<n>.lock` it can `flock`. It
holds the lock for as long as its sync engine runs, and the kernel drops the lock when the
process dies, however it dies. Hence:

- two live processes never hold the same slot (the second one takes the next number), so they
  never share a name;
- a process that starts after one died takes the lowest free slot: after a restart, normally
  the dead process's, whose leases it then recognises as its own and resumes at once. Whoever
  holds slot n is the only live process with that name, so taking over a dead holder's leases
  is safe even when another process (a second worker that restarted first) got the slot.

The name is `<host>:<role>-<n>:<installation>`. The role keeps `postwise serve` (the embedded
engine) and `postwise worker` apart; the installation is a random id kept in the data folder,
so processes of two installations on one host that share a database never share a name
either. Where no slot can be had (no `fcntl`, a read-only data folder, all slots taken), the
process uses a fresh random name, as before: correct, it just waits for expiry after a crash.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import structlog

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

log = structlog.get_logger(__name__)

OWNERS_DIR = "sync-owners"
MAX_SLOTS = 64


def random_owner() -> str:
    """A name no other process has: for a process without a slot (and for tests)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _installation(folder: Path) -> str:
    path = folder / "installation"
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    # Written whole under a temporary name, then linked into place: of two processes starting
    # at once, one link wins and both read the winner's id, never a half-written file.
    temporary = folder / f".installation-{uuid.uuid4().hex}"
    temporary.write_text(uuid.uuid4().hex[:12])
    try:
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink()
    return path.read_text().strip()


def _take_slot(folder: Path, role: str) -> tuple[int, BinaryIO] | None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS):
        handle = (folder / f"{role}-{slot}.lock").open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        except BaseException:
            handle.close()
            raise
        return slot, handle
    return None


def _acquire(data_dir: Path, role: str) -> tuple[str, BinaryIO | None]:
    if fcntl is None:
        return random_owner(), None
    host = socket.gethostname()
    folder = data_dir / OWNERS_DIR
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        installation = _installation(folder)
        taken = _take_slot(folder / re.sub(r"[^A-Za-z0-9._-]", "_", host), role)
    except OSError as error:
        log.warning("sync_owner_slot_unavailable", error=str(error))
        return random_owner(), None
    if taken is None:
        log.warning("sync_owner_slots_exhausted", role=role, slots=MAX_SLOTS)
        return random_owner(), None
    slot, handle = taken
    return f"{host}:{role}-{slot}:{installation}", handle


@contextlib.contextmanager
def owner_identity(data_dir: Path, role: str) -> Iterator[str]:
    """Hold a slot while the block runs (see the module doc); yields the owner name."""
    name, handle = _acquire(data_dir, role)
    try:
        yield name
    finally:
        if handle is not None:
            handle.close()  # releases the lock
