"""The engine in real `postwise worker` processes: SIGKILL mid-sync, then a new worker resumes.

Also checks that what the engine changes is announced on the user's Store channel, where the
live-events API will pick it up.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from postwise.config import Settings
from postwise.events import user_channel
from tests import services
from tests.conftest import TEST_SECRET
from tests.fixtures.dovecot import Dovecot
from tests.sync.conftest import Mailbox, add_mailbox, make_message, open_sync_context, wait_for

pytestmark = pytest.mark.backend


def _worker_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWISE_")}
    env.update(
        POSTWISE_ENV="test",
        POSTWISE_SECRET_KEY=TEST_SECRET,
        POSTWISE_DATA_DIR=str(data_dir),
        POSTWISE_DATABASE_URL=str(settings.database_url),
        POSTWISE_REDIS_URL=str(settings.redis_url),
        POSTWISE_STORE_PREFIX=settings.store_prefix,
        POSTWISE_SYNC_BATCH_SIZE="25",
        POSTWISE_SYNC_PARSE_PROCESSES="1",
        POSTWISE_SYNC_LEASE_SECONDS="5",
        POSTWISE_LOG_FORMAT="json",
        # Dovecot listens on loopback, which POSTWISE_ENV=test refuses by default.
        POSTWISE_MAIL_PRIVATE_HOSTS=settings.effective_mail_private_hosts,
    )
    return env


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    executable = Path(sys.executable).with_name("postwise")
    with log.open("ab") as out:
        return subprocess.Popen([str(executable), "worker"], env=env, stdout=out, stderr=out)


async def test_a_killed_worker_process_is_replaced_without_duplicates_or_gaps(
    make_settings, dovecot: Dovecot, tmp_path: Path, empty_database: None
) -> None:
    redis = services.require_redis()
    settings = make_settings(redis_url=redis, blob_dir=tmp_path / "blobs")
    async with open_sync_context(settings) as ctx:
        mailbox = await add_mailbox(ctx, dovecot)
        imap = dovecot.client(mailbox.username)
        for n in range(400):
            imap.append("INBOX", make_message(n)[0])
        imap.logout()
        env = _worker_env(settings, tmp_path)
        log = tmp_path / "worker.log"
        first = _start_worker(env, log)
        try:
            await wait_for(lambda: _more_than(mailbox, 30), timeout=60)
            first.send_signal(signal.SIGKILL)  # no clean-up, no lease handed back
            first.wait(timeout=10)
            stopped_at = await mailbox.count()
            assert stopped_at < 400, "the sync finished before the kill: nothing was tested"
            second = _start_worker(env, log)
            try:
                await wait_for(lambda: _exactly(mailbox, 400), timeout=90)
            finally:
                second.send_signal(signal.SIGTERM)
                second.wait(timeout=45)  # past the worker's own stop bounds (10 s + 15 s)
        finally:
            if first.poll() is None:
                first.kill()
        rows = await mailbox.messages("INBOX")
        assert [m.uid for m in rows] == list(range(1, 401)), log.read_text()[-3000:]


async def _more_than(mailbox: Mailbox, count: int) -> bool:
    return await mailbox.count() > count


async def _exactly(mailbox: Mailbox, count: int) -> bool:
    return await mailbox.count() == count


async def test_changes_are_announced_on_the_users_channel(mailbox: Mailbox) -> None:
    mailbox.append(make_message(1)[0])
    seen: list[dict[str, object]] = []

    async def listen() -> None:
        async with mailbox.ctx.store.subscribe(user_channel(mailbox.user_id)) as events:
            async for event in events:
                seen.append(json.loads(event.data))

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.2)
    try:
        async with mailbox.syncing():

            async def announced() -> bool:
                return {"message.created", "folder.counts", "sync.status"} <= {
                    str(e["type"]) for e in seen
                }

            await wait_for(announced)
    finally:
        listener.cancel()
        await asyncio.wait({listener})
    created = next(e for e in seen if e["type"] == "message.created")
    data = created["data"]
    assert isinstance(data, dict) and len(data["message_ids"]) == 1
    assert data["account_id"] == str(mailbox.account_id)
