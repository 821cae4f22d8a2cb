"""Where the CPU went during a window: the server's event loop, its other threads, the bench.

Read from /proc (Linux); elsewhere only the bench's own CPU time is known.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CpuSample:
    at: float
    bench_s: float
    server_loop_s: float | None
    server_threads_s: float | None
    machine_busy_s: float | None
    machine_total_s: float | None


@dataclass(frozen=True)
class CpuUsage:
    """Average cores in use over the window (1.0 = one core fully busy)."""

    window_s: float
    bench: float
    server_loop: float | None
    server_threads: float | None
    machine_busy: float | None
    machine_cores: float | None

    @property
    def others(self) -> float | None:
        """Cores used by processes other than the server and the bench (noise)."""
        if self.machine_busy is None or self.server_loop is None or self.server_threads is None:
            return None
        return max(0.0, self.machine_busy - self.server_loop - self.server_threads - self.bench)


def sample(server_pid: int) -> CpuSample:
    loop_s, threads_s = _server_threads(server_pid)
    busy_s, total_s = _machine()
    return CpuSample(
        at=time.monotonic(),
        bench_s=time.process_time(),
        server_loop_s=loop_s,
        server_threads_s=threads_s,
        machine_busy_s=busy_s,
        machine_total_s=total_s,
    )


def usage(start: CpuSample, end: CpuSample) -> CpuUsage:
    window = end.at - start.at

    def rate(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else (b - a) / window

    total = rate(start.machine_total_s, end.machine_total_s)
    return CpuUsage(
        window_s=window,
        bench=(end.bench_s - start.bench_s) / window,
        server_loop=rate(start.server_loop_s, end.server_loop_s),
        server_threads=rate(start.server_threads_s, end.server_threads_s),
        machine_busy=rate(start.machine_busy_s, end.machine_busy_s),
        machine_cores=total,
    )


def _stat_seconds(path: Path) -> float | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its ")" is space separated.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _server_threads(pid: int) -> tuple[float | None, float | None]:
    """CPU of the main thread (uvicorn's event loop) and of all other threads (argon2 pool,
    aiosqlite connections, to_thread), including threads that already ended."""
    loop_s = _stat_seconds(Path(f"/proc/{pid}/task/{pid}/stat"))
    process_s = _stat_seconds(Path(f"/proc/{pid}/stat"))
    if loop_s is None or process_s is None:
        return None, None
    return loop_s, process_s - loop_s


def _machine() -> tuple[float | None, float | None]:
    try:
        first = Path("/proc/stat").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None, None
    # cpu user nice system idle iowait irq softirq steal ...: all summed over the cores.
    values = [int(value) for value in first.split()[1:9]]
    idle = values[3] + values[4]
    total = sum(values)
    return (total - idle) / _TICKS, total / _TICKS


def wait_until_quiet(
    *, threshold: float = 0.15, step_s: float = 0.5, limit_s: float = 30.0
) -> float:
    """Wait until the whole machine is idle (below `threshold` cores over two steps in a row),
    at most `limit_s`; return the cores busy in the last step.

    A freshly started server is not idle at once: it spawns its parse processes, which import
    the mail parser. Timing argon2id while they run would slow the hash and understate the
    limit, flattering the ratio.
    """
    quiet_steps = 0
    busy = 0.0
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and quiet_steps < 2:
        start = _machine()
        time.sleep(step_s)
        end = _machine()
        if start[0] is None or end[0] is None or start[1] is None or end[1] is None:
            return 0.0  # not Linux: nothing to wait for that can be seen
        busy = (end[0] - start[0]) / step_s
        quiet_steps = quiet_steps + 1 if busy < threshold else 0
    return busy


def combine(parts: list[CpuUsage]) -> CpuUsage:
    """Several windows as one: each figure averaged over their total time."""
    total = sum(part.window_s for part in parts)

    def mean(values: list[float | None]) -> float | None:
        if any(value is None for value in values):
            return None
        known = [v for v in values if v is not None]
        return sum(v * p.window_s for v, p in zip(known, parts, strict=True)) / total

    return CpuUsage(
        window_s=total,
        bench=sum(p.bench * p.window_s for p in parts) / total,
        server_loop=mean([p.server_loop for p in parts]),
        server_threads=mean([p.server_threads for p in parts]),
        machine_busy=mean([p.machine_busy for p in parts]),
        machine_cores=mean([p.machine_cores for p in parts]),
    )
