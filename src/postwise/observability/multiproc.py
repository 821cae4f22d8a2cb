"""The shared metrics directory of `postwise serve --workers N` (prometheus-client's
multiprocess mode: each process writes its values to files there, a scrape merges them)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from postwise.observability.metrics import MULTIPROC_ENV


@contextmanager
def shared_metrics_dir(workers: int) -> Iterator[Path | None]:
    """Set PROMETHEUS_MULTIPROC_DIR for the API processes about to start (when there are
    several), emptied first: files left by an earlier run would be added to this run's counts.

    Must run before the processes are started (prometheus-client picks its storage when it is
    imported). An operator-chosen directory (the variable already set) is used and emptied; one
    made here is removed afterwards.
    """
    chosen = os.environ.get(MULTIPROC_ENV)
    if chosen is None and workers <= 1:
        yield None
        return
    made = chosen is None
    path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="postwise-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        if made:
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(path, ignore_errors=True)
