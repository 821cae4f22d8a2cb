"""What the bench measures: argon2id on this machine, a login flood, and /api/users/me latency."""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bench.auth.rawhttp import RawConnection, RawHttpError, post_json
from bench.auth.server import Argon2Parameters, BenchError

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


def parallel_hash_rate(params: Argon2Parameters, *, threads: int, per_thread: int) -> float:
    """Hashes per second with one thread per core: argon2-cffi releases the GIL, so this is what
    the cores manage together (memory bandwidth included), with no HTTP around it."""
    hasher = params.hasher()

    def work() -> None:
        for _ in range(per_thread):
            hasher.hash("parallel")

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * per_thread / (time.perf_counter() - started)


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
        self._window = self.windows[name] = Window()
        return self._window

    async def start(self) -> None:
        connections = [await RawConnection.open(self._base_url) for _ in range(self._concurrency)]
        self._tasks = [asyncio.create_task(self._worker(each)) for each in connections]

    async def stop(self) -> None:
        self._stopping = True
        # In-flight requests finish, so the server is quiet after.
        await asyncio.gather(*self._tasks)

    async def _worker(self, connection: RawConnection) -> None:
        try:
            while not self._stopping and self._sent < self._max_requests:
                index = self._sent
                self._sent += 1
                request = post_json(
                    self._host,
                    LOGIN_PATH,
                    self._bodies[index % len(self._bodies)],
                    {**API_CLIENT, "X-Forwarded-For": forwarded_for(index)},
                )
                started = time.perf_counter()
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
                window = self._window
                window.latencies.append(time.perf_counter() - started)
                window.statuses[status] += 1
        finally:
            await connection.close()
