"""Optional sampling profiles of the Postwise processes over the drain (`--profile DIR`), with
py-spy when it is on PATH: it attaches to the running processes, sees every thread (the message
builder and the IMAP client run in worker threads, which cProfile would miss) and needs no
restart. Writes `<process>.txt` (collapsed stacks: one line per stack with its sample count)
and prints the functions that hold the most samples."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

RATE = 100  # samples per second


class Profiler:
    def __init__(self, directory: Path, pids: dict[str, int]) -> None:
        found = shutil.which("py-spy")
        if found is None:
            raise RuntimeError("--profile needs py-spy on PATH (pip install py-spy)")
        self.executable = found
        self.directory = directory
        self.pids = pids
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            command = [
                self.executable,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(RATE),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(self.directory / f"{name}.txt"),
            ]
            log = (self.directory / f"{name}.log").open("wb")
            self.running.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))

    def stop(self) -> None:
        for process in self.running:
            process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for process in self.running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running.clear()


def summary(path: Path, top: int = 25) -> str:
    """The functions with the most samples anywhere on the stack (inclusive), and at its top
    (where the time is spent itself)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{path.name}: {total} samples ({total / RATE:.1f} s)", "inclusive:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("own:")
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)
