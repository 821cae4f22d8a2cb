"""One contract, two backends: every test runs against MemoryStore and RedisStore."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from postwise.store import (
    MemoryStore,
    RedisStore,
    Store,
    StoreMessage,
    StoreUnavailableError,
    create_store,
)
from tests.services import require_redis

StoreFactory = Callable[[], Store]


def _unique_prefix() -> str:
    return f"postwise-test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Build stores of one backend, each under its own random prefix; remove their keys after."""
    url = require_redis() if request.param == "redis" else None
    created: list[Store] = []

    def make() -> Store:
        store = create_store(url, prefix=_unique_prefix())
        created.append(store)
        return store

    yield make

    for store in created:
        await store.close()
    if url is not None:
        raw = aioredis.Redis.from_url(url, decode_responses=True)
        try:
            for store in created:
                assert isinstance(store, RedisStore)
                keys = [key async for key in raw.scan_iter(match=f"{store.prefix}*")]
                if keys:
                    await raw.delete(*keys)
        finally:
            await raw.aclose()


@pytest.fixture
async def store(make_store: StoreFactory) -> Store:
    return make_store()


async def next_message(messages: AsyncIterator[StoreMessage]) -> StoreMessage:
    async with asyncio.timeout(2):
        return await anext(messages)


async def test_factory_picks_backend() -> None:
    memory, remote = create_store(None), create_store("redis://127.0.0.1:6379/15")
    assert isinstance(memory, MemoryStore)
    assert isinstance(remote, RedisStore)
    await memory.close()
    await remote.close()


async def test_get_set_overwrite_delete(store: Store) -> None:
    assert await store.get("k") is None
    assert await store.set("k", "one") is True
    assert await store.get("k") == "one"
    assert await store.set("k", "two") is True
    assert await store.get("k") == "two"
    assert await store.delete("k", "missing", "k") == 1
    assert await store.get("k") is None
    assert await store.delete() == 0


async def test_only_if_absent(store: Store) -> None:
    assert await store.set("lock", "a", only_if_absent=True) is True
    assert await store.set("lock", "b", only_if_absent=True) is False
    assert await store.get("lock") == "a"
    await store.set("short", "x", ttl=0.1)
    await asyncio.sleep(0.2)
    assert await store.set("short", "y", only_if_absent=True) is True, "expired key is absent"


async def test_ttl_expires(store: Store) -> None:
    await store.set("k", "v", ttl=0.2)
    remaining = await store.ttl("k")
    assert remaining is not None
    assert 0 < remaining <= 0.2
    assert await store.get("k") == "v"
    await asyncio.sleep(0.3)
    assert await store.get("k") is None
    assert await store.ttl("k") is None
    assert await store.delete("k") == 0


async def test_set_without_ttl_clears_expiry(store: Store) -> None:
    await store.set("k", "v", ttl=0.2)
    await store.set("k", "w")
    assert await store.ttl("k") is None
    await asyncio.sleep(0.3)
    assert await store.get("k") == "w"


async def test_expire(store: Store) -> None:
    assert await store.expire("missing", 1) is False
    await store.set("k", "v")
    assert await store.ttl("k") is None
    assert await store.expire("k", 0.2) is True
    assert await store.ttl("k") is not None
    await asyncio.sleep(0.3)
    assert await store.get("k") is None
    with pytest.raises(ValueError, match="ttl"):
        await store.expire("k", 0)


async def test_incr_is_atomic_under_concurrency(store: Store) -> None:
    results = await asyncio.gather(*(store.incr("n") for _ in range(200)))
    assert sorted(results) == list(range(1, 201))
    assert await store.get("n") == "200"
    assert await store.incr("n", 5) == 205
    assert await store.incr("n", -10) == 195
    assert await store.ttl("n") is None


async def test_incr_ttl_only_on_create(store: Store) -> None:
    assert await store.incr("window", ttl=0.6) == 1
    await asyncio.sleep(0.3)
    # A sliding implementation would push the expiry back to ~0.6 s here.
    assert await store.incr("window", ttl=0.6) == 2
    remaining = await store.ttl("window")
    assert remaining is not None
    assert remaining < 0.45
    await asyncio.sleep(0.4)
    assert await store.get("window") is None
    assert await store.incr("window", ttl=0.6) == 1, "a new window starts from scratch"


async def test_get_and_delete_has_a_single_winner(store: Store) -> None:
    # Warm the Redis pool first so the callers really run side by side on many connections.
    await asyncio.gather(*(store.get("warm-up") for _ in range(50)))
    await store.set("token", "secret")
    results = await asyncio.gather(*(store.get_and_delete("token") for _ in range(50)))
    assert results.count("secret") == 1
    assert results.count(None) == 49
    assert await store.get("token") is None


async def test_delete_if_equal(store: Store) -> None:
    assert await store.delete_if_equal("lock", "me") is False
    await store.set("lock", "other")
    assert await store.delete_if_equal("lock", "me") is False
    assert await store.get("lock") == "other"
    assert await store.delete_if_equal("lock", "other") is True
    assert await store.get("lock") is None
    await store.set("lock", "me")
    results = await asyncio.gather(*(store.delete_if_equal("lock", "me") for _ in range(20)))
    assert results.count(True) == 1


async def test_read_and_delete_ops_are_atomic_against_a_racing_writer(store: Store) -> None:
    # A get-then-delete implementation deletes the writer's new value in between.
    for _ in range(20):
        await store.set("k", "old")
        taken, _ = await asyncio.gather(store.get_and_delete("k"), store.set("k", "new"))
        assert (taken, await store.get("k")) in {("old", "new"), ("new", None)}
        await store.set("lock", "mine")
        released, _ = await asyncio.gather(
            store.delete_if_equal("lock", "mine"), store.set("lock", "theirs")
        )
        assert await store.get("lock") == "theirs", f"released={released} removed their lock"


async def test_sets(store: Store) -> None:
    assert await store.smembers("s") == set()
    assert await store.sismember("s", "a") is False
    assert await store.sadd("s", "a", "b", "b") == 2
    assert await store.sadd("s", "b", "c") == 1
    assert await store.sadd("s") == 0
    assert await store.smembers("s") == {"a", "b", "c"}
    assert await store.sismember("s", "c") is True
    assert await store.srem("s", "a", "zzz") == 1
    assert await store.srem("missing", "a") == 0
    assert await store.smembers("s") == {"b", "c"}
    assert await store.srem("s", "b", "c") == 2
    assert await store.smembers("s") == set()
    assert await store.delete("s") == 0, "an emptied set no longer exists"


async def test_set_ttl_expires(store: Store) -> None:
    assert await store.sadd("s", "a", ttl=0.2) == 1
    assert await store.sismember("s", "a") is True
    await asyncio.sleep(0.3)
    assert await store.smembers("s") == set()


async def test_publish_reaches_every_subscriber(store: Store) -> None:
    async with store.subscribe("ch") as first, store.subscribe("ch") as second:
        # No sleep: the subscription must already be live when __aenter__ returns.
        assert await store.publish("ch", "hello") == 2
        assert await store.publish("ch", "world") == 2
        for messages in (first, second):
            assert await next_message(messages) == StoreMessage(channel="ch", data="hello")
            assert await next_message(messages) == StoreMessage(channel="ch", data="world")


async def test_other_channels_are_not_delivered(store: Store) -> None:
    async with store.subscribe("a", "b") as messages:
        assert await store.publish("c", "nope") == 0
        await store.publish("b", "to-b")
        await store.publish("a", "to-a")
        assert await next_message(messages) == StoreMessage(channel="b", data="to-b")
        assert await next_message(messages) == StoreMessage(channel="a", data="to-a")


async def test_no_delivery_after_unsubscribe(store: Store) -> None:
    async with store.subscribe("ch") as messages:
        await store.publish("ch", "before")
        assert await next_message(messages) == StoreMessage(channel="ch", data="before")
        await store.publish("ch", "left unread")
    assert await store.publish("ch", "after") == 0
    for _ in range(3):  # and it stays finished instead of waiting forever
        with pytest.raises(StopAsyncIteration):
            await next_message(messages)


async def test_reader_in_another_task_stops_when_subscription_closes(store: Store) -> None:
    received: list[str] = []
    got_one = asyncio.Event()

    async def read(messages: AsyncIterator[StoreMessage]) -> None:
        async for message in messages:
            received.append(message.data)
            got_one.set()

    async with store.subscribe("ch") as messages:
        reader = asyncio.create_task(read(messages))
        await store.publish("ch", "one")
        async with asyncio.timeout(2):
            await got_one.wait()
    async with asyncio.timeout(2):
        await reader  # ends cleanly instead of hanging or raising
    assert received == ["one"]


async def test_prefixes_isolate_keys_and_channels(make_store: StoreFactory) -> None:
    one, two = make_store(), make_store()
    await one.set("k", "one")
    assert await two.get("k") is None
    await two.set("k", "two")
    assert await one.get("k") == "one"
    async with one.subscribe("ch") as messages:
        assert await two.publish("ch", "from two") == 0
        assert await one.publish("ch", "from one") == 1
        assert await next_message(messages) == StoreMessage(channel="ch", data="from one")


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_invalid_ttl_is_refused(store: Store) -> None:
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="ttl"):
            await store.set("k", "v", ttl=bad)
    assert await store.get("k") is None


async def test_ping_on_closed_port_raises_quickly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = RedisStore(f"redis://127.0.0.1:{port}/0", prefix=_unique_prefix())
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailableError):
            async with asyncio.timeout(3):
                await store.ping()
    finally:
        await store.close()
    assert time.monotonic() - started < 2


async def test_memory_slow_subscriber_drops_oldest_without_blocking() -> None:
    store = MemoryStore(subscriber_queue_size=3)
    async with store.subscribe("ch") as messages:
        async with asyncio.timeout(1):
            for n in range(5):
                assert await store.publish("ch", str(n)) == 1
        assert store.dropped_messages == 2
        assert [(await next_message(messages)).data for _ in range(3)] == ["2", "3", "4"]


async def test_memory_sweep_removes_expired_keys_nobody_reads() -> None:
    store = MemoryStore(sweep_interval=0.0)
    for n in range(100):
        await store.set(f"k{n}", "v", ttl=0.05)
    await asyncio.sleep(0.1)
    await store.set("fresh", "v")
    assert list(store._values) == ["fresh"]
    assert list(store._expires) == []
