"""POSTWISE_MAIL_PRIVATE_HOSTS through the API and the sync engine.

Before it, POST /api/accounts connected wherever a signed-in user said (127.0.0.1, [::1],
2130706433, 10.0.0.0/8 ...) and answered differently for closed, open and greeting ports: a
port scanner of the server's own network. Each test shows, with a `Recorder` listening on the
refused address, that not even a TCP connection was made. (Only the API and long-standing
names are used here, so the file also runs against the code before the policy existed.)
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from postwise.accounts.credentials import seal_password
from postwise.accounts.models import MailAccount, Security, SyncState
from postwise.kit.crypto import Keyring
from postwise.sync.mailbox import MailboxSync
from postwise.users.models import User
from tests.accounts.conftest import account_body
from tests.accounts.servers import Recorder
from tests.fixtures.dovecot import Dovecot
from tests.sync.conftest import open_sync_context, wait_for

pytestmark = pytest.mark.backend

IMAP_GREETING = b"* OK [CAPABILITY IMAP4rev1] ready\r\n"


# --- the API ---


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "2130706433", "0177.0.0.1", "127.1", "localhost", "[::1]"]
)
async def test_api_refuses_private_imap_hosts_before_connecting(make_harness, host: str) -> None:
    with Recorder(banner=IMAP_GREETING) as imap, Recorder() as smtp:
        async with make_harness(mail_private_hosts="deny") as h:
            headers = await h.sign_in()
            body = {
                "email": "ada@example.com",
                "password": "pw-123456",
                "imap_host": host,
                "imap_port": imap.port,
                "imap_security": "none",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp.port,
                "smtp_security": "none",
            }
            response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "host_not_allowed"
    assert (problem["server"], problem["field"]) == ("imap", "imap_host")
    assert "POSTWISE_MAIL_PRIVATE_HOSTS" in problem["detail"]
    assert (imap.accepted, smtp.accepted) == (0, 0)


async def test_api_refuses_a_private_smtp_host_and_contacts_neither(make_harness) -> None:
    with Recorder("127.0.0.1", banner=IMAP_GREETING) as imap, Recorder("127.0.0.2") as smtp:
        async with make_harness(mail_private_hosts="127.0.0.1") as h:
            headers = await h.sign_in()
            body = {
                "email": "ada@example.com",
                "password": "pw-123456",
                "imap_host": "127.0.0.1",
                "imap_port": imap.port,
                "imap_security": "none",
                "smtp_host": "127.0.0.2",
                "smtp_port": smtp.port,
                "smtp_security": "none",
            }
            response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == ("host_not_allowed", "smtp_host")
    # The IMAP host was allowed, but nothing is connected until both are.
    assert (imap.accepted, smtp.accepted) == (0, 0)


async def test_api_refuses_moving_a_mailbox_to_a_private_host(
    make_harness, dovecot: Dovecot, smtp_server, mailbox
) -> None:
    async with make_harness(mail_private_hosts="127.0.0.1") as h:
        headers = await h.sign_in()
        created = await h.http.post(
            "/api/accounts", json=account_body(dovecot, smtp_server, mailbox), headers=headers
        )
        assert created.status_code == 201, created.text
        account_id = created.json()["id"]
        with Recorder("127.0.0.2", banner=IMAP_GREETING) as other:
            response = await h.http.patch(
                f"/api/accounts/{account_id}",
                json={"imap_host": "127.0.0.2", "imap_port": other.port},
                headers=headers,
            )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "host_not_allowed"
        assert other.accepted == 0
        unchanged = await h.http.get(f"/api/accounts/{account_id}", headers=headers)
        assert unchanged.json()["imap_host"] == dovecot.host


# --- the sync engine ---


async def test_sync_engine_refuses_a_mailbox_the_policy_no_longer_allows(make_settings) -> None:
    """Saved while private hosts were allowed; the operator has since denied them."""
    settings = make_settings(mail_private_hosts="deny")
    with Recorder(banner=IMAP_GREETING) as recorder:
        async with open_sync_context(settings) as ctx:
            async with ctx.sessionmaker() as db:
                user = User(email=f"owner-{uuid.uuid4().hex[:8]}@example.test", password_hash="x")
                db.add(user)
                await db.flush()
                account = MailAccount(
                    user_id=user.id,
                    email="ada@example.test",
                    username="ada@example.test",
                    credentials=seal_password(Keyring(settings.secret()), "pw-123456"),
                    imap_host="127.0.0.1",
                    imap_port=recorder.port,
                    imap_security=Security.NONE,
                    smtp_host="127.0.0.1",
                    smtp_port=25,
                    smtp_security=Security.NONE,
                )
                db.add(account)
                await db.commit()
                account_id, user_id = account.id, user.id
            task = asyncio.create_task(MailboxSync(ctx, account_id).run())
            try:

                async def refused() -> bool:
                    async with ctx.sessionmaker() as db:
                        row = await db.get(MailAccount, account_id)
                        assert row is not None
                        return row.last_error_code == "host_not_allowed"

                await wait_for(refused, timeout=15)
            finally:
                task.cancel()
                await asyncio.wait({task}, timeout=10)
            async with ctx.sessionmaker() as db:
                row = await db.get(MailAccount, account_id)
                assert row is not None
                assert row.sync_state == SyncState.ERROR
                assert "POSTWISE_MAIL_PRIVATE_HOSTS" in (row.last_error or "")
                await db.delete(await db.get(User, user_id))
                await db.commit()
    assert recorder.accepted == 0
