"""The peer: notmuch (Debian's package), with a private configuration and database, indexing the
same Maildir and answering the same queries as a command, as its users run it."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

NOTMUCH = "notmuch"
PAGE = 50  # results a search shows, as Postwise's page

# Everything else is notmuch's default. `new.tags` and `synchronize_flags` are spelled out
# because the bench depends on them: every message gets `unread` when indexed, and the Maildir
# flags then take it away from the read ones (S) and add `flagged` (F). No tag is excluded from
# searches (a new user configuration would exclude `deleted` and `spam`; there are none).
CONFIG = """\
[database]
path={database}
mail_root={mail}

[user]
name=Alex Morgan
primary_email={user}

[new]
tags=unread;inbox;
ignore=

[search]
exclude_tags=

[maildir]
synchronize_flags=true
"""


class PeerError(Exception):
    """notmuch is missing or failed; the message says why."""


@dataclass(frozen=True, slots=True)
class Notmuch:
    config: Path
    log: Path
    env: dict[str, str]  # built once: a search's timing should not include building it

    def search_argv(self, query: str) -> list[str]:
        # The default output (one summary line per thread, newest first), as a person or a
        # mail client front end (alot, the Emacs UI) asks for a page of results.
        return [NOTMUCH, "search", f"--limit={PAGE}", "--", query]


def check_tool() -> None:
    if shutil.which(NOTMUCH) is None:
        raise PeerError("notmuch is missing (scripts/services.sh notmuch, Debian package notmuch)")


def versions() -> tuple[str, str]:
    """(notmuch version, Xapian library version), as installed."""

    def ask(command: list[str]) -> str:
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=10)
        except OSError:
            return "unknown"
        lines = (result.stdout or "").strip().splitlines()
        return lines[0] if result.returncode == 0 and lines else "unknown"

    notmuch = ask([NOTMUCH, "--version"]).removeprefix("notmuch ").strip()
    xapian = ask(["dpkg-query", "-W", "-f", "${Version}\\n", "libxapian30"])
    return notmuch, xapian


def setup(root: Path, mail: Path, *, user: str) -> Notmuch:
    """A configuration in `root` whose database lives in `root`, outside the Maildir (inside
    it, Postwise's import would meet `.notmuch` as a folder)."""
    database = root / "database"
    database.mkdir(parents=True, exist_ok=True)
    config = root / "notmuch-config"
    config.write_text(CONFIG.format(database=database, mail=mail, user=user))
    # Only the private configuration: a user's ~/.notmuch-config or profile must not apply.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTMUCH_")}
    env["NOTMUCH_CONFIG"] = str(config)
    return Notmuch(config=config, log=root / "notmuch.log", env=env)


def _run(notmuch: Notmuch, argv: list[str], *, timeout: float) -> str:
    with notmuch.log.open("ab") as log:
        result = subprocess.run(
            argv, env=notmuch.env, stdout=subprocess.PIPE, stderr=log, timeout=timeout
        )
    if result.returncode != 0:
        tail = notmuch.log.read_text(errors="replace")[-2000:]
        raise PeerError(f"`{' '.join(argv)}` exited with {result.returncode}:\n{tail}")
    return result.stdout.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Indexed:
    seconds: float
    cpu_s: float
    messages: int


def index(notmuch: Notmuch, *, expected: int) -> Indexed:
    """`notmuch new` over the whole Maildir, timed; then every message must be in it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    _run(notmuch, [NOTMUCH, "new", "--quiet"], timeout=3 * 3600)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    messages = count(notmuch, "*")
    if messages != expected:
        raise PeerError(f"notmuch indexed {messages} messages, {expected} were written")
    return Indexed(seconds=seconds, cpu_s=cpu, messages=messages)


def count(notmuch: Notmuch, query: str, *, threads: bool = False) -> int:
    output = "--output=threads" if threads else "--output=messages"
    return int(_run(notmuch, [NOTMUCH, "count", output, "--", query], timeout=600).strip())


def search(notmuch: Notmuch, argv: list[str]) -> tuple[float, int]:
    """One `notmuch search`, timed from the fork to its exit with its output read (what a
    caller waits for); returns (seconds, result lines)."""
    started = time.perf_counter()
    result = subprocess.run(argv, env=notmuch.env, capture_output=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        error = result.stderr.decode(errors="replace").strip()
        raise PeerError(f"`{' '.join(argv)}` exited with {result.returncode}: {error}")
    return seconds, result.stdout.count(b"\n")
