"""End to end: mail APPENDed to a real IMAP server by another client reaches an open socket.

Once with the sync engine inside the API process (the embedded default), and once with it in a
separate `postwise worker` process, so the event crosses Redis pub/sub between two processes.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from postwise.db import utcnow
from postwise.sync.control import wake
from postwise.users.models import User
from tests.conftest import BACKEND
from tests.fixtures.dovecot import Dovecot
from tests.realtime.conftest import PASSWORD, LiveServer, SignedIn, authenticate, next_event
from tests.sync.conftest import Mailbox, add_mailbox, make_message, open_sync_context
from tests.sync.test_worker_process import _start_worker, _worker_env

pytestmark = pytest.mark.backend

# The promise: from the IMAP server to the browser in under two seconds.
PUSH_BOUND_S = 2.0


async def _owned_mailbox(live: LiveServer, dovecot: Dovecot) -> tuple[Mailbox, SignedIn]:
    """A Dovecot mailbox connected for a user who can sign in."""
    async with open_sync_context(live.services.settings) as ctx:
        mailbox = await add_mailbox(ctx, dovecot)
    async with live.services.sessionmaker() as db:
        user = await db.get(User, mailbox.user_id)
        assert user is not None
        user.password_hash = await live.auth.hasher.hash(PASSWORD)
        user.email_verified_at = utcnow()
        # Sign-in refuses reserved domains such as the fixture's example.test.
        user.email = email = f"live-{mailbox.user_id.hex[:12]}@example.com"
        await db.commit()
    return mailbox, await live.login(mailbox.user_id, email)


async def _until(
    ws: ClientConnection,
    kind: str,
    *,
    timeout: float,  # noqa: ASYNC109 (a number reads better than a context manager here)
    **match: Any,
) -> dict[str, Any]:
    """The first event of `kind` whose data contains `match`."""
    async with asyncio.timeout(timeout):
        while True:
            event = await next_event(ws, timeout=timeout)
            data = event.get("data") or {}
            if event["type"] == kind and all(data.get(k) == v for k, v in match.items()):
                return event


async def _push_latency(ws: ClientConnection, mailbox: Mailbox) -> tuple[float, dict[str, Any]]:
    account = str(mailbox.account_id)
    # The engine is in IDLE once the initial sync of the (empty) mailbox reports `idle`.
    await _until(ws, "sync.status", timeout=60, account_id=account, state="idle")
    raw, _ = make_message(1, subject="Live push")
    await asyncio.to_thread(mailbox.append, raw)  # another IMAP client, not our engine
    appended = time.monotonic()
    event = await _until(ws, "message.created", timeout=10, account_id=account)
    return time.monotonic() - appended, event


async def test_an_appended_message_reaches_the_socket_within_two_seconds(
    make_live, dovecot: Dovecot, tmp_path: Path, empty_database: None
) -> None:
    async with make_live(
        sync_in_process=True, sync_parse_processes=1, blob_dir=tmp_path / "blobs"
    ) as live:
        mailbox, who = await _owned_mailbox(live, dovecot)
        async with live.connect() as ws:
            await authenticate(ws, who.access_token)
            await wake(live.services.store, mailbox.account_id)  # the engine looks now
            latency, event = await _push_latency(ws, mailbox)
    assert latency < PUSH_BOUND_S, f"{latency:.2f} s"
    assert len(event["data"]["message_ids"]) == 1


@pytest.fixture
def production_backends() -> None:
    if BACKEND != "postgres":
        pytest.skip("needs POSTWISE_TEST_BACKEND=postgres: fan-out across processes is Redis's")


@pytest.mark.postgres
@pytest.mark.redis
async def test_an_event_raised_in_a_worker_process_reaches_a_socket_in_the_api_process(
    production_backends: None,
    make_live,
    dovecot: Dovecot,
    tmp_path: Path,
    empty_database: None,
) -> None:
    # The API process (this one) does not sync: only the worker can have raised the events.
    async with make_live(sync_in_process=False, blob_dir=tmp_path / "blobs") as live:
        settings = live.services.settings
        assert settings.redis_url is not None and not settings.run_sync_in_process
        mailbox, who = await _owned_mailbox(live, dovecot)
        async with live.connect() as ws:
            await authenticate(ws, who.access_token)
            log = tmp_path / "worker.log"
            worker = _start_worker(_worker_env(settings, tmp_path), log)
            try:
                latency, event = await _push_latency(ws, mailbox)
            except BaseException:
                print(log.read_text()[-3000:])
                raise
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
    assert latency < PUSH_BOUND_S, f"{latency:.2f} s"
    assert len(event["data"]["message_ids"]) == 1
