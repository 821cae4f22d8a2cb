"""wait_event and cancel_and_wait: a cancellation is never lost, even when the event is set at
the same moment or the task swallows one."""

from __future__ import annotations

import asyncio
import contextlib

from postwise.kit.aio import cancel_and_wait, wait_event


async def test_true_when_set_false_on_timeout() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 1) is True


async def test_cancellation_arriving_with_the_event_is_not_swallowed() -> None:
    # asyncio.wait_for on Python 3.11 returns normally here, and a loop around it runs on.
    for _ in range(20):
        event = asyncio.Event()
        rounds = 0

        async def loop(event: asyncio.Event = event) -> None:
            nonlocal rounds
            while True:
                rounds += 1
                await wait_event(event, 30)
                event.clear()

        task = asyncio.create_task(loop())
        await asyncio.sleep(0)  # the loop now waits on the event
        event.set()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert done == {task}
        assert task.cancelled()


async def test_a_loop_whose_cancellation_was_swallowed_stops_at_its_next_round() -> None:
    from postwise.kit.aio import stop_if_cancelled

    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            stop_if_cancelled()
            rounds += 1
            # What a library on the way out did to the cancellation:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.03)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done == {task} and task.cancelled()


async def test_cancel_and_wait_repeats_a_cancellation_the_task_lost() -> None:
    # A reader that loses the first cancellation (as one inside redis-py can) and blocks on its
    # next read: one cancel() leaves it running for the whole read; repeating it ends it.
    reads = 0

    async def reader() -> None:
        nonlocal reads
        while True:
            reads += 1
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(30)
                continue
            if reads > 1:
                raise asyncio.CancelledError

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    assert await cancel_and_wait({task}, 5) == set()
    assert task.cancelled() and reads == 2


async def test_cancel_and_wait_returns_what_is_still_running_at_the_bound() -> None:
    stop = False

    async def stubborn() -> None:
        while not stop:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(30)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await cancel_and_wait({task}, 0.3) == {task}
    stop = True
    task.cancel()
    await asyncio.wait({task})
