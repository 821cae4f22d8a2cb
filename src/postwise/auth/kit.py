"""The auth machinery built once in the lifespan and injected into requests and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from postwise.auth.passwords import PasswordHasher
from postwise.auth.ratelimit import RateLimiter
from postwise.auth.tokens import TokenCodec
from postwise.config import Settings
from postwise.kit.crypto import Keyring
from postwise.store import Store


@dataclass(frozen=True)
class AuthKit:
    settings: Settings
    store: Store
    keyring: Keyring
    codec: TokenCodec
    hasher: PasswordHasher
    limiter: RateLimiter

    @property
    def access_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.access_token_ttl)

    @property
    def idle_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.refresh_idle_ttl)

    @property
    def absolute_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.refresh_absolute_ttl)

    def link(self, path: str, token: str) -> str:
        # Always from the configured public URL: a Host header is the caller's to choose.
        return f"{self.settings.public_url.rstrip('/')}{path}?token={token}"

    def page(self, path: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}{path}"


def build_auth_kit(settings: Settings, store: Store) -> AuthKit:
    keyring = Keyring(settings.secret(), settings.previous_secrets())
    return AuthKit(
        settings=settings,
        store=store,
        keyring=keyring,
        codec=TokenCodec(keyring),
        hasher=PasswordHasher(settings),
        limiter=RateLimiter(settings),
    )


async def get_auth_kit(request: Request) -> AuthKit:
    kit: AuthKit = request.state.auth
    return kit


AuthKitDep = Annotated[AuthKit, Depends(get_auth_kit)]
