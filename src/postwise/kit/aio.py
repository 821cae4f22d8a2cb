"""asyncio helpers."""

from __future__ import annotations

import asyncio


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
