#!/usr/local/bin/python3
"""The container's health check: one image runs `serve`, `worker` and one-off commands.

`postwise-healthcheck` looks at what PID 1 runs (through `docker --init`'s tini too):
`serve` must answer GET /healthz on POSTWISE_PORT, `worker` must answer GET /metrics on
POSTWISE_WORKER_METRICS_PORT, anything else (migrate, backup...) has nothing to probe.
`postwise-healthcheck /readyz` probes that path of `serve` instead. Exit 0: healthy.

Standard library only: the slim image has no curl, and importing the app would cost seconds of
CPU every interval.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT_SECONDS = 4.0


def _command() -> list[str]:
    try:
        raw = Path("/proc/1/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _target(command: list[str], path: str | None) -> str | None:
    if "serve" in command:
        port = os.environ.get("POSTWISE_PORT", "8000")
        return f"http://127.0.0.1:{port}{path or '/healthz'}"
    if "worker" in command:
        port = os.environ.get("POSTWISE_WORKER_METRICS_PORT", "9464")
        return f"http://127.0.0.1:{port}/metrics"
    return None


def main() -> int:
    url = _target(_command(), sys.argv[1] if len(sys.argv) > 1 else None)
    if url is None:
        return 0
    try:
        # The URL is built above from loopback and a port, never from outside input.
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
