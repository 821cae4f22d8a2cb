"""The Store's one failure type, and the guard that turns Redis's many into it.

Callers decide per use what an unreachable Store means (fall back to the database, count in
process, or answer 503); they can only do so if they get one typed error instead of redis-py's
exceptions, which would otherwise reach the client as a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from postwise.kit.errors import UnavailableError


class StoreUnavailableError(UnavailableError):
    """The Store's backend cannot be reached or did not answer in time.

    Unhandled in a request, it answers 503 `store_unavailable` with `Retry-After`."""

    code = "store_unavailable"
    detail = "A service this request needs is briefly unavailable; try again shortly."


# A refused or dropped connection: cheap to find out, so every call tries again.
_UNREACHABLE = (redis.exceptions.ConnectionError, ConnectionError)
# No answer in time: each try costs a whole timeout, so calls right after one don't try.
# (redis-py's TimeoutError is not an OSError; asyncio's is the builtin.)
_TIMEOUTS = (redis.exceptions.TimeoutError, TimeoutError)


def as_unavailable(error: BaseException) -> StoreUnavailableError | None:
    """The typed error for a failure to reach Redis; None for any other error."""
    if isinstance(error, _TIMEOUTS):
        return StoreUnavailableError(f"Redis did not answer in time: {error}")
    if isinstance(error, _UNREACHABLE):
        return StoreUnavailableError(f"Redis cannot be reached: {error}")
    return None


def reconnect_once() -> Retry:
    """redis-py's retry policy for our clients: one immediate retry on a dropped connection,
    none on a timeout. After Redis restarts every pooled connection is dead, and without it
    each would fail one request before being replaced."""
    return Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,))


class RedisGuard:
    """Wraps every Redis command of one RedisStore.

    After a timeout, commands fail at once for `pause` seconds rather than each waiting out its
    own timeout: with Redis unreachable at the network level every request would otherwise
    pay seconds for each Store call (and again for each fallback it then takes).
    """

    def __init__(self, *, pause: float = 1.0) -> None:
        self.pause = pause
        self._quiet_until = 0.0

    @contextmanager
    def reaching(self) -> Iterator[None]:
        if time.monotonic() < self._quiet_until:
            raise StoreUnavailableError("Redis timed out a moment ago; not trying again yet")
        try:
            yield
        except (*_TIMEOUTS, *_UNREACHABLE) as error:
            if isinstance(error, _TIMEOUTS):
                self._quiet_until = time.monotonic() + self.pause
            typed = as_unavailable(error)
            assert typed is not None
            raise typed from error
