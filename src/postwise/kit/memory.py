"""Keeping glibc's allocator from holding on to memory a long-running server has freed.

bench/soak (docs/benchmarks.md, "Memory soak") found that the server's growth under load is not
a Python leak but glibc keeping freed memory: every thread that allocates gets its own arena
(up to 8 per core), and after a large block (an argon2id hash takes 19 MiB) is freed, glibc
raises its mmap threshold so later large blocks come from those arenas, where they stay as
fragmented free space. Two arenas and a fixed 128 KiB mmap threshold (which also turns the
dynamic raising off) give the memory back: under a sign-in heavy load the growth over two rounds
fell from 118 MB to 41 MB with the same throughput.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import MutableMapping

# glibc's mallopt parameters (malloc.h).
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

ARENA_MAX = 2
MMAP_THRESHOLD_BYTES = 128 * 1024

# glibc reads these when a process starts: set for the processes this one spawns (uvicorn's
# workers, the parse pool), which would otherwise start with the defaults.
ENVIRONMENT = {
    "MALLOC_ARENA_MAX": str(ARENA_MAX),
    "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD_BYTES),
}


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    # musl and macOS have no mallopt with these meanings (or none at all).
    if not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
        return None
    return libc


def tune_allocator(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Apply the settings to this process and to the processes it starts; an operator's own
    MALLOC_* values win. Returns whether glibc took them (False elsewhere: nothing to do)."""
    for key, value in ENVIRONMENT.items():
        environ.setdefault(key, value)
    libc = _glibc()
    if libc is None:
        return False
    arenas = int(environ["MALLOC_ARENA_MAX"])
    threshold = int(environ["MALLOC_MMAP_THRESHOLD_"])
    # mallopt answers 1 on success; arenas already created stay, so call this early.
    return bool(libc.mallopt(_M_ARENA_MAX, arenas)) and bool(
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)
    )
