"""SIGTERM lets a real `postwise worker` finish the job it is running, and acknowledge it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from postwise import db as database
from postwise.imports.demo import demo_account
from postwise.imports.router import DEMO_JOB, _demo_lock
from postwise.mail.models import Message
from postwise.store import create_store
from postwise.users.models import User
from postwise.worker.broker import CONSUMER_GROUP, build_broker
from postwise.worker.queue import JobQueue
from postwise.worker.registry import load_jobs
from tests import services
from tests.worker.test_worker_process import _worker_env, stop_worker

pytestmark = pytest.mark.backend


async def _demo_mailbox(settings) -> uuid.UUID:
    engine = database.create_engine(settings, url=settings.effective_database_url)
    try:
        async with database.create_sessionmaker(engine)() as db:
            user = User(
                email=f"drain-{uuid.uuid4().hex[:10]}@example.com",
                name="Drain",
                password_hash="unused",
                email_verified_at=database.utcnow(),
            )
            db.add(user)
            await db.flush()
            account = await demo_account(db, user_id=user.id, reset=False)
            await db.commit()
            return account.id
    finally:
        await engine.dispose()


async def _messages(settings, account_id: uuid.UUID) -> int:
    engine = database.create_engine(settings, url=settings.effective_database_url)
    try:
        async with database.create_sessionmaker(engine)() as db:
            count = await db.scalar(
                select(func.count(Message.id)).where(Message.account_id == account_id)
            )
            return int(count or 0)
    finally:
        await engine.dispose()


async def test_sigterm_lets_the_running_job_finish_and_acknowledges_it(
    make_settings, tmp_path: Path
) -> None:
    redis_url = services.require_redis()
    settings = make_settings(redis_url=redis_url)
    account_id = await _demo_mailbox(settings)
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "postwise", "worker"],
            env=_worker_env(settings, tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    broker = build_broker(settings, load_jobs())
    store = create_store(redis_url, prefix=settings.store_prefix)
    raw = aioredis.Redis.from_url(redis_url)
    try:
        await broker.startup()
        await JobQueue(broker).send(DEMO_JOB, account_id=str(account_id))
        # The job holds its lock from its start to its end: generating and importing the
        # demo mailbox takes a few seconds, so the SIGTERM lands in the middle of it.
        deadline = time.monotonic() + 60
        while await store.get(_demo_lock(account_id)) is None:
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, f"the job never started:\n{log_path.read_text()}"
            await asyncio.sleep(0.02)
        code = stop_worker(worker, log_path)
        text = log_path.read_text()
        assert code == 0, text
        # Finished, not cancelled: the whole mailbox is there and the lock was let go.
        assert "demo_mailbox_loaded" in text, text
        assert await _messages(settings, account_id) >= 100
        assert await store.get(_demo_lock(account_id)) is None
        # And acknowledged: no other worker will run it again after the idle claim.
        pending = await raw.xpending(f"{settings.store_prefix}jobs", CONSUMER_GROUP)
        assert pending["pending"] == 0, pending
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        await broker.shutdown()
        await store.close()
        await raw.aclose()
