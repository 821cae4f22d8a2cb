"""Build the taskiq broker and scheduler from settings and register every job on them."""

from __future__ import annotations

import math
import time
from typing import Any

from taskiq import AsyncBroker, Context, InMemoryBroker, SimpleRetryMiddleware, TaskiqDepends
from taskiq.exceptions import ScheduledTaskCancelledError
from taskiq.schedule_sources import LabelScheduleSource
from taskiq.scheduler.scheduled_task import ScheduledTask
from taskiq.scheduler.scheduler import TaskiqScheduler
from taskiq_redis import RedisStreamBroker

from postwise.config import Settings
from postwise.store import Store
from postwise.worker.registry import JobContext, JobRegistry, JobSpec

STATE_KEY = "postwise"
CONSUMER_GROUP = "postwise-workers"


def build_broker(settings: Settings, registry: JobRegistry) -> AsyncBroker:
    broker: AsyncBroker
    if settings.redis_url:
        broker = RedisStreamBroker(
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
        )
    else:
        broker = InMemoryBroker()
    broker.add_middlewares(SimpleRetryMiddleware(default_retry_count=0))
    for spec in registry.jobs.values():
        _register(broker, spec)
    return broker


def bind_context(broker: AsyncBroker, ctx: JobContext) -> None:
    broker.state[STATE_KEY] = ctx


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
