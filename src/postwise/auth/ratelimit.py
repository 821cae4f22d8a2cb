"""Throttling with `limits` (moving window), in memory or in the same Redis as the Store.

With Redis, a limit that cannot be counted there is counted in this process instead until
Redis answers again (docs/security.md, "When Redis is down"): the limits keep refusing, each
API process on its own, rather than letting every attempt through or refusing every sign-in.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from postwise.config import Settings
from postwise.kit.errors import ProblemError
from postwise.store_errors import reconnect_once

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    """Named limits for one action and one kind of key (a client IP, an account)."""

    name: str
    limits: tuple[RateLimitItem, ...]


# Every rule's name, so POSTWISE_RATE_LIMITS naming none of them can be reported.
KNOWN_RULES: set[str] = set()


def rule(name: str, spec: str) -> Rule:
    KNOWN_RULES.add(name)
    return Rule(name=name, limits=tuple(parse_many(spec)))


# Per client IP and per account (the normalised address, so unknown and known addresses are
# throttled alike and the limit itself reveals nothing).
LOGIN_IP = rule("login-ip", "30/minute;300/hour")
LOGIN_ACCOUNT = rule("login-account", "10/minute;100/hour")
MFA_IP = rule("mfa-ip", "30/minute;300/hour")
MFA_ACCOUNT = rule("mfa-account", "6/minute;60/hour")
REGISTER_IP = rule("register-ip", "10/minute;50/hour")
REGISTER_ACCOUNT = rule("register-account", "3/minute;10/hour")
FORGOT_IP = rule("forgot-ip", "10/minute;50/hour")
FORGOT_ACCOUNT = rule("forgot-account", "3/minute;10/hour")
RESEND_IP = rule("resend-ip", "10/minute;50/hour")
RESEND_ACCOUNT = rule("resend-account", "3/minute;10/hour")
RESET_IP = rule("reset-ip", "10/minute;50/hour")
STRENGTH_IP = rule("strength-ip", "60/minute")
# Failed attempts per account, whatever the lockout delays allow: never more than 100 an hour.
FAILURES_ACCOUNT = rule("failures-account", "100/hour")


class _SweepingMemoryStorage(MemoryStorage):
    """limits' async MemoryStorage with a cheaper clean-up.

    The library sweeps every key after every hit, with one thread hop per key: under a login
    flood from many addresses that cost 1.5-3 ms of event loop per request (bench/auth). Expired
    entries only waste memory (the moving window checks timestamps itself), so sweeping inline
    at most every few seconds is enough. The override names the library's private method, so
    a test pins the behaviour in case a release renames it.
    """

    SWEEP_INTERVAL = 5.0

    def __init__(self) -> None:
        self._last_sweep = 0.0
        super().__init__()

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep >= self.SWEEP_INTERVAL:
            self._last_sweep = now
            self.sweep()

    def sweep(self) -> None:
        # No await inside: on one event loop this runs atomically, no locks needed.
        now = time.time()
        for key in list(self.events):
            events = self.events[key]
            # Newest first: everything from the first expired entry on has expired.
            cutoff = bisect.bisect_left(events, -now, key=lambda event: -event.expiry)
            del events[cutoff:]
            if not events:
                self.events.pop(key, None)
                self.locks.pop(key, None)
        for key in [key for key, at in self.expirations.items() if at <= now]:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        # Counts in this process: the only storage without Redis, the stand-in with it.
        self.local = MovingWindowRateLimiter(_SweepingMemoryStorage())
        # The operator's replacements (POSTWISE_RATE_LIMITS), looked up by the rule's name.
        self.overrides = {
            name: Rule(name=name, limits=tuple(parse_many(spec)))
            for name, spec in settings.rate_limits.items()
        }
        # Checked at the first count, not here: by then every module defining rules is
        # imported (a worker building a kit for a job may never import the routes).
        self._names_checked = False
        self.shared: MovingWindowRateLimiter | None = None
        if settings.redis_url:
            # As the Store's client: short timeouts, so a sign-in does not wait long on a Redis
            # that does not answer, and no failed request per connection after a restart.
            options: dict[str, Any] = {
                "socket_connect_timeout": 2.0,
                "socket_timeout": 2.0,
                "retry": reconnect_once(),
            }
            storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=f"{settings.store_prefix}limits",
                # One error type (StorageError) for whatever the Redis client raises.
                wrap_exceptions=True,
                **options,
            )
            self.shared = MovingWindowRateLimiter(storage)
        # After a failure the shared storage is tried again only this many seconds later, so
        # an unreachable Redis costs one timeout now and then, not one per limit checked.
        self.shared_retry_seconds = 5.0
        self._shared_down_until = 0.0

    async def _counted(self, use: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        """Run `use` on the shared storage, or on the local one while that cannot answer."""
        if not self._names_checked:
            self._names_checked = True
            if unknown := sorted(set(self.overrides) - KNOWN_RULES):
                log.warning("rate_limit_overrides_unknown", rules=unknown)
        if self.shared is None or time.monotonic() < self._shared_down_until:
            return await use(self.local)
        try:
            return await use(self.shared)
        except StorageError as error:
            self._shared_down_until = time.monotonic() + self.shared_retry_seconds
            log.warning("rate_limits_counted_locally", error=str(error))
            return await use(self.local)

    async def hit(self, rule: Rule, key: str) -> None:
        """Count one attempt; raise 429 `rate_limited` when any limit of the rule is spent."""
        rule = self.overrides.get(rule.name, rule)

        async def hit(limiter: MovingWindowRateLimiter) -> ProblemError | None:
            for item in rule.limits:
                if not await limiter.hit(item, rule.name, key):
                    return await self._limited(limiter, rule, item, key)
            return None

        refusal = await self._counted(hit)
        if refusal is not None:
            raise refusal

    async def record(self, rule: Rule, key: str) -> None:
        """Count one event without refusing anything (what is refused is decided elsewhere)."""
        rule = self.overrides.get(rule.name, rule)

        async def record(limiter: MovingWindowRateLimiter) -> None:
            for item in rule.limits:
                await limiter.hit(item, rule.name, key)

        await self._counted(record)

    async def exhausted(self, rule: Rule, key: str) -> bool:
        rule = self.overrides.get(rule.name, rule)

        async def exhausted(limiter: MovingWindowRateLimiter) -> bool:
            for item in rule.limits:
                if not await limiter.test(item, rule.name, key):
                    return True
            return False

        return await self._counted(exhausted)

    async def _limited(
        self, limiter: MovingWindowRateLimiter, rule: Rule, item: RateLimitItem, key: str
    ) -> ProblemError:
        stats = await limiter.get_window_stats(item, rule.name, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return ProblemError(
            429,
            "rate_limited",
            "Too many attempts. Try again later.",
            headers={
                "Retry-After": str(retry_after),
                "RateLimit-Limit": str(item.amount),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(retry_after),
                "RateLimit-Policy": f"{item.amount};w={item.get_expiry()}",
            },
            retry_after=retry_after,
        )

    async def reset(self) -> None:
        await self.local.storage.reset()
        if self.shared is not None:
            await self.shared.storage.reset()
