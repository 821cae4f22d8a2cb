"""The name a process holds its leases under: never shared by two live processes, and handed
on to the next process once its holder is gone (however it died)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from postwise.sync.owner import owner_identity


def test_a_slot_is_one_processs_and_comes_back_after_it(tmp_path: Path) -> None:
    with owner_identity(tmp_path, "worker") as first, owner_identity(tmp_path, "worker") as second:
        assert first != second  # two live processes never share a name
        with owner_identity(tmp_path, "serve") as embedded:
            assert embedded not in {first, second}
    with owner_identity(tmp_path, "worker") as again:
        assert again == first
    with owner_identity(tmp_path / "elsewhere", "worker") as other_installation:
        assert other_installation != first


def test_a_killed_process_leaves_its_name_to_the_next(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from postwise.sync.owner import owner_identity\n"
        "with owner_identity(Path(sys.argv[1]), 'serve') as name:\n"
        "    print(name, flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        held = child.stdout.readline().strip()
        with owner_identity(tmp_path, "serve") as meanwhile:
            assert meanwhile != held
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    with owner_identity(tmp_path, "serve") as restarted:
        assert restarted == held
