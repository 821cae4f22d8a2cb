"""GET/DELETE /api/dev/outbox: the kept mail in dev, a 404 problem anywhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager

from postwise.app import create_app
from postwise.config import Settings
from postwise.deps import Services
from postwise.notify.outbox import DevOutbox
from postwise.notify.templates import render_email
from tests.kit.test_errors import assert_problem
from tests.notify.test_send_email_job import drain

pytestmark = pytest.mark.backend

TOKEN = "tok_cmVzZXQtbWUtcGxlYXNl"
LINK = f"https://mail.example.com/reset-password/?token={TOKEN}"
CONTEXT: dict[str, object] = {"name": "Ada", "link": LINK, "expires_minutes": 60}


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        services: Services = manager._state["services"]
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http, services


async def test_dev_outbox_lists_mail_sent_by_the_job_and_clears(make_settings) -> None:
    # The embedded setup (`make run`): in-process jobs, so the API process runs the job itself.
    # The outbox on Redis is covered by test_outbox.py.
    settings = make_settings(env="dev", migrate_on_start=False, redis_url=None)
    async with running_app(settings) as (http, services):
        assert (await http.delete("/api/dev/outbox")).status_code == 204
        for to in ("first@example.com", "second@example.com"):
            await services.jobs.send(
                "notify.send_email",
                template="password_reset",
                to=to,
                context=CONTEXT,
            )
            await drain(services.jobs.broker)

        response = await http.get("/api/dev/outbox")
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [item["to"] for item in items] == ["second@example.com", "first@example.com"]
        item = items[0]
        assert set(item) == {"id", "to", "subject", "text", "html", "created_at", "links"}
        assert item["subject"] == "Reset your Postwise password"
        assert item["links"] == [LINK]
        assert LINK in item["text"] and "<!DOCTYPE html>" in item["html"]

        assert (await http.delete("/api/dev/outbox")).status_code == 204
        assert (await http.get("/api/dev/outbox")).json() == {"items": []}


@pytest.mark.parametrize("env", ["production", "test"])
async def test_outbox_is_a_404_problem_outside_dev(make_settings, env: str) -> None:
    async with running_app(make_settings(env=env)) as (http, services):
        box = DevOutbox(services.store)
        kept = await box.keep(render_email("password_reset", to="ada@example.com", context=CONTEXT))
        try:
            assert_problem(await http.get("/api/dev/outbox"), 404, "not_found")
            assert_problem(await http.delete("/api/dev/outbox"), 404, "not_found")
            assert kept.id in {item.id for item in await box.items()}
        finally:
            await box.clear()


async def test_outbox_is_in_the_api_schema(make_settings) -> None:
    async with running_app(make_settings(env="dev", migrate_on_start=False)) as (http, _):
        schema = (await http.get("/api/openapi.json")).json()
    operations = schema["paths"]["/api/dev/outbox"]
    assert operations["get"]["operationId"] == "dev-list_outbox"
    assert operations["delete"]["operationId"] == "dev-clear_outbox"
    assert operations["get"]["tags"] == ["dev"]
    item = schema["components"]["schemas"]["OutboxItem"]
    assert set(item["required"]) >= {"id", "to", "subject", "text", "html", "created_at"}
