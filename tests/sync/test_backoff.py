"""Reconnect backoff: exponential, capped, and spread by jitter so that the mailboxes of a
server that comes back do not all reconnect in the same second."""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pytest

from postwise.sync.mailbox import BACKOFF_FIRST_S, BACKOFF_MAX_S, reconnect_delay


@pytest.mark.parametrize(
    ("failures", "ceiling"),
    [(0, 1.0), (1, 2.0), (3, 8.0), (8, 256.0), (9, BACKOFF_MAX_S), (10_000, BACKOFF_MAX_S)],
)
def test_a_delay_stays_between_half_a_second_and_the_exponential_ceiling(
    failures: int, ceiling: float
) -> None:
    rng = random.Random(failures)
    delays = [reconnect_delay(failures, rng=rng) for _ in range(5000)]
    floor = BACKOFF_FIRST_S / 2
    assert floor <= min(delays) and max(delays) <= ceiling
    # Spread over the whole range, not bunched: a uniform draw has mean and deviation of
    # (floor + ceiling) / 2 and (ceiling - floor) / sqrt(12).
    width = ceiling - floor
    assert min(delays) < floor + width * 0.01 and max(delays) > ceiling - width * 0.01
    assert statistics.mean(delays) == pytest.approx((floor + ceiling) / 2, rel=0.05)
    assert statistics.pstdev(delays) == pytest.approx(width / 12**0.5, rel=0.05)


def test_the_mailboxes_of_a_server_that_came_back_reconnect_spread_out() -> None:
    """500 mailboxes lose the server at the same instant and retry until it is back: their
    retries after the fifth failure land in many different seconds, not one."""
    rng = random.Random(7)
    reconnects = []
    for _ in range(500):
        waited = sum(reconnect_delay(failures, rng=rng) for failures in range(6))
        reconnects.append(int(waited))
    busiest = Counter(reconnects).most_common(1)[0][1]
    assert busiest <= 500 * 0.1, f"{busiest} of 500 mailboxes reconnected in the same second"
    assert len(set(reconnects)) >= 20
