"""`.venv/bin/python bench/sync/run.py`: the same as `.venv/bin/python -m bench.sync`."""

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a file, the repository root is not on sys.path and `bench` cannot be imported.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    runpy.run_module("bench.sync", run_name="__main__", alter_sys=True)
