"""The auth machinery built once in the lifespan and injected into requests and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import Depends, Request

from postwise.auth.passwords import PasswordHasher
from postwise.auth.ratelimit import RateLimiter
from postwise.auth.tokens import TokenCodec
from postwise.config import Settings
from postwise.kit.crypto import Keyring
from postwise.observability.metrics import Metrics
from postwise.store import MemoryStore, Store, StoreUnavailableError

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AuthKit:
    settings: Settings
    store: Store
    keyring: Keyring
    codec: TokenCodec
    hasher: PasswordHasher
    limiter: RateLimiter
    # Single-use marks while the Store cannot answer (see claim_once).
    local_marks: MemoryStore = field(default_factory=MemoryStore)
    # Prometheus (sign-ins by outcome, lockouts, refresh-token reuse); None: not measured.
    metrics: Metrics | None = None

    def count_login(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.login(outcome)

    @property
    def access_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.access_token_ttl)

    @property
    def idle_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.refresh_idle_ttl)

    @property
    def absolute_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.refresh_absolute_ttl)

    async def claim_once(self, key: str, *, ttl: float) -> bool:
        """Mark `key` used; False when it already was. Shared by every process through the
        Store; while that is down, by this process only (docs/security.md, "When Redis is
        down"): the marks this guards are defence in depth, so refusing every use would cost
        more than a mark another process cannot see."""
        try:
            claimed = await self.store.set(key, "1", ttl=ttl, only_if_absent=True)
        except StoreUnavailableError as error:
            log.warning("single_use_marked_locally", error=str(error))
            return await self.local_marks.set(key, "1", ttl=ttl, only_if_absent=True)
        # A mark made here while the Store was down still counts once it is back.
        return claimed and await self.local_marks.get(key) is None

    def link(self, path: str, token: str) -> str:
        # Always from the configured public URL: a Host header is the caller's to choose.
        return f"{self.settings.public_url.rstrip('/')}{path}?token={token}"

    def page(self, path: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}{path}"


def build_auth_kit(settings: Settings, store: Store, metrics: Metrics | None = None) -> AuthKit:
    keyring = Keyring(settings.secret(), settings.previous_secrets())
    return AuthKit(
        settings=settings,
        store=store,
        keyring=keyring,
        codec=TokenCodec(keyring),
        hasher=PasswordHasher(settings),
        limiter=RateLimiter(settings),
        metrics=metrics,
    )


async def get_auth_kit(request: Request) -> AuthKit:
    kit: AuthKit = request.state.auth
    return kit


AuthKitDep = Annotated[AuthKit, Depends(get_auth_kit)]
