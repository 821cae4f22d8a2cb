"""A real `postwise worker` killed (SIGKILL) while the SMTP server holds its reply to DATA: the
message reached the server, the worker never heard the 250. Another worker and the sweep must
not send it again; the entry fails as `delivery_uncertain`, and the user decides."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from postwise.compose import tasks
from postwise.compose.models import DraftStatus
from postwise.config import Settings
from postwise.mail.blobs import BlobStore
from postwise.runtime import open_runtime
from postwise.worker.registry import JobContext
from tests import services
from tests.compose.outbox_harness import Outbox
from tests.conftest import BACKEND, TEST_SECRET
from tests.fixtures import smtp as smtp_fixtures
from tests.fixtures.smtp import MakeSmtpServer

pytestmark = [
    pytest.mark.backend,
    pytest.mark.skipif(
        BACKEND != "postgres", reason="needs POSTWISE_TEST_BACKEND=postgres: workers need Redis"
    ),
]
smtp_servers = smtp_fixtures.make_smtp_server


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWISE_")}
    env.update(
        POSTWISE_ENV="test",
        POSTWISE_SECRET_KEY=TEST_SECRET,
        POSTWISE_DATA_DIR=str(settings.data_dir),
        POSTWISE_DATABASE_URL=str(settings.database_url),
        POSTWISE_REDIS_URL=str(settings.redis_url),
        POSTWISE_STORE_PREFIX=settings.store_prefix,
        POSTWISE_SEND_CLAIM_SECONDS=str(settings.send_claim_seconds),
        POSTWISE_LOG_FORMAT="json",
        POSTWISE_MAIL_PRIVATE_HOSTS=settings.effective_mail_private_hosts,
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "postwise", "worker"], env=env, stdout=out, stderr=out
        )


async def _until(check: Callable[[], Awaitable[bool]], what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while not await check():
        assert time.monotonic() < deadline, f"{what}; worker log:\n{log.read_text()[-3000:]}"
        await asyncio.sleep(0.05)


async def test_a_worker_killed_after_data_never_sends_twice(
    make_settings: Any, smtp_servers: MakeSmtpServer, tmp_path: Path
) -> None:
    settings = make_settings(redis_url=services.require_redis(), send_claim_seconds=5)
    # The server takes the message, then holds its 250: the worker dies in between.
    server = smtp_servers(reply_delay=60)
    log = tmp_path / "worker.log"
    async with open_runtime(settings, strict=True) as runtime:
        ctx = JobContext(
            settings=settings,
            store=runtime.store,
            sessionmaker=runtime.sessionmaker,
            jobs=runtime.jobs,
            mailer=runtime.mailer,
        )
        # No job consumer in this process: the worker processes take every job.
        blobs = BlobStore(settings.effective_blob_dir, fsync=False)
        box = Outbox(ctx, None, blobs)  # type: ignore[arg-type]  # no ledger: nothing to settle
        user_id = await box.user()
        account_id = await box.account(user_id, smtp_port=server.port)
        draft_id = await box.queue(account_id)
        first = _worker(settings, log)
        second: subprocess.Popen[bytes] | None = None
        try:
            await runtime.jobs.send(tasks.DELIVER_JOB, draft_id=str(draft_id))

            async def handed_over() -> bool:
                return server.data_attempts == 1

            await _until(handed_over, "the worker never reached DATA", log)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            entry = await box.entry(draft_id)
            assert entry.status == DraftStatus.SENDING and entry.data_started_at is not None

            second = _worker(settings, log)
            # Once the dead worker's claim has run out, the sweep decides (here, not on the
            # worker's 15 s schedule, to keep the test short).
            await asyncio.sleep(settings.send_claim_seconds + 0.5)
            await tasks.sweep_outbox(ctx)

            async def decided() -> bool:
                return (await box.entry(draft_id)).status == DraftStatus.FAILED

            await _until(decided, "the sweep left the entry undecided", log)
            entry = await box.entry(draft_id)
            assert entry.error_code == "delivery_uncertain"
            # Another sweep, and the second worker, leave it alone.
            await tasks.sweep_outbox(ctx)
            await asyncio.sleep(1)
        finally:
            for worker in (first, second):
                if worker is not None and worker.poll() is None:
                    worker.kill()
                    worker.wait(timeout=10)
            await box.cleanup()
    assert server.data_attempts == 1
    assert len(server.deliveries) == 1
