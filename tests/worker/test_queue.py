"""Jobs leave only after the transaction commits, are dropped on rollback; schedules fire once."""

from __future__ import annotations

import json

import httpx
import pytest
from asgi_lifespan import LifespanManager
from taskiq import InMemoryBroker
from taskiq.exceptions import ScheduledTaskCancelledError
from taskiq.scheduler.scheduled_task import ScheduledTask

from postwise import db
from postwise.app import create_app
from postwise.instance.service import get_setting, set_setting
from postwise.notify.mailer import build_mailer
from postwise.store import MemoryStore
from postwise.worker.broker import SharedScheduleSource, bind_context, build_broker
from postwise.worker.queue import JobQueue, enqueue_job, transaction
from postwise.worker.registry import JobContext, load_jobs
from postwise.worker.tasks import HEARTBEAT_PREFIX, process_id
from tests.routes import router

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def harness(make_settings):
    settings = make_settings(redis_url=None)
    engine = db.create_engine(settings)
    sessionmaker = db.create_sessionmaker(engine)
    store = MemoryStore()
    broker = build_broker(settings, load_jobs())
    assert isinstance(broker, InMemoryBroker)
    jobs = JobQueue(broker)
    bind_context(
        broker,
        JobContext(
            settings=settings,
            store=store,
            sessionmaker=sessionmaker,
            jobs=jobs,
            mailer=build_mailer(settings, store),
        ),
    )
    await broker.startup()
    yield sessionmaker, jobs, broker, store
    await broker.shutdown()
    await engine.dispose()


async def _heartbeat_origin(store: MemoryStore) -> str | None:
    raw = await store.get(f"{HEARTBEAT_PREFIX}{process_id()}")
    return None if raw is None else json.loads(raw)["origin"]


@pytest.mark.backend
async def test_job_runs_only_after_commit(harness) -> None:
    sessionmaker, jobs, broker, store = harness
    async with transaction(sessionmaker, jobs) as session:
        await set_setting(session, "committed-key", 1)
        enqueue_job(session, "system.heartbeat", origin="after-commit")
        await broker.wait_all()
        assert await _heartbeat_origin(store) is None
    await broker.wait_all()
    assert await _heartbeat_origin(store) == "after-commit"
    async with sessionmaker() as session:
        assert await get_setting(session, "committed-key") == 1


@pytest.mark.backend
async def test_rollback_drops_the_job_and_the_rows(harness) -> None:
    sessionmaker, jobs, broker, store = harness
    with pytest.raises(RuntimeError):
        async with transaction(sessionmaker, jobs) as session:
            await set_setting(session, "rolled-back-key", 1)
            enqueue_job(session, "system.heartbeat", origin="never")
            raise RuntimeError("request failed")
    await broker.wait_all()
    assert await _heartbeat_origin(store) is None
    async with sessionmaker() as session:
        assert await get_setting(session, "rolled-back-key") is None


@pytest.mark.backend
async def test_unknown_job_is_refused(harness) -> None:
    _, jobs, _, _ = harness
    with pytest.raises(LookupError):
        await jobs.send("no.such.job")


@pytest.mark.backend
async def test_request_owns_the_transaction_and_its_jobs(make_settings) -> None:
    app = create_app(make_settings(redis_url=None))
    app.include_router(router)
    async with LifespanManager(app) as manager:
        services = manager._state["services"]
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            ok = await http.post("/api/test/settings/api-ok")
            failed = await http.post("/api/test/settings/api-failed", params={"fail": "true"})
        await services.jobs.broker.wait_all()
        assert ok.status_code == 200
        assert failed.status_code == 500
        runner = await services.store.get(f"{HEARTBEAT_PREFIX}{process_id()}")
        assert runner is not None and json.loads(runner)["origin"] == "api-ok"
        async with services.sessionmaker() as session:
            assert await get_setting(session, "api-ok") == {"written": True}
            assert await get_setting(session, "api-failed") is None


async def test_a_schedule_slot_fires_once_across_workers() -> None:
    store = MemoryStore()
    broker = InMemoryBroker()
    first, second = SharedScheduleSource(broker, store), SharedScheduleSource(broker, store)
    task = ScheduledTask(
        task_name="system.heartbeat", labels={}, args=[], kwargs={}, schedule_id="hb", interval=60
    )
    await first.pre_send(task)
    with pytest.raises(ScheduledTaskCancelledError):
        await second.pre_send(task)
