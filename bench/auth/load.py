"""What the bench measures: argon2id on this machine, a login flood, and /api/users/me latency."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bench.auth.rawhttp import RawConnection, RawHttpError, post_json
from bench.auth.server import Argon2Parameters, BenchError
from postwise.auth.passwords import PasswordHasher
from postwise.config import Settings

LOGIN_PATH = "/api/auth/login"
ME_PATH = "/api/users/me"
API_CLIENT = {"X-Postwise-Client": "api"}
REQUEST_TIMEOUT_S = 10.0
SESSION_WAIT_TRIES = 100
SESSION_WAIT_STEP_S = 0.02


# --- argon2id ---------------------------------------------------------------------------------


def time_hash(params: Argon2Parameters, *, runs: int, password: str) -> float:
    """Mean seconds of one argon2id hash in this process (a login verifies once: same cost)."""
    hasher = params.hasher()
    hasher.hash(password)  # first call pays for allocating the memory block
    started = time.perf_counter()
    for _ in range(runs):
        hasher.hash(password)
    return (time.perf_counter() - started) / runs


BARE_WARMUP_S = 0.5


async def bare_hash_rate(
    params: Argon2Parameters, *, duration_s: float, password: str, warmup_s: float = BARE_WARMUP_S
) -> tuple[float, int]:
    """Logins' worth of argon2id per second with nothing else to do: the app's own hasher
    (`postwise.auth.passwords.PasswordHasher`: its thread pool of os.cpu_count() re-niced
    threads, the same parameters) kept busy by as many verifies in flight as it has threads,
    counted over `duration_s` after a warm-up, as the logins are. Returns (rate, threads).

    This is the ceiling the logins are held to: on a shared 2-vCPU guest two hashing threads
    together reach less than twice one hash, so cores ÷ one hash is not reachable even by
    hashing alone."""
    settings = Settings.model_construct(
        argon2_time_cost=params.time_cost,
        argon2_memory_kib=params.memory_kib,
        argon2_parallelism=params.parallelism,
    )
    hasher = PasswordHasher(settings)
    threads = os.cpu_count() or 2  # what PasswordHasher sizes its pool with
    stored = params.hasher().hash(password)
    loop = asyncio.get_running_loop()
    counting = False
    done = 0

    async def work(stop_at: float) -> None:
        nonlocal done
        while loop.time() < stop_at:
            verification = await hasher.verify(stored, password)
            if not verification.ok:
                raise BenchError("argon2id refused its own hash")
            if counting and loop.time() <= stop_at:
                done += 1

    try:
        start = loop.time() + warmup_s
        stop_at = start + duration_s
        workers = [asyncio.create_task(work(stop_at)) for _ in range(threads)]
        await asyncio.sleep(max(0.0, start - loop.time()))
        counting = True
        await asyncio.gather(*workers)
    finally:
        hasher.close()
    return done / duration_s, threads


# --- latency ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        if len(seconds) < 2:
            raise BenchError("too few samples for percentiles")
        cuts = statistics.quantiles(seconds, n=100, method="inclusive")
        return cls(
            count=len(seconds),
            p50_ms=cuts[49] * 1000,
            p95_ms=cuts[94] * 1000,
            max_ms=max(seconds) * 1000,
        )


def api_client(base_url: str, *, connections: int) -> httpx.AsyncClient:
    """HTTP/1.1 keep-alive with exactly `connections` sockets."""
    return httpx.AsyncClient(
        base_url=base_url,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=REQUEST_TIMEOUT_S,
        headers=API_CLIENT,
    )


async def access_token(client: httpx.AsyncClient, *, email: str, password: str) -> str:
    response = await client.post(LOGIN_PATH, json={"email": email, "password": password})
    if response.status_code != 200:
        raise BenchError(f"login of {email} answered {response.status_code}: {response.text}")
    return str(response.json()["access_token"])


async def wait_for_session(client: httpx.AsyncClient, token: str) -> int:
    """Call /me until the new session is visible; return how many 401s came first.

    The login's transaction is committed by a request-scoped dependency, which FastAPI exits
    after the response is sent: a client fast enough can use its token before the session
    row exists. Counted and reported rather than hidden.
    """
    headers = {"Authorization": f"Bearer {token}"}
    for early in range(SESSION_WAIT_TRIES):
        response = await client.get(ME_PATH, headers=headers)
        if response.status_code == 200:
            return early
        if response.status_code != 401:
            _expect_ok(response)
        await asyncio.sleep(SESSION_WAIT_STEP_S)
    raise BenchError(f"the session of a fresh login never became valid: {response.text[:300]}")


async def me_sequential(client: httpx.AsyncClient, token: str, *, count: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    samples: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get(ME_PATH, headers=headers)
        samples.append(time.perf_counter() - started)
        _expect_ok(response)
    return samples


async def me_paced(
    client: httpx.AsyncClient, token: str, *, rate: float, duration: float
) -> list[float]:
    """One request every 1/rate s for `duration` s, each timed on its own (a late one is sent
    at once, not skipped, so a stall shows up in the samples)."""
    headers = {"Authorization": f"Bearer {token}"}
    loop = asyncio.get_running_loop()
    start = loop.time()
    samples: list[float] = []
    for index in range(int(rate * duration)):
        delay = start + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        started = time.perf_counter()
        response = await client.get(ME_PATH, headers=headers)
        samples.append(time.perf_counter() - started)
        _expect_ok(response)
    return samples


def _expect_ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise BenchError(
            f"{response.request.url.path} answered {response.status_code}: {response.text[:300]}"
        )


# --- login flood ------------------------------------------------------------------------------


def forwarded_for(index: int) -> str:
    """A distinct client address per request (10.0.0.0/8), so no per-IP limit is reached."""
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


@dataclass
class Window:
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.statuses[200]

    def failures(self) -> dict[str, int]:
        found = {str(status): n for status, n in self.statuses.items() if status != 200}
        found.update(self.errors)
        return found


class LoginFlood:
    """`concurrency` workers logging in back to back, round robin over the accounts, each on
    its own keep-alive connection.

    Each completed request counts in the window open when it completed. The request count is
    capped below what the per-account limit allows in a minute, so no attempt is throttled.
    """

    def __init__(
        self,
        base_url: str,
        *,
        emails: Sequence[str],
        password: str,
        concurrency: int,
        max_requests: int,
    ) -> None:
        self._base_url = base_url
        self._host = urlsplit(base_url).netloc
        # Encoded once: the load generator shares the cores with the server, so it does as
        # little as it can per request (no JSON encoding, no response parsing).
        self._bodies = [
            json.dumps({"email": email, "password": password}).encode() for email in emails
        ]
        self._concurrency = concurrency
        self._max_requests = max_requests
        self._sent = 0
        self._stopping = False
        # Cleared to pause the flood (bare hashing takes its turn); in-flight requests finish.
        self._running = asyncio.Event()
        self._running.set()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.windows: dict[str, Window] = {}
        self._window = self.open_window("warmup")

    @property
    def sent(self) -> int:
        return self._sent

    @property
    def exhausted(self) -> bool:
        return self._sent >= self._max_requests

    def open_window(self, name: str) -> Window:
        """Count from now on in window `name`; opened again, it goes on adding up."""
        self._window = self.windows.setdefault(name, Window())
        return self._window

    async def start(self) -> None:
        connections = [await RawConnection.open(self._base_url) for _ in range(self._concurrency)]
        self._tasks = [asyncio.create_task(self._worker(each)) for each in connections]

    async def pause(self) -> None:
        """Stop sending and wait for the requests in flight to be answered."""
        self._running.clear()
        while self._in_flight:
            self._idle.clear()
            await self._idle.wait()

    def resume(self) -> None:
        self._running.set()

    async def stop(self) -> None:
        self._stopping = True
        self._running.set()
        # In-flight requests finish, so the server is quiet after.
        await asyncio.gather(*self._tasks)

    async def _worker(self, connection: RawConnection) -> None:
        try:
            while not self._stopping and self._sent < self._max_requests:
                if not self._running.is_set():
                    await self._running.wait()
                    continue
                index = self._sent
                self._sent += 1
                request = post_json(
                    self._host,
                    LOGIN_PATH,
                    self._bodies[index % len(self._bodies)],
                    {**API_CLIENT, "X-Forwarded-For": forwarded_for(index)},
                )
                started = time.perf_counter()
                self._in_flight += 1
                try:
                    status, _ = await asyncio.wait_for(
                        connection.request(request), REQUEST_TIMEOUT_S
                    )
                except (RawHttpError, OSError, TimeoutError) as error:
                    # The connection is unusable after an error: count it and open another.
                    self._window.errors[type(error).__name__] += 1
                    await connection.close()
                    connection = await RawConnection.open(self._base_url)
                    continue
                finally:
                    self._in_flight -= 1
                    if not self._in_flight:
                        self._idle.set()
                window = self._window
                window.latencies.append(time.perf_counter() - started)
                window.statuses[status] += 1
        finally:
            await connection.close()
