"""CPU seconds of process trees and of the machine, read from /proc (Linux).

A tree's CPU is the user + system time of every live process in it plus what its members have
already collected from children that exited (cutime + cstime): sampled before and after a run,
the difference is what the tree spent, exited processes (Dovecot's imap sessions) included.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class _Stat:
    ppid: int
    cpu_s: float  # own utime + stime
    children_s: float  # cutime + cstime: children already waited for


def _stat(pid: int, path: Path | None = None) -> _Stat | None:
    try:
        text = (path or _PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its ")" is space separated.
    fields = text[text.rindex(")") + 2 :].split()
    return _Stat(
        ppid=int(fields[1]),
        cpu_s=(int(fields[11]) + int(fields[12])) / _TICKS,
        children_s=(int(fields[13]) + int(fields[14])) / _TICKS,
    )


def _all() -> dict[int, _Stat]:
    stats = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    return stats


def tree_cpu(root: int, *, exclude: Collection[int] = ()) -> float:
    """CPU seconds used so far by `root` and its descendants (subtrees in `exclude` left out)."""
    stats = _all()
    children: dict[int, list[int]] = {}
    for pid, stat in stats.items():
        children.setdefault(stat.ppid, []).append(pid)
    total = 0.0
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid in exclude or pid not in stats:
            continue
        total += stats[pid].cpu_s + stats[pid].children_s
        stack.extend(children.get(pid, ()))
    return total


def thread_cpu(native_id: int) -> float | None:
    """CPU seconds of one thread of this process (None once it has ended)."""
    stat = _stat(0, _PROC / "self" / "task" / str(native_id) / "stat")
    return None if stat is None else stat.cpu_s


def available() -> bool:
    return (_PROC / "self" / "stat").exists()


@dataclass(frozen=True, slots=True)
class MachineSample:
    at: float
    busy_s: float | None  # user + nice + system of all cores, kernel threads left out


def _kernel_threads() -> float:
    """CPU of kernel threads (writeback, the journal, kworkers): the contenders' own fsyncs
    and page cache flushing run there, so they are not counted as other processes."""
    return sum(stat.cpu_s for pid, stat in _all().items() if pid == 2 or stat.ppid == 2)


def machine() -> MachineSample:
    """Busy CPU seconds of the machine's processes so far (all cores summed). Interrupts,
    softirq (loopback networking) and steal are left out with idle and iowait."""
    try:
        first = (_PROC / "stat").read_text().splitlines()[0]
    except (OSError, IndexError):
        return MachineSample(time.monotonic(), None)
    user, nice, system = (int(value) for value in first.split()[1:4])
    return MachineSample(time.monotonic(), (user + nice + system) / _TICKS - _kernel_threads())


def busy_between(start: MachineSample, end: MachineSample) -> float | None:
    if start.busy_s is None or end.busy_s is None:
        return None
    return end.busy_s - start.busy_s
