"""kit.pools: a pool's processes end with the process that made it, however it ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

OWNER = """
import os, time
{make}
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(600)
"""
WATCHED = "from postwise.kit.pools import process_pool\npool = process_pool(1)"
PLAIN = (
    "import multiprocessing\nfrom concurrent.futures import ProcessPoolExecutor\n"
    "pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('forkserver'))"
)


def _state(pid: int) -> str | None:
    """The process's state letter (Z for a zombie), None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _running(pid: int) -> bool:
    return _state(pid) not in (None, "Z")


def _killed_owner_leaves(make: str, wait: float) -> tuple[bool, bool]:
    """Start a pool in a process, SIGKILL that process; whether the pool's worker and its
    forkserver are still running `wait` seconds later."""
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER.format(make=make)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker = forkserver = None
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline()
        assert line.strip(), owner.communicate(timeout=30)[1]
        worker = int(line)
        forkserver = _parent(worker)
        assert _running(worker) and _running(forkserver)
        owner.kill()
        owner.wait()
        deadline = time.monotonic() + wait
        while (_running(worker) or _running(forkserver)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return _running(worker), _running(forkserver)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        for pid in (worker, forkserver):
            if pid is not None and _running(pid):
                os.kill(pid, 9)


def test_a_pools_processes_end_when_its_owner_is_killed() -> None:
    assert _killed_owner_leaves(WATCHED, wait=10) == (False, False)


def test_a_standard_pools_processes_outlive_a_killed_owner() -> None:
    # Why kit.pools exists: without the watch, both stay (idle, parented to init).
    assert _killed_owner_leaves(PLAIN, wait=2) == (True, True)
