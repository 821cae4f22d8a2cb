"""Process pools whose processes end with the process that made them.

A `ProcessPoolExecutor` worker waits on its call queue, whose pipe it holds both ends of, so it
never learns that the process that made the pool is gone: after a SIGKILL (an OOM kill, a
`kill -9` of `postwise worker`, a test that kills a worker on purpose) the pool's processes and
their forkserver stay behind, idle, parented to init, until a cgroup or a reboot removes them.
The suite's runs left dozens that way. Each worker here watches its owner through a pidfd (Linux
5.3+) and exits the moment the owner does; `prctl(PR_SET_PDEATHSIG)` cannot do it, since a
forkserver worker's parent is the forkserver, not the owner.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

__all__ = ["process_pool"]


def process_pool(
    max_workers: int, *, initializer: Callable[[], object] | None = None
) -> ProcessPoolExecutor:
    """A pool of `max_workers` processes started with forkserver (forking a process that already
    runs threads, such as the event loop's executors or aiosqlite's, can copy a held lock into
    the child), each ending when this process ends, however it ends."""
    return ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_start_child,
        initargs=(os.getpid(), initializer),
    )


def _start_child(owner: int, initializer: Callable[[], object] | None) -> None:
    _exit_with(owner)
    if initializer is not None:
        initializer()


def _exit_with(owner: int) -> None:
    try:
        pidfd = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(0)  # the owner is already gone: nobody will ever send work
    except (AttributeError, OSError):
        return  # no pidfd here (not Linux, an old kernel): the pool works, unwatched

    def watch() -> None:
        # A pidfd becomes readable when its process ends.
        select.select([pidfd], [], [])
        os._exit(0)

    threading.Thread(target=watch, name="postwise-pool-owner", daemon=True).start()
