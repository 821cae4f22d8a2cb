"""The notify.send_email job end to end: in-memory broker, real SMTP server, taskiq retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from taskiq import AsyncBroker, InMemoryBroker

from postwise import db
from postwise.config import Settings
from postwise.notify import tasks
from postwise.notify.mailer import Mailer, SmtpMailer
from postwise.store import MemoryStore
from postwise.worker.broker import bind_context, build_broker
from postwise.worker.queue import JobQueue
from postwise.worker.registry import JobContext, JobRegistry, registry
from tests.fixtures.smtp import RECIPIENT_REJECTED, SmtpServer

TOKEN = "tok_c2VjcmV0LXZlcmlmeQ"
LINK = f"https://mail.example.com/verify-email/?token={TOKEN}"
CONTEXT: dict[str, object] = {"name": "Ada", "link": LINK, "expires_hours": 24}

Jobs = Callable[[Settings, Mailer], AbstractAsyncContextManager[JobQueue]]


@pytest.fixture
def running_jobs() -> Jobs:
    """A broker with the real notify.send_email registration, sending through `mailer`."""

    @asynccontextmanager
    async def run(settings: Settings, mailer: Mailer) -> AsyncIterator[JobQueue]:
        only_notify = JobRegistry(jobs={"notify.send_email": registry.jobs["notify.send_email"]})
        broker = build_broker(settings.model_copy(update={"redis_url": None}), only_notify)
        engine = db.create_engine(settings)
        jobs = JobQueue(broker)
        context = JobContext(
            settings=settings,
            store=MemoryStore(),
            sessionmaker=db.create_sessionmaker(engine),
            jobs=jobs,
            mailer=mailer,
        )
        bind_context(broker, context)
        await broker.startup()
        try:
            yield jobs
        finally:
            await drain(broker)
            await broker.shutdown()
            await engine.dispose()

    return run


async def drain(broker: AsyncBroker) -> None:
    # A retry is kicked while the failed run finishes, so one wait_all() can miss it.
    assert isinstance(broker, InMemoryBroker)
    for _ in range(5):
        await broker.wait_all()


def test_job_is_registered_with_retries() -> None:
    spec = registry.jobs["notify.send_email"]
    assert spec.func is tasks.send_email
    assert spec.retries == 3


@pytest.mark.backend
async def test_renders_and_sends(
    smtp_server: SmtpServer, smtp_settings, running_jobs, logs
) -> None:
    settings = smtp_settings(smtp_server.port)
    async with running_jobs(settings, SmtpMailer(settings)) as jobs:
        await jobs.send(
            "notify.send_email", template="verify_email", to="ada@example.com", context=CONTEXT
        )
        [received] = await smtp_server.wait_for(1)
    assert received["To"] == "ada@example.com"
    assert received["Subject"] == "Confirm your email address for Postwise"
    text = received.get_body(preferencelist=("plain",))
    assert text is not None and LINK in text.get_content()

    [event] = [e for e in logs.events() if e["event"] == "mail_sent"]
    assert (event["template"], event["to"]) == ("verify_email", "ada@example.com")
    assert TOKEN not in logs.rendered()


@pytest.mark.backend
async def test_a_transient_failure_is_retried_by_the_queue(
    make_smtp_server, smtp_settings, running_jobs
) -> None:
    # No in-mailer retries: each of the three job runs makes exactly one attempt.
    server: SmtpServer = make_smtp_server(temporary_failures=2)
    settings = smtp_settings(server.port)
    async with running_jobs(settings, SmtpMailer(settings, retry_delays=())) as jobs:
        await jobs.send(
            "notify.send_email", template="verify_email", to="ada@example.com", context=CONTEXT
        )
        await server.wait_for(1)
    assert server.data_attempts == 3
    assert len(server.deliveries) == 1


@pytest.mark.backend
async def test_a_permanent_failure_is_logged_and_not_retried(
    make_smtp_server, smtp_settings, running_jobs, logs
) -> None:
    server: SmtpServer = make_smtp_server(reject_recipients=RECIPIENT_REJECTED)
    settings = smtp_settings(server.port)
    async with running_jobs(settings, SmtpMailer(settings)) as jobs:
        await jobs.send(
            "notify.send_email", template="verify_email", to="gone@example.com", context=CONTEXT
        )
        await drain(jobs.broker)
    assert server.rcpt_attempts == 1
    [event] = [e for e in logs.events() if e["event"] == "mail_not_delivered"]
    assert (event["template"], event["to"]) == ("verify_email", "gone@example.com")
    assert event["level"] == "error"
    rendered = logs.rendered()
    assert TOKEN not in rendered and "Ada" not in rendered


@pytest.mark.backend
async def test_an_unknown_template_is_logged_and_not_sent(
    smtp_server: SmtpServer, smtp_settings, running_jobs, logs
) -> None:
    settings = smtp_settings(smtp_server.port)
    async with running_jobs(settings, SmtpMailer(settings)) as jobs:
        await jobs.send("notify.send_email", template="nope", to="ada@example.com", context={})
        await drain(jobs.broker)
    assert smtp_server.rcpt_attempts == 0
    assert [e["template"] for e in logs.events() if e["event"] == "mail_template_failed"] == [
        "nope"
    ]
