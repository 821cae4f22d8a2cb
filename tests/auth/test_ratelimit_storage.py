"""The in-memory rate-limit storage's clean-up (our override of a private library method)."""

from __future__ import annotations

import asyncio

import pytest
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter

from postwise.auth.ratelimit import _SweepingMemoryStorage

pytestmark = pytest.mark.backend


async def test_sweep_is_ours_rare_and_forgets_expired_windows() -> None:
    storage = _SweepingMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    item = parse("2/second")
    assert await limiter.hit(item, "k1")
    assert await limiter.hit(item, "k1")
    assert not await limiter.hit(item, "k1")
    # The library would have swept after each hit; ours waits for its interval.
    assert "k1" in str(list(storage.events))
    await asyncio.sleep(1.1)
    assert await limiter.hit(item, "k1")  # the window moved on without any sweep
    storage.sweep()
    assert len(storage.events) == 1
    await asyncio.sleep(1.1)
    storage.sweep()
    assert storage.events == {}


async def test_the_library_still_calls_the_hook_we_override() -> None:
    storage = _SweepingMemoryStorage()
    storage.SWEEP_INTERVAL = 0.0
    limiter = MovingWindowRateLimiter(storage)
    await limiter.hit(parse("5/second"), "gone")
    await asyncio.sleep(1.1)
    await limiter.hit(parse("5/second"), "other")  # triggers the (overridden) clean-up
    await asyncio.sleep(0)
    assert all("gone" not in key for key in storage.events)
