"""Push latency: a message APPENDed to the IMAP server by another client, until the browser's
WebSocket hears `message.created`, through a real `postwise serve` (embedded default: the sync
engine runs in the API process, IDLE on the inbox, the in-process Store for fan-out).

One message at a time: APPEND, then wait for its event before the next, so each figure is one
message's whole path (IDLE notification, FETCH, parse, store, commit, publish, socket) and not
a queue behind the previous one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import httpx
from imapclient import IMAPClient
from tests.fixtures.smtp import SmtpServer
from websockets.asyncio.client import ClientConnection, connect

from bench.auth.server import (
    Argon2Parameters,
    free_port,
    migrate,
    running_server,
    seed_users,
    server_environment,
)
from bench.sync.server import start

BEGIN = "<!-- bench.push:begin (written by `python -m bench.push --docs`) -->"
END = "<!-- bench.push:end -->"
EMAIL = "push@bench.example"
PASSWORD = "bench-push-password-1"
TARGET_P95_S = 0.5


@dataclass(frozen=True)
class Figures:
    latencies: list[float]
    server_share: list[float]
    own_share: list[float]
    missed: int
    initial_sync_s: float


def _say(text: str) -> None:
    print(f"[push] {text}", file=sys.stderr, flush=True)


def _message(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Sender {n} <sender{n}@example.org>"
    message["To"] = f"Reader <{EMAIL}>"
    message["Subject"] = f"Push test {n}"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=f"push{n}", domain="bench.example")
    message.set_content(f"Message {n} of the push benchmark.\n" * 20)
    return bytes(message)


async def _next_created(socket: ClientConnection, wait_s: float) -> bool:
    deadline = time.perf_counter() + wait_s
    while (left := deadline - time.perf_counter()) > 0:
        try:
            frame = json.loads(await asyncio.wait_for(socket.recv(), left))
        except TimeoutError:
            return False
        if frame.get("type") == "message.created":
            return True
    return False


class IdleWatcher:
    """A plain IMAP client IDLEing on the same inbox: when the server itself announces new
    mail. Dovecot waits before it tells IDLE sessions about a change another session made
    (it coalesces notifications), and that wait is part of every push; measuring it in the
    same run separates the server's share from Postwise's."""

    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        self.client = IMAPClient(host, port=port, ssl=False)
        self.client.login(username, password)
        self.client.select_folder("INBOX")
        self.seen: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.client.idle()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            responses = self.client.idle_check(timeout=0.2)
            if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                self.seen.append(time.perf_counter())
                # Re-issued after every change, as Postwise's own IDLE connection does, so
                # both sessions start the server's notification delay from the same state.
                self.client.idle_done()
                self.client.idle()

    def first_after(self, moment: float) -> float | None:
        return next((t for t in self.seen if t >= moment), None)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.client.idle_done()
        self.client.logout()


async def _measure(
    base_url: str, token: str, imap: IMAPClient, watcher: IdleWatcher, count: int
) -> tuple[list[float], list[float], list[float], int]:
    ws_url = base_url.replace("http://", "ws://") + "/api/ws"
    latencies: list[float] = []
    server_share: list[float] = []
    own_share: list[float] = []
    missed = 0
    async with connect(ws_url, max_size=2**22) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        while json.loads(await socket.recv()).get("type") != "ready":
            pass
        for n in range(count):
            raw = _message(n)
            began = time.perf_counter()
            await asyncio.to_thread(imap.append, "INBOX", raw)
            if await _next_created(socket, wait_s=10):
                latencies.append(time.perf_counter() - began)
                announced = watcher.first_after(began)
                if announced is not None:
                    server_share.append(announced - began)
                    own_share.append(latencies[-1] - (announced - began))
            else:
                missed += 1
    return latencies, server_share, own_share, missed


def run(count: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="postwise-bench-push-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # Dovecot's mail processes run as another user
        dovecot = start(root / "dovecot")
        smtp = SmtpServer().start()
        try:
            # A user Dovecot knows, with its Maildir created (as the test suite makes them).
            username, password = dovecot.add_user()
            data_dir = root / "postwise"
            data_dir.mkdir()
            port = free_port()
            env = server_environment(data_dir, port)
            migrate(env, data_dir / "server.log")
            seed_users(
                data_dir, [EMAIL], Argon2Parameters.server_defaults().hasher().hash(PASSWORD)
            )
            with (
                running_server(data_dir, env, port) as server,
                httpx.Client(base_url=server.base_url, timeout=30) as http,
            ):
                login = http.post(
                    "/api/auth/login",
                    json={"email": EMAIL, "password": PASSWORD},
                    headers={"X-Postwise-Client": "api"},
                )
                login.raise_for_status()
                token = login.json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
                began = time.perf_counter()
                created = http.post(
                    "/api/accounts",
                    headers=auth,
                    json={
                        "email": username,
                        "password": password,
                        "imap_host": dovecot.host,
                        "imap_port": dovecot.imap_port,
                        "imap_security": "none",
                        "smtp_host": smtp.host,
                        "smtp_port": smtp.port,
                        "smtp_security": "none",
                    },
                )
                _say(f"account: {created.status_code}")
                created.raise_for_status()
                account = created.json()["id"]
                deadline = time.perf_counter() + 60
                while True:
                    state = http.get(f"/api/accounts/{account}", headers=auth).json()
                    if state["sync_state"] == "idle":
                        break
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"the account never became idle: {state}")
                    time.sleep(0.05)
                initial = time.perf_counter() - began
                _say(f"initial sync done in {initial:.1f} s; appending")
                # IDLE is (re)issued once the engine is idle: give it a moment to be listening.
                time.sleep(1.0)
                imap = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False)
                imap.login(username, password)
                watcher = IdleWatcher(dovecot.host, dovecot.imap_port, username, password)
                watcher.start()
                try:
                    latencies, server_share, own_share, missed = asyncio.run(
                        _measure(server.base_url, token, imap, watcher, count)
                    )
                finally:
                    watcher.stop()
                    imap.logout()
        finally:
            smtp.stop()
            dovecot.stop()
    return Figures(latencies, server_share, own_share, missed, initial)


def _ms(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(f: Figures, count: int) -> str:
    p95 = _ms(f.latencies, 0.95) if f.latencies else float("inf")
    verdict = "PASS" if p95 < TARGET_P95_S * 1000 and f.missed == 0 else "MISS"
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}"
    lines = [
        f"Push benchmark, {stamp}",
        "",
        "| figure | value | target | result |",
        "|---|---|---|---|",
        f"| messages APPENDed one at a time by another IMAP client | {count} |  |  |",
        f"| APPEND → `message.created` on the WebSocket, p50 | {_ms(f.latencies, 0.5):.0f} ms "
        "|  |  |",
        f"| … p95 | {p95:.0f} ms | < 500 ms | {verdict} |",
        f"| … max / mean | {_ms(f.latencies, 1.0):.0f} ms / "
        f"{statistics.fmean(f.latencies) * 1000:.0f} ms |  |  |",
        f"| … of which the IMAP server: APPEND → IDLE `EXISTS` at a plain client, p50 / p95 "
        f"| {_ms(f.server_share, 0.5):.0f} / {_ms(f.server_share, 0.95):.0f} ms |  |  |",
        f"| … Postwise's own share per message (the rest: IDLE → fetch, parse, store, publish, "
        f"socket), p50 / p95 | {_ms(f.own_share, 0.5):.0f} / {_ms(f.own_share, 0.95):.0f} ms "
        "|  |  |",
        f"| events not received within 10 s | {f.missed} | 0 |  |",
        f"| not timed: connecting the account and its initial sync | {f.initial_sync_s:.1f} s "
        "|  |  |",
    ]
    return "\n".join(lines)


def write_docs(path: Path, text: str) -> None:
    content = path.read_text()
    command = "Command: `.venv/bin/python -m bench.push --docs docs/benchmarks.md`"
    block = f"{BEGIN}\n\n{command}\n\n{text}\n\n{END}"
    if BEGIN in content and END in content:
        head = content[: content.index(BEGIN)]
        tail = content[content.index(END) + len(END) :]
        path.write_text(head + block + tail)
    else:
        path.write_text(content.rstrip() + "\n\n## Push (live events)\n\n" + block + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.push", description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--docs", type=Path, help="update the Push section of this file")
    args = parser.parse_args(argv)
    figures = run(args.messages)
    if not figures.latencies:
        print("no event arrived: the push path is broken", file=sys.stderr)
        return 1
    text = report(figures, args.messages)
    print(text)
    if args.docs:
        write_docs(args.docs, text)
    return 0
