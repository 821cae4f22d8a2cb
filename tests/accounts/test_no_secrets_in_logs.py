"""The whole connect / change flow, logged at DEBUG as production would write it: no mailbox
password may appear in any line (ours, imapclient's, aiosmtplib's or SQLAlchemy's)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.accounts.conftest import account_body
from tests.fixtures.dovecot import Dovecot

pytestmark = pytest.mark.backend


async def test_mailbox_passwords_never_reach_the_log(
    make_harness, dovecot: Dovecot, make_smtp_server, mailbox, tmp_path: Path
) -> None:
    log_file = tmp_path / "postwise.log"
    address, password = mailbox
    wrong = "wrong-mailbox-password-5150"
    relay = make_smtp_server(users={address: password})
    secrets = {password, wrong}
    async with make_harness(log_file=log_file, log_level="DEBUG") as h:
        headers = await h.sign_in()
        body = account_body(dovecot, relay, mailbox)
        # A failed sign-in on each server, then a good one, then changes with passwords.
        failed = await h.http.post(
            "/api/accounts", json={**body, "password": wrong}, headers=headers
        )
        assert failed.json()["code"] == "auth_failed"
        relay.users[address] = wrong
        failed = await h.http.post("/api/accounts", json=body, headers=headers)
        assert (failed.json()["code"], failed.json()["server"]) == ("auth_failed", "smtp")
        relay.users[address] = password
        created = await h.http.post("/api/accounts", json=body, headers=headers)
        assert created.status_code == 201, created.text
        url = f"/api/accounts/{created.json()['id']}"
        assert (
            await h.http.patch(url, json={"password": wrong}, headers=headers)
        ).status_code == 422
        changed = await h.http.patch(url, json={"password": password}, headers=headers)
        assert changed.status_code == 200, changed.text
    logs = log_file.read_text(encoding="utf-8")
    # The log really covers the flow, down to the IMAP conversation itself.
    assert "mail_connection_test_failed" in logs
    assert "mail_account_added" in logs
    assert "LOGIN **REDACTED**" in logs
    # Also as SMTP AUTH would carry them (LOGIN: base64 of each; PLAIN: of "\0user\0pw").
    encoded = {b64(secret) for secret in secrets} | {b64(f"\0{address}\0{s}") for s in secrets}
    assert [secret for secret in secrets | encoded if secret in logs] == []


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
