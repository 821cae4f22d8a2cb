"""The accounts suite's harness: the real app with its lifespan state, signed-in users, Dovecot
and an SMTP server to connect mailboxes to.

Discovery never leaves the machine here: autoconfig has no URLs and DNS points at a closed
local port, unless a test sets its own servers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from postwise.app import create_app
from postwise.auth.kit import AuthKit
from postwise.config import Settings
from postwise.db import utcnow
from postwise.deps import Services
from postwise.sync.control import WAKE_CHANNEL
from postwise.users.models import User
from postwise.users.service import delete_user
from tests.accounts.servers import closed_port
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.jobs import JobLedger, consume_jobs
from tests.fixtures.smtp import SmtpServer, make_smtp_server, smtp_server

__all__ = ["make_smtp_server", "smtp_server"]

USER_PASSWORD = "Quiet-Harbour-lantern-2291"
API = {"X-Postwise-Client": "api"}


class Wakes:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def expect(self, account_id: str) -> None:
        """Waits for the wake-up of `account_id` (jobs leave after the commit, asynchronously)."""
        await wait_until(lambda: account_id in self.seen, timeout=10)


class Harness:
    def __init__(self, http: httpx.AsyncClient, state: dict[str, Any], jobs: JobLedger) -> None:
        self.http = http
        self.jobs = jobs
        self.services: Services = state["services"]
        self.auth: AuthKit = state["auth"]
        self.user_ids: list[uuid.UUID] = []

    @property
    def settings(self) -> Settings:
        return self.services.settings

    async def sign_in(self) -> dict[str, str]:
        """A new verified user, signed in through /api/auth/login; returns its auth header."""
        email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
        async with self.services.sessionmaker() as db:
            user = User(
                email=email,
                name="Mailbox Owner",
                password_hash=await self.auth.hasher.hash(USER_PASSWORD),
                email_verified_at=utcnow(),
            )
            db.add(user)
            await db.commit()
            self.user_ids.append(user.id)
        response = await self.http.post(
            "/api/auth/login", json={"email": email, "password": USER_PASSWORD}, headers=API
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def user_id(self, headers: dict[str, str]) -> uuid.UUID:
        response = await self.http.get("/api/users/me", headers=headers)
        return uuid.UUID(response.json()["id"])

    @asynccontextmanager
    async def wakes(self) -> AsyncIterator[Wakes]:
        """Records the account ids the sync engine is woken for while the block runs."""
        wakes = Wakes()
        async with self.services.store.subscribe(WAKE_CHANNEL) as messages:

            async def collect() -> None:
                async for message in messages:
                    wakes.seen.append(message.data)

            reader = asyncio.create_task(collect())
            try:
                yield wakes
            finally:
                reader.cancel()
                await asyncio.wait({reader}, timeout=5)

    async def cleanup(self) -> None:
        # Accounts go with their users (ON DELETE CASCADE); no other suite sees them later.
        # Through the product's deletion, which locks the mailboxes first: a sync engine the
        # test runs may still be writing them.
        for user_id in self.user_ids:
            async with self.services.sessionmaker() as db:
                await delete_user(db, user_id=user_id)
                await db.commit()


async def wait_until(
    condition: Callable[[], bool],
    timeout: float = 5,  # noqa: ASYNC109 (a number reads better than a context manager here)
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Harness]:
    """The app with its lifespan (as tests.conftest.serve) and a job consumer for Redis."""
    app = create_app(settings)
    async with LifespanManager(app, shutdown_timeout=20) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        harness: Harness | None = None
        try:
            # Every job the test started (an import) ends before its rows are deleted: on
            # PostgreSQL a job still writing them deadlocked the deletion.
            async with (
                consume_jobs(manager._state["services"].jobs.broker) as jobs,
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
            ):
                harness = Harness(http, manager._state, jobs)
                yield harness
        finally:
            if harness is not None:
                await harness.cleanup()


@pytest.fixture
def accounts_settings(make_settings):
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            # Not less: Dovecot answers a login that follows a failed one for the same user and
            # address about 4.5 s late (its auth penalty, measured), and several tests try a
            # wrong password first; under a loaded machine 5 s was too close and failed.
            "mail_connect_timeout": 15,
            "discovery_timeout": 2,
            "autoconfig_urls": [],
            "dns_nameservers": [f"127.0.0.1:{closed_port()}"],
        }
        values.update(overrides)
        return make_settings(**values)  # type: ignore[no-any-return]

    return make


@pytest.fixture
def make_harness(accounts_settings):
    """`async with make_harness(**setting_overrides) as h:` for tests that need other settings."""

    def make(**overrides: object):  # type: ignore[no-untyped-def]
        return running(accounts_settings(**overrides))

    return make


@pytest.fixture
async def h(make_harness) -> AsyncIterator[Harness]:
    async with make_harness() as harness:
        yield harness


@pytest.fixture
def mailbox(dovecot: Dovecot) -> tuple[str, str]:
    """A Dovecot mailbox of this test alone: (address, password)."""
    return dovecot.add_user()


def account_body(
    dovecot: Dovecot, smtp: SmtpServer, mailbox: tuple[str, str], **overrides: object
) -> dict[str, object]:
    """A POST /api/accounts body for `mailbox` on plain IMAP and plain SMTP (loopback)."""
    address, password = mailbox
    body: dict[str, object] = {
        "email": address,
        "password": password,
        "imap_host": dovecot.host,
        "imap_port": dovecot.imap_port,
        "imap_security": "none",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
    }
    body.update(overrides)
    return body
