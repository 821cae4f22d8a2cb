"""The auth suite's harness: a real app, a real SMTP server, and every secret it handles.

Every password, token and TOTP secret a test sees is remembered, and the last test of the
suite (test_zz_no_secrets_in_logs.py) checks that none of them reached a log line.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from postwise.app import create_app
from postwise.auth.cookies import DEVICE_COOKIE, REFRESH_COOKIE
from postwise.config import Settings
from tests.conftest import serve
from tests.fixtures.smtp import SmtpServer, make_smtp_server, smtp_server

__all__ = ["make_smtp_server", "smtp_server"]

PASSWORD = "correct-Horse-battery-staple-93"
OTHER_PASSWORD = "violet-Lantern-harbour-quietly-58"
PUBLIC_URL = "http://mail.example.test"
API = {"X-Postwise-Client": "api"}
SEEN_SECRETS: set[str] = set()


@pytest.fixture(scope="session")
def auth_log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth-logs") / "auth.log"


def remember(*values: str | None) -> None:
    SEEN_SECRETS.update(value for value in values if value and len(value) >= 6)


# What the app hands out in answers, remembered for every request a test makes: rotated
# refresh tokens, TOTP secrets, recovery codes, invite tokens and the cookies.
_SECRET_FIELDS = ("access_token", "refresh_token", "mfa_token", "secret", "token", "recovery_codes")


async def _remember_answer(response: httpx.Response) -> None:
    remember(response.cookies.get(REFRESH_COOKIE), response.cookies.get(DEVICE_COOKIE))
    if "json" not in response.headers.get("content-type", ""):
        return
    await response.aread()
    body = response.json()
    if not isinstance(body, dict):
        return
    if isinstance(body.get("session"), dict):
        body = {**body, **body["session"]}  # the tokens a first user gets at sign-up
    for field in _SECRET_FIELDS:
        values = body.get(field)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str):
                remember(value)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Harness:
    def __init__(self, http: httpx.AsyncClient, smtp: SmtpServer, settings: Settings) -> None:
        self.http = http
        self.smtp = smtp
        self.settings = settings
        self._read: dict[str, int] = {}

    async def mail_to(self, address: str, wait: float = 10) -> EmailMessage:
        """The next message to `address` that this test has not looked at yet."""
        seen = self._read.get(address, 0)
        wanted = seen + 1
        mine: list[EmailMessage] = []
        deadline_loops = int(wait / 0.02)
        for _ in range(deadline_loops):
            mine = [m for m in self.smtp.messages if m["To"] == address]
            if len(mine) >= wanted:
                break
            await _sleep()
        assert len(mine) >= wanted, f"no new mail to {address} (had {seen})"
        self._read[address] = wanted
        return mine[wanted - 1]

    def no_new_mail(self, address: str) -> bool:
        return len([m for m in self.smtp.messages if m["To"] == address]) == self._read.get(
            address, 0
        )

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def link(self, message: EmailMessage) -> str:
        links = re.findall(r"https?://\S+", self.text(message))
        ours = [link for link in links if "token=" in link]
        assert ours, self.text(message)
        return ours[0]

    def token(self, message: EmailMessage) -> str:
        token = parse_qs(urlsplit(self.link(message)).query)["token"][0]
        remember(token)
        return token

    async def register(self, email: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
        remember(password)
        body = {"email": email, "password": password, "name": extra.pop("name", "Ada Lovelace")}
        body.update(extra)
        return await self.http.post("/api/auth/register", json=body)

    async def signup(self, email: str, password: str = PASSWORD, **extra: Any) -> None:
        response = await self.register(email, password, **extra)
        assert response.status_code == 202, response.text
        token = self.token(await self.mail_to(email.strip().lower()))
        verified = await self.http.post("/api/auth/verify-email", json={"token": token})
        assert verified.status_code == 200, verified.text

    async def login(
        self, email: str, password: str = PASSWORD, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        remember(password)
        response = await self.http.post(
            "/api/auth/login", json={"email": email, "password": password}, headers=headers or API
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        remember(body.get("access_token"), body.get("refresh_token"), body.get("mfa_token"))
        return body

    async def me(self, access_token: str) -> httpx.Response:
        return await self.http.get("/api/users/me", headers=bearer(access_token))


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.02)


@pytest.fixture(autouse=True)
def _empty_instance(empty_database: None) -> None:
    """Every auth test starts on an empty instance (the first user becomes admin)."""


@pytest.fixture
def auth_settings(make_settings, smtp_server: SmtpServer, auth_log_file: Path):
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "public_url": PUBLIC_URL,
            "log_file": auth_log_file,
            "log_level": "INFO",
        }
        values.update(overrides)
        return make_settings(**values)  # type: ignore[no-any-return]

    return make


@pytest.fixture
def make_harness(auth_settings, smtp_server: SmtpServer):
    """Start the app with extra settings: `async with make_harness(**overrides) as h:`."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def make(**overrides: object) -> AsyncIterator[Harness]:
        settings = auth_settings(**overrides)
        hooks = {"response": [_remember_answer]}
        async with serve(create_app(settings), event_hooks=hooks) as http:
            yield Harness(http, smtp_server, settings)

    return make


@pytest.fixture
async def h(make_harness) -> AsyncIterator[Harness]:
    async with make_harness() as harness:
        yield harness


@pytest.fixture
async def app_db(h: Harness):
    """Sessions on the test's database, for arranging what the API cannot (expiry, old hashes)."""
    from postwise import db

    engine = db.create_engine(h.settings)
    yield db.create_sessionmaker(engine)
    await engine.dispose()
