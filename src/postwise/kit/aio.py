"""asyncio helpers."""

from __future__ import annotations

import asyncio
from typing import Any


async def wait_event(event: asyncio.Event, timeout: float) -> bool:  # noqa: ASYNC109
    """Wait until `event` is set or `timeout` seconds pass; True when it was set.

    Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation that arrives in the same
    loop iteration as the event (it returns the result instead of raising), so a sync loop
    cancelled just as new mail woke it kept running forever and its owner waited on it for
    good. `asyncio.timeout` un-cancels only its own cancellation.
    """
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


def stop_if_cancelled() -> None:
    """Raise CancelledError when the current task was asked to stop but is still running.

    Long-lived loops (a mailbox's sync) call this once per round. A cancellation that reached
    the task can still be lost on its way out: Python 3.11's `asyncio.wait_for` swallowed one
    here (see `wait_event`), and a task that awaits another task directly continues normally
    when that inner task ends without honouring it. The request count (`Task.cancelling()`)
    survives either way, so checking it bounds how long a stopped loop can run on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


# How often a cancellation is repeated while the task has not ended.
RECANCEL_EVERY_S = 0.1


async def cancel_and_wait(
    tasks: set[asyncio.Task[Any]],
    timeout: float,  # noqa: ASYNC109 (a bound on the stop, not on an operation of the caller)
) -> set[asyncio.Task[Any]]:
    """Cancel `tasks` and wait up to `timeout` seconds for them to end; returns those still
    running then.

    The cancellation is repeated until each task ends: one can be lost on its way through
    redis-py (see `worker.broker._next_message`), after which taskiq's stream reader blocks on
    its next read, and the next, until the connections are closed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(RECANCEL_EVERY_S, left))
    return pending
