"""Each family moves when its event happens: jobs (both brokers, by the backend pass), live
events, the assistant, and the mail sync against the Dovecot fixture."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import delete, update

from postwise import db as database
from postwise.accounts.credentials import seal_password
from postwise.accounts.models import MailAccount
from postwise.ai import pipeline
from postwise.ai.engine import Assistant
from postwise.ai.pool import TriagePool
from postwise.config import Settings
from postwise.events import EventType, announce
from postwise.kit.crypto import Keyring
from postwise.observability.metrics import AI_OUTCOMES, TOKEN_KINDS, Metrics, bind_store
from postwise.store import create_store
from postwise.users.models import User
from postwise.worker.broker import bind_context, build_broker, queued_jobs
from postwise.worker.queue import JobQueue
from postwise.worker.registry import JobContext, JobRegistry
from tests.fixtures.dovecot import Dovecot
from tests.fixtures.jobs import consume_jobs
from tests.fixtures.openai_standin import (  # noqa: F401 (fixtures)
    StandIn,
    openai_standin_fixture,
    openai_standin_server_fixture,
)
from tests.sync.conftest import add_mailbox, make_message, open_sync_context, wait_for

pytestmark = pytest.mark.backend


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


# --- jobs ------------------------------------------------------------------------------------


async def test_job_runs_failures_and_retries_are_measured(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    registry = JobRegistry()
    gate = asyncio.Event()

    @registry.job("test.ok")
    async def ok(ctx: JobContext) -> str:
        await gate.wait()
        return "done"

    @registry.job("test.flaky", retries=2)
    async def flaky(ctx: JobContext) -> None:
        raise RuntimeError("always fails")

    metrics = Metrics()
    broker = build_broker(settings, registry)
    jobs = JobQueue(broker)
    bind_context(
        broker,
        JobContext(
            settings=settings,
            store=None,  # type: ignore[arg-type]
            sessionmaker=None,  # type: ignore[arg-type]
            jobs=jobs,
            mailer=None,  # type: ignore[arg-type]
            metrics=metrics,
        ),
    )
    await broker.startup()
    try:
        if settings.redis_url:
            # Sent and not consumed yet: the backlog is read from the stream.
            await jobs.send("test.ok")
            await jobs.send("test.ok")
            assert await queued_jobs(broker) == 2
        else:
            assert await queued_jobs(broker) is None
        async with consume_jobs(broker):
            await jobs.send("test.flaky")
            await jobs.send("test.ok")
            await wait_for(
                lambda: _true(sample(metrics, "postwise_jobs_running", job_name="test.ok") >= 1)
            )
            gate.set()
        if settings.redis_url:
            assert await queued_jobs(broker) == 0
    finally:
        await broker.shutdown()
    runs_ok = 3 if settings.redis_url else 1
    assert sample(metrics, "postwise_job_duration_seconds_count", job_name="test.ok") == runs_ok
    assert sample(metrics, "postwise_job_failures_total", job_name="test.ok") == 0
    # Two attempts (max_retries=2): both failed, the second was a retry.
    assert sample(metrics, "postwise_job_duration_seconds_count", job_name="test.flaky") == 2
    assert sample(metrics, "postwise_job_failures_total", job_name="test.flaky") == 2
    assert sample(metrics, "postwise_job_retries_total", job_name="test.flaky") == 1
    assert sample(metrics, "postwise_jobs_running", job_name="test.ok") == 0
    assert sample(metrics, "postwise_jobs_running", job_name="test.flaky") == 0
    assert metrics.snapshot.local_jobs_queued in (None, 0)


async def _true(value: bool) -> bool:
    return value


# --- live events -----------------------------------------------------------------------------


async def test_announce_counts_by_event_type(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    store = create_store(settings.redis_url, prefix=settings.store_prefix)
    metrics = Metrics()
    try:
        user = uuid.uuid4()
        await announce(store, user, EventType.MESSAGE_CREATED, {"message_ids": [1]})
        # A Store no Metrics is bound to (tests, tools) announces uncounted.
        await announce(store, user, EventType.SYNC_STATUS, {})
        assert sample(metrics, "postwise_live_events_total", type="sync.status") == 0
        bind_store(store, metrics)
        await announce(store, user, EventType.MESSAGE_CREATED, {"message_ids": [2]})
        await announce(store, user, EventType.MESSAGE_CREATED, {"message_ids": [3]})
        await announce(store, user, EventType.FOLDER_COUNTS, {})
    finally:
        await store.close()
    assert sample(metrics, "postwise_live_events_total", type="message.created") == 2
    assert sample(metrics, "postwise_live_events_total", type="folder.counts") == 1
    types = {
        s.labels["type"]
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == "postwise_live_events_total"
    }
    assert types <= {e.value for e in EventType}


# --- the assistant ---------------------------------------------------------------------------


def _view(n: int) -> Any:
    from datetime import UTC, datetime

    from postwise.ai.mailview import MailView

    return MailView(
        subject=f"Contract {n}",
        from_name="Dana Lee",
        from_address="dana@example.com",
        text=f"Can we meet on Friday at noon to sign contract {n}?",
        to=("me@example.com",),
        sent_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        user_addresses=frozenset({"me@example.com"}),
    )


@pytest.mark.parametrize("remote", [True, False], ids=["openai", "local"])
async def test_triage_moves_the_ai_counters(
    make_settings: Callable[..., Settings], database_url: str, openai_standin: StandIn, remote: bool
) -> None:
    overrides: dict[str, Any] = {"ai_provider": "local"}
    if remote:
        overrides = {
            "ai_provider": "openai",
            "openai_base_url": openai_standin.url,
            "openai_api_key": "sk-instance",
            "openai_model": f"standin-{uuid.uuid4().hex[:8]}",
            "ai_max_retries": 0,
        }
    settings = make_settings(**overrides)
    engine = database.create_engine(settings, url=database_url)
    sessionmaker = database.create_sessionmaker(engine)
    metrics = Metrics()
    assistant = Assistant(
        settings, Keyring(settings.secret(), settings.previous_secrets()), metrics=metrics
    )
    async with sessionmaker() as db:
        user = User(email=f"ai-{uuid.uuid4().hex[:10]}@example.com", password_hash="x")
        db.add(user)
        await db.commit()
        user_id = user.id

    @asynccontextmanager
    async def sessions() -> AsyncIterator[Any]:
        async with sessionmaker() as db:
            yield db
            await db.commit()

    try:
        views = [_view(1), _view(2)]
        pool = TriagePool(0)
        await pipeline.answer(assistant, pool, user_id=user_id, views=views, sessions=sessions)
        # The same mail again: answered from the cache, no second call.
        await pipeline.answer(assistant, pool, user_id=user_id, views=views[:1], sessions=sessions)
    finally:
        await assistant.aclose()
        async with sessionmaker() as db:
            await db.execute(delete(User).where(User.id == user_id))
            await db.commit()
        await engine.dispose()

    assert sample(metrics, "postwise_ai_triaged_total") == 3
    if remote:
        assert (
            sample(
                metrics, "postwise_ai_calls_total", provider="openai", task="triage", outcome="ok"
            )
            == 2
        )
        assert sample(metrics, "postwise_ai_cache_misses_total", task="triage") == 2
        assert sample(metrics, "postwise_ai_cache_hits_total", task="triage") == 1
        assert sample(metrics, "postwise_ai_tokens_total", provider="openai", kind="prompt") > 0
        assert sample(metrics, "postwise_ai_tokens_total", provider="openai", kind="completion") > 0
    else:
        assert (
            sample(
                metrics, "postwise_ai_calls_total", provider="local", task="triage", outcome="ok"
            )
            == 3
        )
        assert sample(metrics, "postwise_ai_tokens_total", provider="local", kind="prompt") == 0
    for family in metrics.registry.collect():
        for s in family.samples:
            if s.name == "postwise_ai_calls_total":
                assert s.labels["provider"] in ("local", "openai")
                assert s.labels["outcome"] in AI_OUTCOMES
            if s.name == "postwise_ai_tokens_total":
                assert s.labels["kind"] in TOKEN_KINDS


# --- the mail sync -----------------------------------------------------------------------------


async def test_sync_against_dovecot_moves_the_sync_families(
    settings: Settings, dovecot: Dovecot
) -> None:
    metrics = Metrics()
    async with open_sync_context(settings) as plain:
        ctx = replace(plain, metrics=metrics)
        mailbox = await add_mailbox(ctx, dovecot)
        for n in range(3):
            mailbox.append(make_message(n)[0])

        def messages() -> float:
            return sample(metrics, "postwise_sync_messages_total")

        async with mailbox.syncing():
            await wait_for(lambda: _true(messages() == 3))
            # The initial mirror is not "new mail": no lag is recorded for it.
            assert sample(metrics, "postwise_sync_lag_seconds_count") == 0
            assert sample(metrics, "postwise_sync_batch_duration_seconds_count") >= 1
            await wait_for(lambda: _true(sample(metrics, "postwise_sync_idle_connections") == 1))
            mailbox.append(make_message(3)[0])
            await wait_for(lambda: _true(messages() == 4))
            assert sample(metrics, "postwise_sync_lag_seconds_count") == 1
        assert sample(metrics, "postwise_sync_idle_connections") == 0

        # A mailbox that cannot sign in: counted by the code the account records.
        broken = await add_mailbox(ctx, dovecot)
        async with ctx.sessionmaker() as db:
            wrong = seal_password(Keyring(settings.secret()), "not-the-password")
            await db.execute(
                update(MailAccount)
                .where(MailAccount.id == broken.account_id)
                .values(credentials=wrong)
            )
            await db.commit()
        async with broken.syncing():
            await wait_for(lambda: _has_code(broken))
        code = (await broken.account()).last_error_code
        assert code is not None
        assert sample(metrics, "postwise_sync_errors_total", code=code) >= 1


async def _has_code(mailbox: Any) -> bool:
    return (await mailbox.account()).last_error_code is not None
