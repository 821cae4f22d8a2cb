"""The allocator settings the server applies at start (bench/soak measured why)."""

from __future__ import annotations

import subprocess
import sys

from postwise.kit.memory import ENVIRONMENT, tune_allocator


def test_sets_the_environment_for_child_processes_and_tunes_glibc() -> None:
    environ: dict[str, str] = {}
    assert tune_allocator(environ) is True  # Debian's glibc takes both settings
    assert environ == ENVIRONMENT


def test_an_operators_own_values_win() -> None:
    environ = {"MALLOC_ARENA_MAX": "4"}
    tune_allocator(environ)
    assert environ["MALLOC_ARENA_MAX"] == "4"
    assert environ["MALLOC_MMAP_THRESHOLD_"] == ENVIRONMENT["MALLOC_MMAP_THRESHOLD_"]


def test_serve_passes_the_settings_to_the_processes_it_starts() -> None:
    # `postwise serve --workers N` spawns its API processes: they inherit the environment.
    script = (
        "import os, subprocess, sys\n"
        "from postwise.kit.memory import tune_allocator\n"
        "tune_allocator()\n"
        "print(subprocess.run([sys.executable, '-c', "
        "'import os; print(os.environ[\"MALLOC_ARENA_MAX\"])'], capture_output=True, "
        "text=True).stdout.strip())\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == ENVIRONMENT["MALLOC_ARENA_MAX"]
