"""A circuit breaker per remote server and model: after N failures in a row the local provider
answers without trying, for M seconds; then one request probes the server, and its outcome
closes the circuit or opens it again.

Hand-written (about forty lines) rather than a library: the ones on PyPI (pybreaker, aiobreaker)
wrap the call itself and count every exception, while here only an unavailable server counts
(a bad key or a bad answer says nothing about whether the server is up). It is per process, on
purpose: what it protects is this process's wait on a server that does not answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass
class CircuitBreaker:
    failures_to_open: int
    open_seconds: float
    clock: Callable[[], float] = time.monotonic
    _failures: int = 0
    _opened_at: float | None = None
    # While half open, until when the one probe in flight holds the slot (a probe whose
    # caller vanished frees it after open_seconds).
    _probe_until: float | None = field(default=None)

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self.clock() - self._opened_at < self.open_seconds:
            return "open"
        return "half_open"

    def allow(self) -> bool:
        """Whether a request may go to the server now; in half-open state, only the probe."""
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        now = self.clock()
        if self._probe_until is not None and now < self._probe_until:
            return False
        self._probe_until = now + self.open_seconds
        return True

    def release(self) -> None:
        """An allowed request ended without telling anything (cancelled): free the probe."""
        self._probe_until = None

    def record(self, *, ok: bool) -> None:
        """The outcome of an allowed request: ok when the server answered at all."""
        self._probe_until = None
        if ok:
            self._failures = 0
            self._opened_at = None
            return
        self._failures += 1
        if self._opened_at is not None or self._failures >= self.failures_to_open:
            # A failed probe opens the circuit for another full period.
            self._opened_at = self.clock()


@dataclass
class Breakers:
    """One breaker per (base URL, model), made on first use."""

    failures_to_open: int
    open_seconds: float
    clock: Callable[[], float] = time.monotonic
    _breakers: dict[tuple[str, str], CircuitBreaker] = field(default_factory=dict)

    def get(self, base_url: str, model: str) -> CircuitBreaker:
        key = (base_url, model)
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = CircuitBreaker(self.failures_to_open, self.open_seconds, self.clock)
            self._breakers[key] = breaker
        return breaker
