"""Postwise's side: a migrated database in a temporary data folder, one user, the Maildir
imported with `postwise import` (the path synced mail takes: parse, store, thread, index),
then a real `postwise serve` answering `GET /api/search` over a keep-alive connection."""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.auth.rawhttp import RawConnection, RawHttpError
from bench.auth.server import (
    HOST,
    Argon2Parameters,
    BenchError,
    migrate,
    seed_users,
    server_environment,
)

EMAIL = "searcher@bench.example"
PASSWORD = "bench-searching-password-1"
PAGE = 50
_IMPORTED = re.compile(r"Imported ([\d,]+) messages .*?([\d,]+) with errors")


def _postwise() -> str:
    beside = Path(sys.executable).with_name("postwise")
    found = str(beside) if beside.exists() else shutil.which("postwise")
    if found is None:
        raise BenchError("`postwise` is not installed: run `uv sync` and use .venv/bin/python")
    return found


def prepare(data_dir: Path, port: int) -> dict[str, str]:
    """Migrate a fresh database and add the bench user; returns the server's environment."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = server_environment(data_dir, port)
    migrate(env, data_dir / "server.log")
    seed_users(data_dir, [EMAIL], Argon2Parameters.server_defaults().hasher().hash(PASSWORD))
    return env


@dataclass(frozen=True, slots=True)
class Imported:
    seconds: float
    cpu_s: float  # the command and its parse processes
    messages: int


def import_maildir(env: dict[str, str], maildir: Path, *, expected: int) -> Imported:
    """`postwise import --user <bench user> <maildir>`, timed; every message must arrive."""
    log = Path(env["POSTWISE_DATA_DIR"]) / "import.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log.open("ab") as errors:
        result = subprocess.run(
            [_postwise(), "import", "--user", EMAIL, str(maildir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            timeout=6 * 3600,
        )
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = result.stdout.decode(errors="replace")
    match = _IMPORTED.search(summary)
    if result.returncode != 0 or match is None:
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchError(f"`postwise import` exited with {result.returncode}:\n{summary}{tail}")
    messages, failed = (int(group.replace(",", "")) for group in match.groups())
    if messages != expected or failed:
        raise BenchError(f"`postwise import` stored {messages} of {expected}: {summary}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Imported(seconds=seconds, cpu_s=cpu, messages=messages)


def login(base_url: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login",
        json={"email": EMAIL, "password": PASSWORD},
        headers={"X-Postwise-Client": "api"},  # tokens in the JSON body, no cookies
        timeout=30,
    )
    if response.status_code != 200:
        raise BenchError(f"login answered {response.status_code}: {response.text[:500]}")
    return str(response.json()["access_token"])


@dataclass(frozen=True, slots=True)
class Page:
    items: int
    more: bool  # a next_cursor came back


class SearchClient:
    """One keep-alive connection, as a browser tab holds; requests are encoded before the
    clock starts, so the time is the server's answer plus loopback, not the client's work."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self._connection: RawConnection | None = None

    def request(self, query: str) -> bytes:
        path = f"/api/search?q={quote(query, safe='')}&limit={PAGE}"
        return (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {self.token}\r\n\r\n"
        ).encode()

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = await RawConnection.open(self.base_url)
        try:
            return await self._connection.request(raw)
        except (RawHttpError, OSError):
            # The server closed an idle connection (uvicorn's keep-alive timeout): reconnect
            # once. Only the warm-up can meet this; timed requests follow each other closely.
            await self.close()
            self._connection = await RawConnection.open(self.base_url)
            return await self._connection.request(raw)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


def read_page(status: int, body: bytes, query: str) -> Page:
    """The first page of an answer, or a BenchError that says what came instead."""
    if status == 404:
        raise BenchError(
            "GET /api/search answers 404: this tree has no search route yet "
            "(src/postwise/search/router.py)"
        )
    if status != 200:
        raise BenchError(
            f"search {query!r} answered {status}: {body[:500].decode(errors='replace')}"
        )
    data = json.loads(body)
    return Page(items=len(data["items"]), more=data.get("next_cursor") is not None)
