"""Job metrics, measured where taskiq runs every job: one broker middleware for both the
in-process broker and the Redis stream broker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from taskiq import InMemoryBroker, TaskiqMessage, TaskiqMiddleware, TaskiqResult

from postwise.observability.metrics import Metrics


class JobMetricsMiddleware(TaskiqMiddleware):
    """Running, duration, failures and retries by job name; the in-process queue's backlog.

    `metrics` is looked up per run (it is bound to the broker's state after the broker is
    built, and a broker without it — a test's — records nothing).
    """

    def __init__(self, metrics: Callable[[], Metrics | None]) -> None:
        super().__init__()
        self._metrics = metrics
        self._started: dict[str, float] = {}

    def _in_process(self) -> bool:
        # With Redis the send happens in one process and the run in another: the backlog is
        # read from the stream instead (`observability.scrape`).
        return isinstance(self.broker, InMemoryBroker)

    def post_send(self, message: TaskiqMessage) -> None:
        metrics = self._metrics()
        if metrics is not None and self._in_process():
            snap = metrics.snapshot
            snap.local_jobs_queued = (snap.local_jobs_queued or 0) + 1

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        metrics = self._metrics()
        if metrics is None:
            return message
        if self._in_process():
            snap = metrics.snapshot
            snap.local_jobs_queued = max(0, (snap.local_jobs_queued or 0) - 1)
        job = message.task_name
        if int(message.labels.get("_retries", 0) or 0) > 0:
            metrics.job_retries.labels(job_name=job).inc()
        metrics.jobs_running.labels(job_name=job).inc()
        self._started[message.task_id] = time.perf_counter()
        return message

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        started = self._started.pop(message.task_id, None)
        metrics = self._metrics()
        if metrics is None or started is None:
            return
        job = message.task_name
        metrics.jobs_running.labels(job_name=job).dec()
        metrics.job_duration.labels(job_name=job).observe(time.perf_counter() - started)
        if result.is_err:
            metrics.job_failures.labels(job_name=job).inc()
