"""The job receiver through a Redis restart, a lost stream, and a Redis gone from the network.

`postwise worker` must go on consuming without a restart of its own, and say so in a few log
lines rather than a traceback per attempt. Each test runs its own `redis-server` (no
persistence: a restart comes back empty) and taskiq's receiver in the test's event loop, as
`postwise worker` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AsyncBroker
from taskiq.api import run_receiver_task
from taskiq.exceptions import SendTaskError

from postwise.config import Settings
from postwise.observability.logging import configure_logging
from postwise.worker.broker import CONNECT_TIMEOUT_S, RecoveringStreamBroker, build_broker
from postwise.worker.registry import JobRegistry
from tests.fixtures import redis as redis_fixtures
from tests.fixtures.redis import RedisServer, unanswered_port

pytestmark = pytest.mark.backend
# A fixture of this module's: a Redis of its own, stopped and restarted at will.
redis_server = redis_fixtures.redis_server

JOB = "test.deliver"
OUTAGE_S = 2.0
DELIVERY_TIMEOUT_S = 10.0
# The receiver's lines for one outage: ours are one warning (and one info when it ends).
MAX_OUTAGE_WARNINGS = 5


@dataclass
class Worker:
    broker: AsyncBroker
    settings: Settings
    delivered: asyncio.Queue[int]

    async def send(self, number: int) -> None:
        task = self.broker.find_task(JOB)
        assert task is not None
        await task.kiq(number=number)

    async def next_delivered(self) -> int:
        return await asyncio.wait_for(self.delivered.get(), DELIVERY_TIMEOUT_S)


def broker_with_job(settings: Settings, delivered: asyncio.Queue[int]) -> AsyncBroker:
    broker = build_broker(settings, JobRegistry())

    async def deliver(number: int) -> None:
        delivered.put_nowait(number)

    broker.register_task(deliver, task_name=JOB)
    return broker


@pytest.fixture
async def worker(make_settings: Any, redis_server: RedisServer) -> AsyncIterator[Worker]:
    settings = make_settings(redis_url=redis_server.url)
    # Our structlog lines through stdlib logging, where the test counts them with taskiq's.
    configure_logging(settings)
    delivered: asyncio.Queue[int] = asyncio.Queue()
    broker = broker_with_job(settings, delivered)
    assert isinstance(broker, RecoveringStreamBroker)
    await broker.startup()
    receiver = asyncio.create_task(run_receiver_task(broker, run_startup=False))
    try:
        yield Worker(broker, settings, delivered)
    finally:
        receiver.cancel()
        done, _ = await asyncio.wait({receiver}, timeout=1)
        # A cancellation can be lost in redis-py's send (see broker._cancel_requested); closing
        # the connections then ends the read the receiver went on with.
        await broker.shutdown()
        if not done:
            await asyncio.wait({receiver}, timeout=5)
        assert receiver.done(), "the receiver outlived its broker"


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= logging.WARNING]

    def events(self) -> list[str]:
        # structlog hands stdlib its event dict as the record's message.
        return [str(r.msg.get("event")) for r in self.records if isinstance(r.msg, dict)]


@contextmanager
def recorded_logs() -> Iterator[Recorded]:
    handler = Recorded()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


async def test_jobs_flow_again_after_redis_restarts_empty_with_a_few_log_lines(
    worker: Worker,
    redis_server: RedisServer,
) -> None:
    await worker.send(1)
    assert await worker.next_delivered() == 1

    with recorded_logs() as logs:
        redis_server.stop()
        await asyncio.sleep(OUTAGE_S)
        # Empty: no stream, no consumer group. The job's XADD creates the stream again, most
        # likely before the receiver declares the group, which must still deliver it.
        redis_server.start()
        await worker.send(2)
        assert await worker.next_delivered() == 2

    warnings = logs.warnings()
    assert len(warnings) <= MAX_OUTAGE_WARNINGS, warnings[:10]
    assert "job_queue_unavailable" in logs.events()
    assert "job_queue_recovered" in logs.events()


async def test_jobs_flow_again_after_the_job_stream_is_deleted(worker: Worker) -> None:
    """A FLUSHDB or an eviction takes the stream and its group, Redis staying up: the blocked
    read ends with UNBLOCKED and every later one with NOGROUP until the group is declared."""
    await worker.send(1)
    assert await worker.next_delivered() == 1
    raw = aioredis.Redis.from_url(worker.settings.redis_url or "")
    try:
        assert await raw.delete(f"{worker.settings.store_prefix}jobs") == 1
    finally:
        await raw.aclose()
    await worker.send(2)
    assert await worker.next_delivered() == 2


async def test_a_job_sent_to_an_unreachable_redis_fails_within_the_connect_timeout(
    make_settings: Any,
) -> None:
    """Jobs leave after the commit and before the response: a Redis host gone from the network
    must cost the request seconds, not the OS's TCP timeout."""
    with unanswered_port() as port:
        settings = make_settings(redis_url=f"redis://127.0.0.1:{port}/0")
        broker = broker_with_job(settings, asyncio.Queue())
        assert isinstance(broker, RecoveringStreamBroker)
        # An idle blocking read must end before its socket times out, or every quiet spell
        # would be logged as an outage.
        pool = broker.connection_pool
        connection = pool.connection_class(**pool.connection_kwargs)
        assert connection.socket_timeout is not None
        assert connection.socket_timeout > broker.block / 1000 + 1
        try:
            started = time.monotonic()
            with pytest.raises(SendTaskError) as failed:
                await Worker(broker, settings, asyncio.Queue()).send(1)
            assert time.monotonic() - started < CONNECT_TIMEOUT_S + 1
            assert isinstance(failed.value.__cause__, RedisTimeoutError), failed.value.__cause__
        finally:
            await broker.shutdown()


async def test_a_read_told_to_stop_ends_when_the_broker_closes_instead_of_recovering(
    make_settings: Any,
    redis_server: RedisServer,
) -> None:
    """The cancellation Python 3.11 can lose inside redis-py's send, reproduced: the read goes
    on, and the broker closing its connections must end it rather than start a recovery."""
    broker = broker_with_job(make_settings(redis_url=redis_server.url), asyncio.Queue())
    await broker.startup()
    messages = broker.listen()

    async def read_after_a_lost_cancellation() -> object:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        # Swallowed, as asyncio.wait_for does when the send completes at the same moment.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)
        return await anext(messages)

    reading = asyncio.create_task(read_after_a_lost_cancellation())
    try:
        await asyncio.sleep(0.3)  # inside the blocking read
        assert not reading.done()
        await broker.shutdown()
        done, _ = await asyncio.wait({reading}, timeout=3)
        assert done and reading.cancelled()
    finally:
        reading.cancel()
        await asyncio.wait({reading}, timeout=5)
        await messages.aclose()
        await broker.shutdown()
