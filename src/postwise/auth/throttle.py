"""Rate limits on the expensive signed-in routes (search, imports, mailbox connections, live
sockets, the assistant, sending), per user and per client IP, through the sign-in's limiter.

A route takes `dependencies=[throttled(SEARCH)]` and declares 429 in its responses. The
limits are far above what a person does (docs/security.md, "Rate limits"); they are there so
one account, or one address with many accounts, cannot keep a worker, the database, a remote
model or someone else's mail server busy. An operator replaces any of them by rule name with
POSTWISE_RATE_LIMITS (e.g. many users behind one NAT, or a load test).

Lives in `auth` beside the limiter and the client address: every domain router may import it
(the import contract layers the mail domains, not auth).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Depends

from postwise.auth.deps import ClientDep, SignedIn
from postwise.auth.kit import AuthKitDep
from postwise.auth.ratelimit import RateLimiter, Rule, rule
from postwise.deps import ServicesDep
from postwise.kit.errors import ProblemError
from postwise.observability.metrics import Metrics


@dataclass(frozen=True)
class Throttle:
    """One action's limits: `<name>-user` keyed by the user id, `<name>-ip` by the client IP."""

    name: str
    per_user: Rule | None
    per_ip: Rule | None


def throttle(name: str, *, per_user: str | None = None, per_ip: str | None = None) -> Throttle:
    return Throttle(
        name=name,
        per_user=rule(f"{name}-user", per_user) if per_user else None,
        per_ip=rule(f"{name}-ip", per_ip) if per_ip else None,
    )


# The rule names are the keys of POSTWISE_RATE_LIMITS and the `rule` label of the metric.
SEARCH = throttle("search", per_user="120/minute;3000/hour", per_ip="600/minute")
# An mbox upload is an import job over up to 20 GiB; Thunderbird keeps one file per folder.
IMPORT = throttle("import", per_user="20/hour", per_ip="60/hour")
# Asked again, the demo answers its existing mailbox; the first time it queues ~150 messages.
DEMO = throttle("demo", per_user="10/hour", per_ip="60/hour")
# Per user, connection tests and look-ups have their own limits since they were added
# (accounts.service: 20/minute and 200/hour, 30/minute and 300/hour); these add the address.
ACCOUNT_CONNECT = throttle("account-connect", per_ip="60/minute;600/hour")
ACCOUNT_DISCOVER = throttle("account-discover", per_ip="150/minute;1500/hour")
# A socket costs a token check and a subscription; clients reconnect with backoff from 1 s.
# Per IP it is counted before the handshake, per user after the auth message. Every page load
# and every tab opens one: a user with a few tabs who reloads often must never see it.
LIVE_CONNECT = throttle("live-connect", per_user="120/minute", per_ip="600/minute")
# Summaries, analyses, reply drafts and provider tests: a model call each (remote: money, the
# daily budget aside; local: CPU). A summary is fetched as a thread opens, hence 2 a second.
AI = throttle("ai", per_user="120/minute;2000/hour", per_ip="600/minute")
# Each send is an SMTP delivery from the user's mailbox; providers cap far lower per day.
SEND = throttle("send", per_user="30/minute;500/hour", per_ip="120/minute")

THROTTLES = (SEARCH, IMPORT, DEMO, ACCOUNT_CONNECT, ACCOUNT_DISCOVER, LIVE_CONNECT, AI, SEND)


def rule_names() -> list[str]:
    """Every rule above, e.g. for a load test's POSTWISE_RATE_LIMITS."""
    return [r.name for t in THROTTLES for r in (t.per_user, t.per_ip) if r is not None]


async def check(
    limit: Throttle,
    limiter: RateLimiter,
    metrics: Metrics | None,
    *,
    user_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> None:
    """Count one attempt against the limits given a key; raise 429 `rate_limited` (with
    `Retry-After`) when one is spent. The user's limit first: attempts it refuses do not use
    up the address's, which other people behind the same NAT share."""
    checks = [(limit.per_user, None if user_id is None else str(user_id)), (limit.per_ip, ip)]
    for rule_, key in checks:
        if rule_ is None or key is None:
            continue
        try:
            await limiter.hit(rule_, key)
        except ProblemError:
            if metrics is not None:
                metrics.rate_limited.labels(rule=rule_.name).inc()
            raise


def throttled(limit: Throttle) -> Any:
    """`dependencies=[throttled(SEARCH)]`: the route answers 429 past `limit` (after the
    caller is authenticated, so unauthenticated requests are the 401 they always were)."""

    async def dependency(
        user: SignedIn, client: ClientDep, kit: AuthKitDep, services: ServicesDep
    ) -> None:
        await check(limit, kit.limiter, services.metrics, user_id=user.id, ip=client.ip)

    return Depends(dependency)
