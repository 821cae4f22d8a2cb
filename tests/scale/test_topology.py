"""Scale-out on the real processes: two `postwise serve` behind nginx, two `postwise worker`,
PostgreSQL, Redis and Dovecot (tests/fixtures/topology.py), started once for the module.

The cases run in order on the one topology and each leaves it as it found it (every process
up, each mailbox synced by a different worker): events cross processes; SIGKILL hands a
mailbox to the other worker once the lease runs out, without losing or repeating mail; a
rolling restart of the API behind nginx fails no request; SIGTERM drains an API process
(stops accepting, finishes what it has, closes sockets with 1012) and a worker (hands its
leases back at once). Only on PostgreSQL + Redis: several processes need a shared Store.

Durations (how long a handoff took) are printed, not asserted: each wait's bound only keeps a
broken handoff from hanging the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import httpx
import pytest
from imapclient import IMAPClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from postwise.accounts.models import MailAccount
from postwise.mail.models import Folder, Message
from tests.conftest import BACKEND
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.topology import Api, Topology, Worker, add_user, port_open, topology

__all__ = ["topology"]  # the module-scoped fixture, imported for pytest

pytestmark = [
    pytest.mark.backend,
    pytest.mark.skipif(
        BACKEND != "postgres", reason="several processes need PostgreSQL + Redis (postgres pass)"
    ),
    # One topology for the module: its tests stay in one pytest-xdist worker.
    pytest.mark.xdist_group("topology"),
    pytest.mark.timeout(600),
]

EMAIL = "scale@example.test"
PASSWORD = "scale-test-password-1"


async def wait_for(
    check: Callable[[], Awaitable[bool]],
    what: str,
    timeout: float = 30.0,  # noqa: ASYNC109 (a number reads better than a context manager here)
) -> float:
    """Poll until `check` holds; the seconds it took. The bound only stops a hang."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def message(n: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Sender {n} <sender{n}@example.test>"
    mail["To"] = f"Reader <{EMAIL}>"
    mail["Subject"] = f"Scale-out {n}"
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(idstring=f"scale{n}", domain="example.test")
    mail.set_content(f"Message {n} of the topology test.\n")
    return bytes(mail)


@dataclass
class Mailbox:
    account_id: uuid.UUID
    username: str


@dataclass
class World:
    topology: Topology
    dovecot: Dovecot
    engine: AsyncEngine
    token: str
    mailboxes: list[Mailbox]
    sent: int = 0
    appended: dict[uuid.UUID, int] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def append(self, box: Mailbox, count: int = 1) -> None:
        raws = [message(self.sent + n) for n in range(count)]
        self.sent += count
        self.appended[box.account_id] = self.appended.get(box.account_id, 0) + count

        def run() -> None:
            imap = self.dovecot.client(box.username)
            try:
                for raw in raws:
                    imap.append("INBOX", raw)
            finally:
                imap.logout()

        await asyncio.to_thread(run)

    async def lease_owner(self, box: Mailbox) -> str | None:
        async with self.engine.connect() as db:
            owner = await db.scalar(
                select(MailAccount.lease_owner).where(MailAccount.id == box.account_id)
            )
        return owner

    async def synced(self, box: Mailbox) -> list[tuple[int, str | None]]:
        """(uid, Message-ID) of the mailbox's inbox as stored, in uid order."""
        async with self.engine.connect() as db:
            rows = await db.execute(
                select(Message.uid, Message.message_id)
                .join(Folder, Folder.id == Message.folder_id)
                .where(Message.account_id == box.account_id, Folder.name == "INBOX")
                .order_by(Message.uid)
            )
            return [(int(uid), message_id) for uid, message_id in rows.all()]

    async def on_server(self, box: Mailbox) -> list[tuple[int, str | None]]:
        def fetch() -> list[tuple[int, str | None]]:
            imap: IMAPClient = self.dovecot.client(box.username)
            try:
                imap.select_folder("INBOX", readonly=True)
                uids = imap.search("ALL")  # UIDs (IMAPClient's default)
                found = imap.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
            finally:
                imap.logout()
            listed = []
            for uid, data in found.items():
                header = data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().strip()
                listed.append((int(uid), header.split(":", 1)[1].strip().strip("<>") or None))
            return sorted(listed)

        return await asyncio.to_thread(fetch)

    async def in_step(self, box: Mailbox) -> list[tuple[int, str | None]]:
        """Wait until the stored inbox is exactly the server's; returns it."""
        server = await self.on_server(box)

        async def same() -> bool:
            return await self.synced(box) == server

        await wait_for(same, f"the inbox of {box.username} synced", timeout=60)
        return server

    async def balanced(self) -> dict[uuid.UUID, str]:
        """Wait until every mailbox is held, each by a different running worker."""
        names = {worker.owner() for worker in self.topology.workers if worker.running}
        owners: dict[uuid.UUID, str | None] = {}

        async def spread() -> bool:
            for box in self.mailboxes:
                owners[box.account_id] = await self.lease_owner(box)
            held = list(owners.values())
            return set(held) <= names and None not in held and len(set(held)) == len(held)

        await wait_for(spread, f"each mailbox on its own worker ({owners})", timeout=60)
        return {key: str(value) for key, value in owners.items()}

    def holder(self, owner: str) -> tuple[Worker, Worker]:
        """The worker holding leases as `owner`, and the other one."""
        first, second = self.topology.workers
        return (first, second) if first.owner() == owner else (second, first)


@pytest.fixture(scope="module")
async def world(topology: Topology) -> AsyncIterator[World]:
    assert topology.dovecot is not None
    await add_user(topology.database_url, EMAIL, PASSWORD)
    engine = create_async_engine(topology.database_url)
    async with httpx.AsyncClient(base_url=topology.url, timeout=30) as http:
        login = await http.post(
            "/api/auth/login",
            json={"email": EMAIL, "password": PASSWORD},
            headers={"X-Postwise-Client": "api"},
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        mailboxes = []
        for _ in range(2):
            username, password = topology.dovecot.add_user()
            created = await http.post(
                "/api/accounts",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "email": username,
                    "password": password,
                    "imap_host": topology.dovecot.host,
                    "imap_port": topology.dovecot.imap_port,
                    "imap_security": "none",
                    "smtp_host": topology.smtp.host,
                    "smtp_port": topology.smtp.port,
                    "smtp_security": "none",
                },
            )
            assert created.status_code == 201, created.text
            mailboxes.append(Mailbox(uuid.UUID(created.json()["id"]), username))
    world = World(topology, topology.dovecot, engine, token, mailboxes)
    try:
        await world.balanced()
        yield world
    finally:
        await engine.dispose()


@dataclass
class LiveSocket:
    connection: ClientConnection
    frames: list[dict[str, object]] = field(default_factory=list)
    ended: bool = False
    task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.connection:
                self.frames.append(json.loads(raw))
        self.ended = True

    @property
    def close_code(self) -> int | None:
        """The code of the server's close frame."""
        return self.connection.close_code

    def created(self, account_id: uuid.UUID) -> bool:
        return any(
            frame.get("type") == "message.created"
            and isinstance(data := frame.get("data"), dict)
            and data.get("account_id") == str(account_id)
            for frame in self.frames
        )


@contextlib.asynccontextmanager
async def live_socket(base_url: str, token: str) -> AsyncIterator[LiveSocket]:
    """A socket to `base_url` (one API process, or nginx), authenticated and ready."""
    async with connect(base_url.replace("http://", "ws://") + "/api/ws") as connection:
        await connection.send(json.dumps({"type": "auth", "token": token}))
        while json.loads(await connection.recv()).get("type") != "ready":
            pass
        socket = LiveSocket(connection)
        socket.task = asyncio.create_task(socket._read())
        try:
            yield socket
        finally:
            socket.task.cancel()
            await asyncio.wait({socket.task})


# --- 1. events cross processes ------------------------------------------------------------------


async def test_an_event_raised_by_either_worker_reaches_sockets_on_both_api_processes(
    world: World,
) -> None:
    owners = await world.balanced()
    assert len(set(owners.values())) == 2, "the two mailboxes are not on two workers"
    first, second = world.topology.apis
    async with (
        live_socket(first.url, world.token) as one,
        live_socket(second.url, world.token) as two,
        live_socket(world.topology.url, world.token) as proxied,  # nginx's WebSocket upgrade
    ):
        for box in world.mailboxes:
            await world.append(box)
        for socket, name in ((one, first.name), (two, second.name), (proxied, "nginx")):
            for box in world.mailboxes:

                async def heard(socket: LiveSocket = socket, box: Mailbox = box) -> bool:
                    return socket.created(box.account_id)

                await wait_for(heard, f"{name} heard mail synced by {owners[box.account_id]}")


# --- 2. SIGKILL: the other worker takes over once the lease runs out ----------------------------


async def test_a_killed_workers_mailbox_moves_to_the_other_without_lost_or_repeated_mail(
    world: World,
) -> None:
    box = world.mailboxes[0]
    await world.in_step(box)
    owner = await world.lease_owner(box)
    assert owner is not None
    victim, survivor = world.holder(owner)
    await world.append(box, 3)  # maybe mid-sync when the kill lands
    victim.signal(signal.SIGKILL)
    assert await asyncio.to_thread(victim.wait) == -signal.SIGKILL
    killed_at = time.monotonic()
    assert await world.lease_owner(box) == owner, "a SIGKILLed process handed a lease back?"
    await world.append(box, 3)  # while nobody syncs the mailbox
    heir = survivor.owner()

    async def taken() -> bool:
        return await world.lease_owner(box) == heir

    # Expiry (at most one lease after the kill) plus the heir's next tick (a third of one).
    lease = world.topology.lease_seconds
    await wait_for(taken, "the survivor took the lease", timeout=2 * lease + 10)
    handoff = time.monotonic() - killed_at
    await world.append(box, 3)
    stored = await world.in_step(box)
    # The stored inbox is the server's, uid for uid and Message-ID for Message-ID; and the
    # server has every message appended, each once.
    ids = {message_id for _, message_id in stored}
    assert len(stored) == len(ids) == world.appended[box.account_id]
    print(f"\nSIGKILL handoff: {handoff:.1f} s after the kill (lease {lease} s)")
    victim.start()
    await asyncio.to_thread(victim.wait_started)
    await world.balanced()


# --- 3. a rolling restart of the API behind nginx -----------------------------------------------


@dataclass
class Hammer:
    """Clients looping over idempotent GETs through nginx; every answer and failure kept."""

    http: httpx.AsyncClient
    done: list[tuple[float, int]] = field(default_factory=list)  # (finished at, status)
    failures: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def client(self) -> None:
        paths = ("/api/threads?limit=20", "/api/folders", "/api/users/me", "/api/accounts")
        n = 0
        while not self.stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            try:
                response = await self.http.get(path)
            except httpx.HTTPError as error:
                self.failures.append(f"{path}: {type(error).__name__} {error}")
                continue
            self.done.append((time.monotonic(), response.status_code))
            if response.status_code != 200:
                self.failures.append(f"{path}: {response.status_code} {response.text[:200]}")

    def served_between(self, start: float, end: float) -> int:
        return sum(1 for at, status in self.done if start <= at <= end and status == 200)


async def restart(api: Api) -> tuple[float, float]:
    """SIGTERM, wait for the exit, start again, wait until ready: (stopped at, ready at)."""
    api.signal(signal.SIGTERM)
    await asyncio.to_thread(api.wait)
    assert api.drained(), api.tail()
    stopped = time.monotonic()
    api.start()
    await asyncio.to_thread(api.wait_ready)
    return stopped, time.monotonic()


async def test_a_rolling_restart_of_the_api_processes_fails_no_request(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.topology.url, headers=world.auth) as http:
        hammer = Hammer(http)
        clients = [asyncio.create_task(hammer.client()) for _ in range(4)]
        try:
            await wait_for(lambda: _at_least(hammer, 20), "the clients got going")
            windows = []
            for api in world.topology.apis:
                stopped, ready = await restart(api)
                windows.append((api.name, stopped, ready))
                # Let nginx try the restarted process again before the other one goes.
                await asyncio.sleep(1.5)
        finally:
            hammer.stop.set()
            await asyncio.wait(clients)
    assert hammer.failures == []
    for name, start, end in windows:
        # The other process answered while this one was away: the case was exercised.
        assert hammer.served_between(start, end) > 0, f"no request was served while {name} was down"
    print(f"\nrolling restart: {len(hammer.done)} requests, none failed")


async def _at_least(hammer: Hammer, count: int) -> bool:
    return len(hammer.done) >= count


# --- 4. SIGTERM drains --------------------------------------------------------------------------


async def test_sigterm_drains_an_api_process(world: World) -> None:
    api = world.topology.apis[0]
    body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
    head = (
        f"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{api.port}\r\n"
        f"Content-Type: application/json\r\nX-Postwise-Client: api\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    async with live_socket(api.url, world.token) as socket:
        # A request in flight: its headers and half its body are in when SIGTERM arrives.
        reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
        writer.write(head + body[:10])
        await writer.drain()
        await asyncio.sleep(0.3)  # for the server to have read the headers
        api.signal(signal.SIGTERM)

        async def refusing() -> bool:
            return not await asyncio.to_thread(port_open, api.port)

        await wait_for(refusing, f"{api.name} stopped accepting connections")
        assert api.running, "the process did not wait for the request in flight"

        async def closed() -> bool:
            return socket.ended

        await wait_for(closed, "the live socket was closed")
        # 1012 "service restart": the web app reconnects (docs/websocket.md).
        assert socket.close_code == 1012
        writer.write(body[10:])
        await writer.drain()
        response = await reader.read()  # to EOF: the server closes after answering
        writer.close()
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 200"), response[:500]
    assert b"access_token" in rest
    await asyncio.to_thread(api.wait)
    assert api.drained(), api.tail()
    api.start()
    await asyncio.to_thread(api.wait_ready)


async def test_sigterm_makes_a_worker_hand_its_leases_back_at_once(world: World) -> None:
    await world.balanced()
    box = world.mailboxes[1]
    owner = await world.lease_owner(box)
    assert owner is not None
    leaving, staying = world.holder(owner)
    heir = staying.owner()
    leaving.signal(signal.SIGTERM)
    assert await asyncio.to_thread(leaving.wait) == 0, leaving.tail()
    stopped_at = time.monotonic()
    # Handed back before the process ended, not left to expire (the heir may hold it already).
    assert await world.lease_owner(box) in (None, heir)
    assert leaving.log_events("sync_engine_stopped"), leaving.tail()

    async def taken() -> bool:
        return await world.lease_owner(box) == heir

    await wait_for(taken, "the other worker took the released lease")
    handoff = time.monotonic() - stopped_at
    await world.append(box, 2)
    stored = await world.in_step(box)
    assert len(stored) == len({message_id for _, message_id in stored})
    assert len(stored) == world.appended[box.account_id]
    lease = world.topology.lease_seconds
    print(f"\nSIGTERM handoff: {handoff:.1f} s after the exit (lease {lease} s)")
    leaving.start()
    await asyncio.to_thread(leaving.wait_started)
    await world.balanced()
