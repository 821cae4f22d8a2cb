"""The client side of the scale bench: keep-alive clients over a mix of read routes, through nginx.

Each client is a user of its own (search is limited to 120 a minute per user, which one user
shared by every client would hit at once) coming from an address of its own (X-Forwarded-For,
which the API trusts from nginx on loopback, so the per-address limits are those of one person,
not of the whole load). Each holds one connection (bench.auth.rawhttp: a few tens of
microseconds of CPU per request, so the load generator, which shares the cores with what it
measures, takes little of them) and picks its next route at random by weight, as people reading
mail would: the inbox list most, then opening a conversation, searching, the folder list and
the profile.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.auth.rawhttp import RawConnection, RawHttpError

# (name, weight); the paths are filled in per run (thread ids, search words).
ROUTES: tuple[tuple[str, int], ...] = (
    ("thread list", 40),
    ("thread", 25),
    ("search", 15),
    ("folders", 12),
    ("me", 8),
)
SEARCH_WORDS = ("budget", "meeting", "invoice", "travel", "design", "contract", "release")


@dataclass(frozen=True)
class Reader:
    """One client's identity: its user's token, a page of its thread ids, its address."""

    token: str
    thread_ids: list[str]
    address: str


@dataclass
class RouteFigures:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0  # neither 200 nor 429
    limited: int = 0  # 429: a rate limit, which the bench is designed to stay under


@dataclass
class Load:
    routes: dict[str, RouteFigures]
    seconds: float

    @property
    def requests(self) -> int:
        return sum(len(route.latencies) for route in self.routes.values())

    @property
    def errors(self) -> int:
        return sum(route.errors for route in self.routes.values())

    @property
    def limited(self) -> int:
        return sum(route.limited for route in self.routes.values())


def _request(path: str, reader: Reader, host: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {reader.token}\r\n"
        f"X-Forwarded-For: {reader.address}\r\n\r\n"
    ).encode()


def _path(route: str, rng: random.Random, thread_ids: Sequence[str]) -> str:
    if route == "thread list":
        return "/api/threads?limit=50"
    if route == "thread":
        return f"/api/threads/{rng.choice(thread_ids)}"
    if route == "search":
        return f"/api/search?q={rng.choice(SEARCH_WORDS)}&limit=50"
    if route == "folders":
        return "/api/folders"
    return "/api/users/me"


async def _client(
    base_url: str,
    reader: Reader,
    rng: random.Random,
    measure_from: float,
    stop_at: float,
    routes: dict[str, RouteFigures],
) -> None:
    host = base_url.split("//", 1)[1]
    names = [name for name, _ in ROUTES]
    weights = [weight for _, weight in ROUTES]
    connection = await RawConnection.open(base_url)
    try:
        while (began := time.perf_counter()) < stop_at:
            route = rng.choices(names, weights)[0]
            try:
                status, _ = await connection.request(
                    _request(_path(route, rng, reader.thread_ids), reader, host)
                )
            except (RawHttpError, OSError):
                status = 0
                await connection.close()
                connection = await RawConnection.open(base_url)
            if began < measure_from:
                continue  # warming up
            figures = routes[route]
            if status == 200:
                figures.latencies.append(time.perf_counter() - began)
            elif status == 429:
                figures.limited += 1
            else:
                figures.errors += 1
    finally:
        await connection.close()


async def run_load(
    base_url: str, readers: Sequence[Reader], *, seconds: float, warmup: float = 3.0
) -> Load:
    """One client per reader for warmup + seconds; only what was sent after the warm-up counts."""
    routes = {name: RouteFigures() for name, _ in ROUTES}
    now = time.perf_counter()
    measure_from, stop_at = now + warmup, now + warmup + seconds
    await asyncio.gather(
        *(
            _client(base_url, reader, random.Random(n), measure_from, stop_at, routes)
            for n, reader in enumerate(readers)
        )
    )
    return Load(routes=routes, seconds=seconds)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]
