"""`postwise worker`: consume jobs from Redis and run the shared schedules until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from concurrent.futures import ThreadPoolExecutor

import structlog
from taskiq import AsyncBroker
from taskiq.api import run_scheduler_task
from taskiq.receiver import Receiver

from postwise.config import Settings
from postwise.kit.aio import cancel_and_wait
from postwise.observability.exporter import serve_metrics
from postwise.observability.metrics import Metrics
from postwise.runtime import open_runtime
from postwise.sync.runner import sync_engine
from postwise.worker.broker import build_scheduler

log = structlog.get_logger(__name__)
STOP_TIMEOUT = 10.0
# How long the jobs running at a SIGTERM may take to finish. The whole stop stays within the
# deploy files' grace periods (60 s): this, then STOP_TIMEOUT, then the sync engine's 15 s.
DRAIN_TIMEOUT = 15.0


class WorkerConfigError(RuntimeError):
    pass


async def run_worker(settings: Settings, *, concurrency: int = 20) -> None:
    if not settings.redis_url:
        raise WorkerConfigError(
            "postwise worker needs POSTWISE_REDIS_URL: without Redis, jobs run inside "
            "`postwise serve` and no separate worker is used."
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    metrics = Metrics(data_dir=settings.data_dir)
    async with (
        open_runtime(settings, strict=True, metrics=metrics) as runtime,
        contextlib.AsyncExitStack() as stack,
    ):
        serve_metrics(metrics, settings.worker_metrics_host, settings.worker_metrics_port, stack)
        if not settings.run_sync_in_process:
            # With Redis, the API processes leave mail sync to the workers.
            await stack.enter_async_context(
                sync_engine(
                    settings,
                    sessionmaker=runtime.sessionmaker,
                    store=runtime.store,
                    role="worker",
                    jobs=runtime.jobs,
                    metrics=metrics,
                )
            )
        broker = runtime.broker
        finish = asyncio.Event()
        receiver = asyncio.create_task(_receive(broker, concurrency, finish))
        scheduler = asyncio.create_task(run_scheduler_task(build_scheduler(broker, runtime.store)))
        log.info("worker_started", jobs=sorted(broker.get_all_tasks()), concurrency=concurrency)
        try:
            stopping = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait(
                [receiver, scheduler, stopping], return_when=asyncio.FIRST_COMPLETED
            )
            # The receiver or the scheduler ending on its own is a crash: surface its error.
            for task in done - {stopping}:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
            stopping.cancel()
        finally:
            log.info("worker_stopping")
            # No new jobs; the running ones finish and are acknowledged, rather than being
            # cancelled and handed to another worker only after the 5-minute idle claim.
            finish.set()
            await asyncio.wait({receiver}, timeout=DRAIN_TIMEOUT + 1)
            # A Redis read being cancelled can lose the cancellation (kit.aio.cancel_and_wait
            # repeats it); a worker told to stop must stop, so the wait is bounded too.
            lingering = await cancel_and_wait({receiver, scheduler}, STOP_TIMEOUT)
            if lingering:
                log.warning("worker_stop_timeout", tasks=len(lingering))
    log.info("worker_stopped")


async def _receive(broker: AsyncBroker, concurrency: int, finish: asyncio.Event) -> None:
    """taskiq's `run_receiver_task`, with the finish event ours: once it is set the receiver
    takes no more messages and waits up to DRAIN_TIMEOUT for the running jobs. (That function
    keeps its event to itself, so a stop could only cancel the jobs in flight.) Like it, a
    receiver that fails on a broker error is replaced."""
    with ThreadPoolExecutor() as executor:
        broker.is_worker_process = True
        while not finish.is_set():
            receiver = Receiver(
                broker=broker,
                executor=executor,
                run_startup=False,
                max_async_tasks=concurrency,
                wait_tasks_timeout=DRAIN_TIMEOUT,
            )
            try:
                await receiver.listen(finish)
            except Exception:
                log.warning("job_receiver_failed", exc_info=True)
