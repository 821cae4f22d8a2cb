"""Build the taskiq broker and scheduler from settings and register every job on them."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import AsyncGenerator
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import (
    AckableMessage,
    AsyncBroker,
    Context,
    InMemoryBroker,
    SimpleRetryMiddleware,
    TaskiqDepends,
)
from taskiq.exceptions import ScheduledTaskCancelledError
from taskiq.schedule_sources import LabelScheduleSource
from taskiq.scheduler.scheduled_task import ScheduledTask
from taskiq.scheduler.scheduler import TaskiqScheduler
from taskiq_redis import RedisStreamBroker

from postwise.config import Settings
from postwise.kit.aio import cancel_and_wait
from postwise.observability.jobs import JobMetricsMiddleware
from postwise.observability.metrics import Metrics
from postwise.store import Store
from postwise.worker.registry import JobContext, JobRegistry, JobSpec

log = structlog.get_logger(__name__)

STATE_KEY = "postwise"
CONSUMER_GROUP = "postwise-workers"

# How long one read of the job stream waits for a job before asking again.
XREAD_BLOCK_MS = 2_000
# A job is sent after its transaction commits and before the response: with Redis unreachable at
# the network level, an unbounded connect would hold the request until the OS gives up (minutes).
CONNECT_TIMEOUT_S = 2.0
# Every read must outlast the blocking read (an idle one answers only after XREAD_BLOCK_MS), with
# room for a busy Redis; it also bounds a send to a Redis that accepted and then went silent.
SOCKET_TIMEOUT_S = XREAD_BLOCK_MS / 1000 + 2.0
# A failing read is tried again after 0.5 s, doubling to 10 s, each delay at a random 50-100 %.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 10.0
_jitter = random.Random()  # noqa: S311 (spreads retries; nothing secret depends on it)
# OSError: what a socket raises before redis-py wraps it (and the builtin ConnectionError).
_READ_ERRORS = (RedisError, OSError)


class _Outage:
    """The backoff and the two log lines (one when reading fails, one when it works again)."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.failures = 0
        self.recovered_at = -math.inf

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        if self.since is None:
            # Reads that held since the last recovery mean a new outage: start the delays over.
            # A read failing again right after one (a group that cannot be declared) keeps
            # backing off instead of retrying, and logging, twice a second.
            if now - self.recovered_at > RETRY_MAX_S:
                self.failures = 0
            self.since = now
            log.warning("job_queue_unavailable", error=str(error), error_type=type(error).__name__)
        self.failures += 1

    def next_delay(self) -> float:
        ceiling = min(RETRY_MAX_S, RETRY_FIRST_S * 2.0 ** min(self.failures - 1, 32))
        return ceiling * _jitter.uniform(0.5, 1.0)

    def recovered(self) -> None:
        now = time.monotonic()
        down = 0.0 if self.since is None else now - self.since
        log.info("job_queue_recovered", down_seconds=round(down, 1), failures=self.failures)
        self.since = None
        self.recovered_at = now


class RecoveringStreamBroker(RedisStreamBroker):
    """taskiq-redis's stream broker, reading on through Redis outages and restarts.

    taskiq-redis declares its consumer group at startup only, so a Redis restarted without
    persistence (or a deleted stream) answers every read with NOGROUP until the worker restarts;
    and taskiq's receiver retries a failing read at once, logging a traceback each time
    (thousands in a one-second outage). Here a failing read backs off, declares the group again,
    and reads on, with one warning when the trouble starts and one line when it ends.
    """

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        outage = _Outage()
        while True:
            messages = super().listen()
            try:
                while True:
                    # Only the read is guarded: an error thrown in at the yield is the
                    # receiver's, not Redis's.
                    try:
                        message = await _next_message(messages)
                    except _READ_ERRORS as error:
                        if _cancel_requested():
                            raise asyncio.CancelledError from error
                        outage.failed(error)
                        break
                    yield message
            finally:
                await messages.aclose()
            await self._recover(outage)

    async def _recover(self, outage: _Outage) -> None:
        while True:
            await asyncio.sleep(outage.next_delay())
            try:
                # Also the check that Redis answers again. The group starts at "0"
                # (consumer_id), so jobs sent while it was missing, whose XADD created the
                # stream anew, are still delivered; BUSYGROUP (it exists) is ignored there.
                await self._declare_consumer_group()
            except _READ_ERRORS as error:
                if _cancel_requested():
                    raise asyncio.CancelledError from error
                outage.failed(error)
                continue
            outage.recovered()
            return


async def _next_message(messages: AsyncGenerator[AckableMessage, None]) -> AckableMessage:
    """The next message, read in a task of its own so that a stop reaches it for sure.

    A cancellation can be lost inside redis-py (`_cancel_requested`); taskiq-redis's reader then
    goes on to its next blocking read, and the next, and taskiq's receiver waits for it: every
    stop of a receiver took until its connections were closed (5 s in each test's teardown).
    Here the read is cancelled again until it ends. A message it fetched meanwhile stays
    unacknowledged in the group and is claimed again after `idle_timeout`: nothing is lost.
    """
    read = asyncio.ensure_future(anext(messages))
    try:
        await asyncio.wait({read})
    except asyncio.CancelledError:
        await cancel_and_wait({read}, SOCKET_TIMEOUT_S * 2)
        raise
    return read.result()


def _cancel_requested() -> bool:
    """Whether the task reading was told to stop, even if the cancellation got lost.

    Python 3.11's asyncio.wait_for, around each of redis-py's sends, swallows a cancellation that
    lands just as the send completes; the read then goes on until the broker's connections are
    closed at shutdown. That error must end the read, not be recovered from: nobody is listening.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def build_broker(settings: Settings, registry: JobRegistry) -> AsyncBroker:
    broker: AsyncBroker
    if settings.redis_url:
        broker = RecoveringStreamBroker(
            settings.redis_url,
            # Under the store prefix, so deployments (and test runs) sharing a Redis never
            # take each other's jobs.
            queue_name=f"{settings.store_prefix}jobs",
            consumer_group_name=CONSUMER_GROUP,
            # "0", not "$": a group created after jobs were queued (the API started before any
            # worker, or Redis came back) still delivers them instead of skipping them.
            consumer_id="0",
            # Acknowledged entries stay in a stream; cap it so Redis memory stays bounded.
            maxlen=100_000,
            # Redelivers a job whose worker died mid-run after this long unacknowledged.
            idle_timeout=5 * 60 * 1000,
            xread_block=XREAD_BLOCK_MS,
            # Passed on to redis-py's connection pool.
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
        )
    else:
        broker = InMemoryBroker()
    broker.add_middlewares(
        SimpleRetryMiddleware(default_retry_count=0),
        JobMetricsMiddleware(lambda: _metrics_of(broker)),
    )
    for spec in registry.jobs.values():
        _register(broker, spec)
    return broker


def bind_context(broker: AsyncBroker, ctx: JobContext) -> None:
    broker.state[STATE_KEY] = ctx


def _metrics_of(broker: AsyncBroker) -> Metrics | None:
    ctx: JobContext | None = broker.state.data.get(STATE_KEY)
    return None if ctx is None else ctx.metrics


async def queued_jobs(broker: AsyncBroker) -> int | None:
    """Jobs in the Redis stream not yet delivered to the workers' group (None: not a Redis
    broker, or Redis cannot say)."""
    if not isinstance(broker, RedisStreamBroker):
        return None
    async with Redis(connection_pool=broker.connection_pool) as redis:
        groups = await redis.xinfo_groups(broker.queue_name)
    for group in groups:
        name = group.get("name")
        if isinstance(name, bytes):
            name = name.decode()
        if name == broker.consumer_group_name:
            lag = group.get("lag")
            return None if lag is None else int(lag)
    return None


def _register(broker: AsyncBroker, spec: JobSpec) -> None:
    func = spec.func

    # The parameter's name must not clash with any job argument (notify.send_email has a
    # `context`), so it carries our prefix.
    async def run(postwise_taskiq_context: Context = TaskiqDepends(), **kwargs: Any) -> object:
        ctx: JobContext = postwise_taskiq_context.state[STATE_KEY]
        return await func(ctx, **kwargs)

    # Not functools.wraps: copying the job's signature and annotations would hide `context`
    # from taskiq's dependency injector.
    run.__name__ = run.__qualname__ = func.__name__
    run.__module__ = func.__module__
    run.__doc__ = func.__doc__
    labels: dict[str, Any] = {}
    if spec.retries:
        labels.update(retry_on_error=True, max_retries=spec.retries)
    if spec.schedule is not None:
        labels["schedule"] = [
            {"interval": spec.schedule.interval, "schedule_id": spec.name, "kwargs": {}}
        ]
    broker.register_task(run, task_name=spec.name, **labels)


class SharedScheduleSource(LabelScheduleSource):
    """Label schedules, fired once per interval across every worker process.

    Each worker runs a scheduler so that any one of them can die; a short lock per schedule
    slot in the shared Store keeps the others from sending the same run again.
    """

    def __init__(self, broker: AsyncBroker, store: Store) -> None:
        super().__init__(broker)
        self.store = store

    async def pre_send(self, task: ScheduledTask) -> None:
        if task.interval is None:
            return
        interval = _seconds(task.interval)
        slot = math.floor(time.time() / interval)
        acquired = await self.store.set(
            f"scheduler:{task.schedule_id}:{slot}", "1", ttl=interval, only_if_absent=True
        )
        if not acquired:
            raise ScheduledTaskCancelledError


def _seconds(interval: Any) -> float:
    if isinstance(interval, int | float):
        return float(interval)
    return float(interval.total_seconds())


def build_scheduler(broker: AsyncBroker, store: Store) -> TaskiqScheduler:
    return TaskiqScheduler(broker, sources=[SharedScheduleSource(broker, store)])
