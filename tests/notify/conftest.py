"""Notify fixtures: a real SMTP server, the store under test and captured log lines."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from postwise.config import Settings
from postwise.notify.outbox import DevOutbox
from postwise.observability.logging import configure_logging
from postwise.store import Store, create_store
from tests.fixtures.smtp import make_smtp_server, smtp_server

__all__ = ["make_smtp_server", "smtp_server"]

SENDER = "Postwise <noreply@postwise.example>"


@pytest.fixture
def smtp_settings(make_settings):
    """Settings pointing at a test SMTP server (plain connection, as on loopback)."""

    def make(port: int, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_timeout": 5,
            "mail_from": SENDER,
        }
        values.update(overrides)
        return make_settings(**values)

    return make


@pytest.fixture
async def store(store_url: str | None) -> AsyncIterator[Store]:
    """The store of the backend under test (Redis on the production pass), outbox emptied,
    under a prefix of its own: the default one is shared by every process on that Redis."""
    store = create_store(store_url, prefix=f"test-{uuid.uuid4().hex[:10]}:")
    await DevOutbox(store).clear()
    yield store
    await DevOutbox(store).clear()
    await store.close()


class LogLines:
    """Records of the stdlib root logger, as the configured handlers render them."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog

    @property
    def records(self) -> list[logging.LogRecord]:
        return self._caplog.records

    def events(self) -> list[dict[str, object]]:
        return [record.msg for record in self.records if isinstance(record.msg, dict)]

    def rendered(self) -> str:
        formatter = logging.getLogger().handlers[0].formatter
        assert formatter is not None
        return "\n".join(formatter.format(record) for record in self.records)


@pytest.fixture
def logs(make_settings, caplog: pytest.LogCaptureFixture) -> Iterator[LogLines]:
    """Log lines exactly as production writes them (JSON), captured for assertions."""
    configure_logging(make_settings(log_format="json"))
    root = logging.getLogger()
    # configure_logging replaced the root handlers, caplog's among them.
    root.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    yield LogLines(caplog)
    root.removeHandler(caplog.handler)
