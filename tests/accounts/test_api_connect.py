"""POST /api/accounts, GET /api/accounts[/{id}]: connecting a mailbox through the API."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from postwise.accounts.credentials import DecryptionError, open_password
from postwise.accounts.models import MailAccount
from postwise.kit.crypto import Keyring
from postwise.mail.models import Folder
from tests.accounts.conftest import Harness, account_body
from tests.accounts.servers import (
    DnsServer,
    HttpServer,
    closed_port,
    silent_port,
    tls_smtp_server,
)
from tests.fixtures.dovecot import Dovecot

pytestmark = pytest.mark.backend

PROBLEM = "application/problem+json"


async def stored(h: Harness, account_id: str) -> MailAccount:
    async with h.services.sessionmaker() as db:
        account = await db.get(MailAccount, uuid.UUID(account_id))
        assert account is not None
        return account


async def test_connect_a_mailbox(h: Harness, dovecot: Dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    body = account_body(dovecot, smtp_server, mailbox, display_name="  Work  ")
    async with h.wakes() as wakes:
        response = await h.http.post("/api/accounts", json=body, headers=headers)
        assert response.status_code == 201, response.text
        account = response.json()
        await wakes.expect(account["id"])
    assert response.headers["location"] == f"/api/accounts/{account['id']}"
    assert account["email"] == mailbox[0]
    assert account["username"] == mailbox[0]  # defaults to the address
    assert account["display_name"] == "Work"
    assert account["kind"] == "imap"
    assert (account["imap_host"], account["imap_port"], account["imap_security"]) == (
        dovecot.host,
        dovecot.imap_port,
        "none",
    )
    assert (account["smtp_port"], account["smtp_security"]) == (smtp_server.port, "none")
    assert account["sync_state"] == "initial"
    assert account["sync_window_days"] == 90
    assert account["counts"] == {"folders": 0, "messages": 0, "unread": 0}
    assert account["is_demo"] is False
    assert account["last_error"] is None
    assert "password" not in account and "credentials" not in account
    assert mailbox[1] not in response.text

    row = await stored(h, account["id"])
    assert row.credentials is not None and mailbox[1] not in row.credentials
    assert open_password(h.auth.keyring, row.credentials) == mailbox[1]
    assert "IMAP4REV1" in row.capabilities.upper()

    listed = await h.http.get("/api/accounts", headers=headers)
    assert listed.json() == {"items": [account]}
    one = await h.http.get(f"/api/accounts/{account['id']}", headers=headers)
    assert one.json() == account


async def test_explicit_username_is_the_one_used_to_sign_in(
    h: Harness, dovecot: Dovecot, make_smtp_server, mailbox
) -> None:
    headers = await h.sign_in()
    alias = f"alias-{uuid.uuid4().hex[:8]}@example.test"
    # The relay knows the mailbox's user name only, not the address it receives mail at.
    relay = make_smtp_server(users={mailbox[0]: mailbox[1]})
    body = account_body(dovecot, relay, mailbox, email=alias)
    refused = await h.http.post("/api/accounts", json=body, headers=headers)
    assert (refused.json()["code"], refused.json()["server"]) == ("auth_failed", "smtp")
    body["username"] = mailbox[0]
    response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert (response.json()["email"], response.json()["username"]) == (alias, mailbox[0])


async def test_same_address_twice_is_409(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    body = account_body(dovecot, smtp_server, mailbox)
    assert (await h.http.post("/api/accounts", json=body, headers=headers)).status_code == 201
    body["email"] = mailbox[0].upper()  # the same mailbox, however it is spelt
    again = await h.http.post("/api/accounts", json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["code"] == "account_exists"
    # Another user may connect the same mailbox: the address is unique per user only.
    other = await h.sign_in()
    assert (await h.http.post("/api/accounts", json=body, headers=other)).status_code == 201


async def test_wrong_password_saves_nothing(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    body = account_body(dovecot, smtp_server, mailbox, password="not-the-password-77")
    response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert (problem["code"], problem["server"]) == ("auth_failed", "imap")
    assert problem["detail"]
    assert "not-the-password-77" not in response.text
    assert (await h.http.get("/api/accounts", headers=headers)).json() == {"items": []}


async def test_smtp_failure_names_the_smtp_server(
    h: Harness, dovecot, smtp_server, mailbox
) -> None:
    headers = await h.sign_in()
    body = account_body(dovecot, smtp_server, mailbox, smtp_port=closed_port())
    response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["server"]) == ("host_unreachable", "smtp")


async def test_smtp_auth_failure(h: Harness, dovecot, make_smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    relay = make_smtp_server(users={mailbox[0]: "a-different-smtp-password"})
    response = await h.http.post(
        "/api/accounts", json=account_body(dovecot, relay, mailbox), headers=headers
    )
    assert (response.json()["code"], response.json()["server"]) == ("auth_failed", "smtp")
    assert relay.failed_logins >= 1


async def test_smtp_auth_success(h: Harness, dovecot, make_smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    relay = make_smtp_server(users={mailbox[0]: mailbox[1]})
    response = await h.http.post(
        "/api/accounts", json=account_body(dovecot, relay, mailbox), headers=headers
    )
    assert response.status_code == 201, response.text
    assert relay.failed_logins == 0


async def test_untrusted_certificate_then_trusted(make_harness, dovecot, smtp_server, mailbox):
    body = account_body(
        dovecot,
        smtp_server,
        mailbox,
        imap_host="localhost",
        imap_port=dovecot.imaps_port,
        imap_security="ssl",
    )
    async with make_harness() as h:
        headers = await h.sign_in()
        response = await h.http.post("/api/accounts", json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (422, "tls_error")
        assert response.json()["server"] == "imap"
    async with make_harness(mail_ca_file=dovecot.cert_path) as h:
        headers = await h.sign_in()
        response = await h.http.post("/api/accounts", json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["imap_security"] == "ssl"


async def test_timeout_code(make_harness, dovecot, smtp_server, mailbox) -> None:
    async with make_harness(mail_connect_timeout=0.5) as h:
        headers = await h.sign_in()
        with silent_port() as port:
            body = account_body(
                dovecot, smtp_server, mailbox, imap_host="127.0.0.1", imap_port=port
            )
            response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "timeout")


async def test_not_imap_code(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    # The SMTP server's port given as the IMAP port: something answers, but not IMAP.
    body = account_body(dovecot, smtp_server, mailbox, imap_port=smtp_server.port)
    response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "not_imap")


async def test_validation_errors(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    cases = {
        "imap_security": {"imap_security": "tls"},
        "imap_port": {"imap_port": 70000},
        "email": {"email": "not an address"},
        "imap_host": {"imap_host": "imap.example.test/evil"},
        "smtp_host": {"smtp_host": "smtp example"},
        "sync_window_days": {"sync_window_days": 0},
        "password": {"password": ""},
        "is_admin": {"is_admin": True},  # unknown fields are refused, not ignored
    }
    for field, change in cases.items():
        body = account_body(dovecot, smtp_server, mailbox, **change)
        response = await h.http.post("/api/accounts", json=body, headers=headers)
        assert response.status_code == 422, field
        problem = response.json()
        assert problem["code"] == "validation_error", field
        assert field in {error["field"] for error in problem["errors"]}, problem
    missing = {"email": mailbox[0]}
    response = await h.http.post("/api/accounts", json=missing, headers=headers)
    assert [error["field"] for error in response.json()["errors"]] == ["password"]


async def test_signing_in_is_required(h: Harness) -> None:
    for method, path in [
        ("GET", "/api/accounts"),
        ("POST", "/api/accounts"),
        ("GET", f"/api/accounts/{uuid.uuid4()}"),
        ("POST", f"/api/accounts/{uuid.uuid4()}/sync"),
    ]:
        response = await h.http.request(method, path, json={})
        assert response.status_code == 401, path


async def test_nothing_to_discover_is_422(h: Harness) -> None:
    headers = await h.sign_in()
    body = {"email": "ada@nowhere.example.test", "password": "pw-for-nowhere"}
    response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "discovery_failed"


AUTOCONFIG = """<clientConfig version="1.1"><emailProvider id="example.test">
  <incomingServer type="imap"><hostname>localhost</hostname><port>{imap_port}</port>
    <socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username>
    <authentication>password-cleartext</authentication></incomingServer>
  <outgoingServer type="smtp"><hostname>127.0.0.1</hostname><port>{smtp_port}</port>
    <socketType>plain</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>"""


async def test_connect_with_autoconfig(make_harness, dovecot, smtp_server, mailbox) -> None:
    document = AUTOCONFIG.format(imap_port=dovecot.imap_port, smtp_port=smtp_server.port)
    with HttpServer({"/example.test/config.xml": (200, document.encode())}) as http:
        async with make_harness(
            mail_ca_file=dovecot.cert_path,
            autoconfig_urls=[http.url("/{domain}/config.xml")],
        ) as h:
            headers = await h.sign_in()
            body = {"email": mailbox[0], "password": mailbox[1]}
            response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    account = response.json()
    assert (account["imap_host"], account["imap_port"], account["imap_security"]) == (
        "localhost",
        dovecot.imap_port,
        "starttls",
    )
    assert (account["smtp_host"], account["smtp_security"]) == ("127.0.0.1", "none")


async def test_given_servers_win_over_discovered_ones(
    make_harness, dovecot, smtp_server, mailbox
) -> None:
    # SMTP is discovered, IMAP is given: autoconfig's IMAP entry (a dead port) is not used.
    document = AUTOCONFIG.format(imap_port=closed_port(), smtp_port=smtp_server.port)
    with HttpServer({"/example.test/config.xml": (200, document.encode())}) as http:
        async with make_harness(autoconfig_urls=[http.url("/{domain}/config.xml")]) as h:
            headers = await h.sign_in()
            body = account_body(dovecot, smtp_server, mailbox)
            del body["smtp_host"], body["smtp_port"], body["smtp_security"]
            response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["imap_port"] == dovecot.imap_port
    assert response.json()["smtp_port"] == smtp_server.port


async def test_connect_with_srv_records(make_harness, dovecot: Dovecot, mailbox) -> None:
    address, password = mailbox
    with tls_smtp_server(dovecot.cert_path, implicit=False, users={address: password}) as relay:
        records = {
            "_imaps._tcp.example.test.": [(0, 1, dovecot.imaps_port, "localhost.")],
            "_submission._tcp.example.test.": [(0, 1, relay.port, "localhost.")],
        }
        with DnsServer(records) as dns_server:
            async with make_harness(
                mail_ca_file=dovecot.cert_path, dns_nameservers=[dns_server.address]
            ) as h:
                headers = await h.sign_in()
                body = {"email": address, "password": password}
                response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    account = response.json()
    assert (account["imap_port"], account["imap_security"]) == (dovecot.imaps_port, "ssl")
    assert (account["smtp_port"], account["smtp_security"]) == (relay.port, "starttls")
    assert relay.failed_logins == 0


async def test_counts_come_from_the_folders(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    response = await h.http.post(
        "/api/accounts", json=account_body(dovecot, smtp_server, mailbox), headers=headers
    )
    account_id = uuid.UUID(response.json()["id"])
    user_id = await h.user_id(headers)
    async with h.services.sessionmaker() as db:
        for name, total, unread in [("INBOX", 120, 7), ("Sent", 30, 0), ("Archive", 1000, 2)]:
            db.add(
                Folder(
                    user_id=user_id,
                    account_id=account_id,
                    name=name,
                    total_count=total,
                    unread_count=unread,
                )
            )
        await db.commit()
    expected = {"folders": 3, "messages": 1150, "unread": 9}
    one = await h.http.get(f"/api/accounts/{account_id}", headers=headers)
    assert one.json()["counts"] == expected
    listed = await h.http.get("/api/accounts", headers=headers)
    assert [item["counts"] for item in listed.json()["items"]] == [expected]


async def test_list_shows_only_your_own_accounts(h: Harness, dovecot, smtp_server):
    mine, theirs = await h.sign_in(), await h.sign_in()
    created = []
    for headers in (mine, mine, theirs):
        body = account_body(dovecot, smtp_server, dovecot.add_user())
        response = await h.http.post("/api/accounts", json=body, headers=headers)
        created.append(response.json()["id"])
    listed = (await h.http.get("/api/accounts", headers=mine)).json()["items"]
    assert [item["id"] for item in listed] == created[:2]  # oldest first
    listed = (await h.http.get("/api/accounts", headers=theirs)).json()["items"]
    assert [item["id"] for item in listed] == created[2:]


async def test_openapi_declares_the_routes_and_never_the_password(h: Harness) -> None:
    schema = (await h.http.get("/api/openapi.json")).json()
    paths = schema["paths"]
    post = paths["/api/accounts"]["post"]
    assert {"201", "401", "409", "422", "429"} <= set(post["responses"])
    assert post["responses"]["422"]["content"]["application/problem+json"]
    one = paths["/api/accounts/{account_id}"]
    assert {"200", "404"} <= set(one["get"]["responses"])
    assert {"200", "404", "409", "422", "429"} <= set(one["patch"]["responses"])
    assert {"204", "404"} <= set(one["delete"]["responses"])
    sync = paths["/api/accounts/{account_id}/sync"]["post"]
    assert {"202", "404", "409"} <= set(sync["responses"])
    account = schema["components"]["schemas"]["AccountOut"]["properties"]
    assert "password" not in account and "credentials" not in account
    assert {"counts", "sync_state", "last_error_code"} <= set(account)
    assert post["operationId"] == "accounts-create_account"


async def test_stored_row_matches_the_answer(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    response = await h.http.post(
        "/api/accounts",
        json=account_body(dovecot, smtp_server, mailbox, sync_window_days=30),
        headers=headers,
    )
    async with h.services.sessionmaker() as db:
        rows = (await db.scalars(select(MailAccount).where(MailAccount.email == mailbox[0]))).all()
    assert len(rows) == 1
    assert str(rows[0].id) == response.json()["id"]
    assert rows[0].sync_window_days == 30
    # Sealed with the server's key for this purpose: another key cannot open it.
    assert rows[0].credentials is not None
    with pytest.raises(DecryptionError):
        open_password(Keyring("some-other-secret-" + "y" * 40), rows[0].credentials)


async def test_connection_tests_are_rate_limited_per_user(h: Harness) -> None:
    headers, other = await h.sign_in(), await h.sign_in()
    dead = closed_port()
    body = {
        "email": "ada@example.com",
        "password": "pw-for-a-dead-port",
        "imap_host": "127.0.0.1",
        "imap_port": dead,
        "smtp_host": "127.0.0.1",
        "smtp_port": dead,
    }
    codes = []
    for _ in range(21):
        response = await h.http.post("/api/accounts", json=body, headers=headers)
        codes.append(response.json()["code"])
    assert codes == ["host_unreachable"] * 20 + ["rate_limited"]
    assert response.status_code == 429
    assert "retry-after" in response.headers
    # Someone else's budget is their own.
    response = await h.http.post("/api/accounts", json=body, headers=other)
    assert response.json()["code"] == "host_unreachable"
