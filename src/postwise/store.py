"""Cache, counters, token blacklist, session cache and pub/sub behind one `Store` interface.

`MemoryStore` serves the embedded single-process default; `RedisStore` lets several API and worker
processes share state and fan live events out. One contract test suite runs against both.
"""

from __future__ import annotations

import asyncio
import builtins
import math
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, cast

import redis.asyncio as aioredis

from postwise.store_errors import RedisGuard, as_unavailable, reconnect_once
from postwise.store_errors import StoreUnavailableError as StoreUnavailableError

DEFAULT_PREFIX: Final = "postwise:"


@dataclass(frozen=True, slots=True)
class StoreMessage:
    channel: str
    data: str


class Store(ABC):
    """Values are strings; `ttl` is in seconds (`None` = no expiry) and must be positive.

    Every operation raises StoreUnavailableError when the backend cannot be reached (and
    nothing else for that reason): callers choose per use whether to fall back or answer 503.
    """

    @abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abstractmethod
    async def set(
        self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        """Store `value`; a set without `ttl` clears any earlier expiry (as Redis SET does).

        Returns False only when `only_if_absent` is set and the key already exists.
        """

    @abstractmethod
    async def delete(self, *keys: str) -> int:
        """Return how many of `keys` existed."""

    @abstractmethod
    async def get_and_delete(self, key: str) -> str | None:
        """Atomic: of many concurrent callers exactly one receives the value."""

    @abstractmethod
    async def delete_if_equal(self, key: str, value: str) -> bool:
        """Atomic compare-and-delete, for lock release and single-use values."""

    @abstractmethod
    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Atomic add; `ttl` applies only when this call creates the key, so windows don't slide."""

    @abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Remaining seconds; None when the key is missing or never expires."""

    @abstractmethod
    async def expire(self, key: str, ttl: float) -> bool:
        """Set a new expiry; False when the key does not exist."""

    @abstractmethod
    async def sadd(self, key: str, *members: str, ttl: float | None = None) -> int:
        """Add members, returning how many were new; `ttl` (re)sets the whole set's expiry."""

    @abstractmethod
    async def srem(self, key: str, *members: str) -> int: ...

    @abstractmethod
    async def smembers(self, key: str) -> builtins.set[str]: ...

    @abstractmethod
    async def sismember(self, key: str, member: str) -> bool: ...

    @abstractmethod
    async def publish(self, channel: str, message: str) -> int:
        """Return the number of receivers as the backend counts them (Redis: across processes)."""

    @abstractmethod
    def subscribe(self, *channels: str) -> AbstractAsyncContextManager[AsyncIterator[StoreMessage]]:
        """Listen on `channels`; active once `__aenter__` returns, iteration stops after exit.

        Delivery is at-most-once: a subscriber that falls far behind (MemoryStore's bounded
        queue, Redis's client output buffer limit) or a dropped Redis connection loses messages,
        so consumers should treat events as hints and be able to resynchronise.
        """

    @abstractmethod
    async def ping(self) -> None:
        """Raise when the backend is unreachable."""

    @abstractmethod
    async def close(self) -> None: ...


def _check_ttl(ttl: float | None) -> None:
    # Redis rejects zero/negative expiries; the memory store must refuse them the same way.
    if ttl is not None and not (ttl > 0 and math.isfinite(ttl)):
        raise ValueError(f"ttl must be a positive number of seconds, got {ttl!r}")


def _ttl_ms(ttl: float) -> int:
    _check_ttl(ttl)
    # Rounding up keeps sub-millisecond ttls from becoming 0 (an error in Redis).
    return max(1, math.ceil(ttl * 1000))


def _unique_channels(channels: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(channels))
    if not names:
        raise ValueError("subscribe() needs at least one channel")
    return names


class _MemorySubscription:
    def __init__(self, maxsize: int) -> None:
        # None is the wake-up sentinel pushed on close so a blocked reader returns.
        self._queue: asyncio.Queue[StoreMessage | None] = asyncio.Queue(maxsize)
        self._closed = False

    def deliver(self, item: StoreMessage | None) -> bool:
        """Enqueue without ever blocking the publisher; drop the oldest item when full."""
        dropped = False
        if self._queue.full():
            self._queue.get_nowait()
            dropped = True
        self._queue.put_nowait(item)
        return dropped

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.deliver(None)

    def __aiter__(self) -> _MemorySubscription:
        return self

    async def __anext__(self) -> StoreMessage:
        # Checked before and after waiting: messages still queued at exit are not delivered.
        if self._closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None or self._closed:
            raise StopAsyncIteration
        return item


class MemoryStore(Store):
    """In-process store for one event loop.

    Atomicity comes from never awaiting inside an operation: with a single event loop no other
    coroutine can interleave. Expired keys are removed lazily on access and by a periodic sweep
    on writes so that keys nobody reads again do not accumulate.
    """

    def __init__(
        self,
        *,
        prefix: str = DEFAULT_PREFIX,
        subscriber_queue_size: int = 1000,
        sweep_interval: float = 30.0,
    ) -> None:
        # An instance is already its own namespace; the prefix is kept for interface parity.
        self.prefix = prefix
        self._values: dict[str, str | set[str]] = {}
        self._expires: dict[str, float] = {}
        self._channels: dict[str, set[_MemorySubscription]] = {}
        self._queue_size = max(1, subscriber_queue_size)
        self._sweep_interval = sweep_interval
        self._next_sweep = time.monotonic() + sweep_interval
        self.dropped_messages = 0

    def _sweep_if_due(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self._sweep_interval
        for key in [k for k, deadline in self._expires.items() if deadline <= now]:
            self._drop(key)

    def _drop(self, key: str) -> bool:
        self._expires.pop(key, None)
        return self._values.pop(key, None) is not None

    def _live(self, key: str) -> str | builtins.set[str] | None:
        deadline = self._expires.get(key)
        if deadline is not None and deadline <= time.monotonic():
            self._drop(key)
            return None
        return self._values.get(key)

    def _string(self, key: str) -> str | None:
        value = self._live(key)
        if isinstance(value, set):
            raise TypeError(f"key {key!r} holds a set, not a string")
        return value

    def _members(self, key: str) -> builtins.set[str] | None:
        value = self._live(key)
        if isinstance(value, str):
            raise TypeError(f"key {key!r} holds a string, not a set")
        return value

    def _put(self, key: str, value: str | builtins.set[str], ttl: float | None) -> None:
        now = time.monotonic()
        self._sweep_if_due(now)
        self._values[key] = value
        if ttl is None:
            self._expires.pop(key, None)
        else:
            self._expires[key] = now + ttl

    async def get(self, key: str) -> str | None:
        return self._string(key)

    async def set(
        self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        _check_ttl(ttl)
        if only_if_absent and self._live(key) is not None:
            return False
        self._put(key, value, ttl)
        return True

    async def delete(self, *keys: str) -> int:
        return sum(1 for key in keys if self._live(key) is not None and self._drop(key))

    async def get_and_delete(self, key: str) -> str | None:
        value = self._string(key)
        if value is not None:
            self._drop(key)
        return value

    async def delete_if_equal(self, key: str, value: str) -> bool:
        if self._string(key) != value:
            return False
        return self._drop(key)

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        _check_ttl(ttl)
        current = self._string(key)
        result = amount if current is None else int(current) + amount
        if current is None:
            self._put(key, str(result), ttl)
        else:
            self._values[key] = str(result)  # existing expiry stays put
        return result

    async def ttl(self, key: str) -> float | None:
        if self._live(key) is None:
            return None
        deadline = self._expires.get(key)
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    async def expire(self, key: str, ttl: float) -> bool:
        _check_ttl(ttl)
        if self._live(key) is None:
            return False
        self._expires[key] = time.monotonic() + ttl
        return True

    async def sadd(self, key: str, *members: str, ttl: float | None = None) -> int:
        _check_ttl(ttl)
        if not members:
            return 0
        current = self._members(key)
        if current is None:
            current = set()
            self._put(key, current, None)
        before = len(current)
        current.update(members)
        if ttl is not None:
            self._expires[key] = time.monotonic() + ttl
        return len(current) - before

    async def srem(self, key: str, *members: str) -> int:
        current = self._members(key)
        if current is None:
            return 0
        before = len(current)
        current.difference_update(members)
        if not current:
            self._drop(key)  # Redis deletes empty sets; keep the same observable behaviour
        return before - len(current)

    async def smembers(self, key: str) -> builtins.set[str]:
        return set(self._members(key) or ())

    async def sismember(self, key: str, member: str) -> bool:
        return member in (self._members(key) or ())

    async def publish(self, channel: str, message: str) -> int:
        subscribers = self._channels.get(channel, set())
        item = StoreMessage(channel=channel, data=message)
        for subscriber in subscribers:
            if subscriber.deliver(item):
                self.dropped_messages += 1
        return len(subscribers)

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[StoreMessage]]:
        names = _unique_channels(channels)
        subscription = _MemorySubscription(self._queue_size)
        for name in names:
            self._channels.setdefault(name, set()).add(subscription)
        try:
            yield subscription
        finally:
            for name in names:
                subscribers = self._channels.get(name)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._channels[name]
            subscription.close()

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        for subscribers in self._channels.values():
            for subscription in subscribers:
                subscription.close()
        self._channels.clear()
        self._values.clear()
        self._expires.clear()


# Compare-and-delete must be one server-side step, or another client could take the lock
# between our GET and DEL and we would delete its value.
_DELETE_IF_EQUAL_LUA: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# EXISTS before INCRBY tells "created by this call" apart from "existed with value 0";
# EXPIRE NX would instead also re-arm counters that were created without a ttl.
_INCR_TTL_ON_CREATE_LUA: Final = """
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""

# Short reads instead of one blocking read so redis-py gets a chance to send its pub/sub health
# checks on idle subscriptions and notice a dead connection.
_PUBSUB_POLL_SECONDS: Final = 1.0


class _RedisSubscription:
    def __init__(self, pubsub: aioredis.client.PubSub, prefix: str) -> None:
        self._pubsub = pubsub
        self._prefix = prefix
        self._backlog: deque[dict[str, Any]] = deque()
        self.closed = False

    async def start(self, channels: list[str]) -> None:
        # SUBSCRIBE is only in force once the server confirms it; waiting for every confirmation
        # is what makes "subscribed when __aenter__ returns" true for publishers on other
        # connections.
        await self._pubsub.subscribe(*channels)
        pending = set(channels)
        while pending:
            message = await self._pubsub.get_message(timeout=_PUBSUB_POLL_SECONDS)
            if message is None:
                continue
            if message["type"] == "subscribe":
                pending.discard(message["channel"])
            elif message["type"] == "message":
                self._backlog.append(message)

    def __aiter__(self) -> _RedisSubscription:
        return self

    async def __anext__(self) -> StoreMessage:
        while not self.closed:
            if self._backlog:
                return self._convert(self._backlog.popleft())
            try:
                message = await self._pubsub.get_message(timeout=_PUBSUB_POLL_SECONDS)
            except Exception as error:
                if self.closed:  # closed from another task while we were reading
                    break
                # Not through the store's RedisGuard: a pause after some command's timeout
                # must not end a subscription whose own connection is fine.
                typed = as_unavailable(error)
                if typed is None:
                    raise
                raise typed from error
            # Other types (re-subscribe confirmations after a reconnect, pongs) are plumbing.
            if message is not None and message["type"] == "message" and not self.closed:
                return self._convert(message)
        raise StopAsyncIteration

    def _convert(self, message: dict[str, Any]) -> StoreMessage:
        channel = str(message["channel"])
        return StoreMessage(channel=channel.removeprefix(self._prefix), data=str(message["data"]))


class RedisStore(Store):
    """Redis-backed store; every key and channel is namespaced by `prefix`.

    Each subscription holds its own Redis connection: callers with many listeners (one per
    WebSocket) should share one subscription per process and fan out in-process.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        health_check_interval: int = 30,
        connect_timeout: float = 2.0,
        command_timeout: float = 2.0,
        pool_timeout: float = 5.0,
        max_connections: int = 50,
        max_subscriptions: int = 1000,
    ) -> None:
        self.prefix = prefix
        self._connect_timeout = connect_timeout
        # Short timeouts: our commands are O(1) and answer in milliseconds, and a request
        # waiting on an unreachable Redis should fall back or answer 503 in seconds, not hang.
        options: dict[str, Any] = {
            "decode_responses": True,
            "health_check_interval": health_check_interval,
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": command_timeout,
            "socket_keepalive": True,
        }
        # A burst of concurrent requests should queue for a connection, not fail with "Too many
        # connections" (the default pool's behaviour), so commands use a blocking pool.
        commands = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=pool_timeout,
            retry=reconnect_once(),
            **options,
        )
        self._guard = RedisGuard()
        self._redis = aioredis.Redis.from_pool(commands)
        # Each subscription pins a connection for its whole life; a separate pool keeps
        # long-lived listeners from starving commands of connections.
        self._pubsub_redis = aioredis.Redis.from_url(
            url, max_connections=max_subscriptions, **options
        )
        self._delete_if_equal_script = self._redis.register_script(_DELETE_IF_EQUAL_LUA)
        self._incr_script = self._redis.register_script(_INCR_TTL_ON_CREATE_LUA)

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> str | None:
        with self._guard.reaching():
            return cast(str | None, await self._redis.get(self._key(key)))

    async def set(
        self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        px = None if ttl is None else _ttl_ms(ttl)
        with self._guard.reaching():
            result = await self._redis.set(self._key(key), value, px=px, nx=only_if_absent)
        return bool(result)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        with self._guard.reaching():
            return int(await self._redis.delete(*(self._key(k) for k in keys)))

    async def get_and_delete(self, key: str) -> str | None:
        with self._guard.reaching():
            return cast(str | None, await self._redis.getdel(self._key(key)))

    async def delete_if_equal(self, key: str, value: str) -> bool:
        with self._guard.reaching():
            deleted = await self._delete_if_equal_script(keys=[self._key(key)], args=[value])
            return bool(deleted)

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        px = None if ttl is None else _ttl_ms(ttl)
        with self._guard.reaching():
            if px is None:
                return int(await self._redis.incrby(self._key(key), amount))
            return int(await self._incr_script(keys=[self._key(key)], args=[amount, px]))

    async def ttl(self, key: str) -> float | None:
        with self._guard.reaching():
            remaining_ms = int(await self._redis.pttl(self._key(key)))
            # PTTL answers -2 for a missing key and -1 for a key without expiry.
            return None if remaining_ms < 0 else remaining_ms / 1000

    async def expire(self, key: str, ttl: float) -> bool:
        px = _ttl_ms(ttl)
        with self._guard.reaching():
            return bool(await self._redis.pexpire(self._key(key), px))

    async def sadd(self, key: str, *members: str, ttl: float | None = None) -> int:
        if not members:
            return 0
        px = None if ttl is None else _ttl_ms(ttl)
        with self._guard.reaching():
            if px is None:
                return int(await self._redis.sadd(self._key(key), *members))
            # MULTI/EXEC so a set never exists without its expiry if we die between the two.
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.sadd(self._key(key), *members)
                pipe.pexpire(self._key(key), px)
                added, _ = await pipe.execute()
        return int(added)

    async def srem(self, key: str, *members: str) -> int:
        if not members:
            return 0
        with self._guard.reaching():
            return int(await self._redis.srem(self._key(key), *members))

    async def smembers(self, key: str) -> builtins.set[str]:
        with self._guard.reaching():
            return cast(builtins.set[str], await self._redis.smembers(self._key(key)))

    async def sismember(self, key: str, member: str) -> bool:
        with self._guard.reaching():
            return bool(await self._redis.sismember(self._key(key), member))

    async def publish(self, channel: str, message: str) -> int:
        with self._guard.reaching():
            return int(await self._redis.publish(self._key(channel), message))

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[StoreMessage]]:
        names = [self._key(name) for name in _unique_channels(channels)]
        pubsub = self._pubsub_redis.pubsub()
        subscription = _RedisSubscription(pubsub, self.prefix)
        try:
            with self._guard.reaching():
                async with asyncio.timeout(self._connect_timeout):
                    await subscription.start(names)
            yield subscription
        finally:
            subscription.closed = True
            # aclose drops the connection, which ends the subscription server-side.
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py

    async def ping(self) -> None:
        with self._guard.reaching():
            await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
        await self._pubsub_redis.aclose()


def create_store(redis_url: str | None, *, prefix: str = DEFAULT_PREFIX) -> Store:
    if redis_url is None:
        return MemoryStore(prefix=prefix)
    return RedisStore(redis_url, prefix=prefix)
