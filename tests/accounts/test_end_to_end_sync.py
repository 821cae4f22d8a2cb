"""Connect a mailbox through the API of a running app and watch the embedded engine mirror it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.accounts.conftest import account_body
from tests.fixtures.dovecot import Dovecot
from tests.sync.conftest import make_message

pytestmark = pytest.mark.backend


async def _account(http: httpx.AsyncClient, account_id: str, headers: dict[str, str]) -> dict:
    response = await http.get(f"/api/accounts/{account_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_connected_mailbox_is_mirrored_by_the_engine_in_the_api_process(
    make_harness, dovecot: Dovecot, smtp_server, mailbox, empty_database: None
) -> None:
    imap = dovecot.client(mailbox[0])
    for n in range(60):
        imap.append("INBOX", make_message(n)[0], flags=("\\Seen",) if n % 2 else ())
    imap.logout()
    # The embedded default: the API process runs the sync engine itself.
    async with make_harness(sync_in_process=True) as h:
        headers = await h.sign_in()
        created = await h.http.post(
            "/api/accounts", json=account_body(dovecot, smtp_server, mailbox), headers=headers
        )
        assert created.status_code == 201, created.text
        account_id = created.json()["id"]
        started = time.monotonic()
        account: dict = {}
        while time.monotonic() - started < 20:
            account = await _account(h.http, account_id, headers)
            if account["sync_state"] == "idle" and account["counts"]["messages"] == 60:
                break
            await asyncio.sleep(0.1)
        assert account["counts"] == {"folders": 6, "messages": 60, "unread": 30}, account
        assert account["last_synced_at"] is not None and account["last_error"] is None
        # Deleting it stops its sync; the app keeps running and shuts down cleanly.
        deleted = await h.http.delete(f"/api/accounts/{account_id}", headers=headers)
        assert deleted.status_code == 204
        await asyncio.sleep(0.5)
        assert (await h.http.get("/healthz")).status_code == 200
