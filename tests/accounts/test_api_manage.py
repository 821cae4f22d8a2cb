"""PATCH, DELETE and sync of /api/accounts/{id}, and who may touch which account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select, update

from postwise.accounts.credentials import open_password, seal_password
from postwise.accounts.models import AccountKind, MailAccount, SyncState
from postwise.kit.crypto import Keyring
from postwise.mail.models import Attachment, Folder, Message, PendingChange, Thread
from tests.accounts.conftest import Harness, account_body
from tests.accounts.servers import closed_port
from tests.fixtures.dovecot import Dovecot

pytestmark = pytest.mark.backend

OLD_SECRET = "old-secret-" + "o" * 40
NEW_SECRET = "new-secret-" + "n" * 40


async def connect(h: Harness, headers, dovecot, smtp, mailbox, **overrides) -> dict:
    body = account_body(dovecot, smtp, mailbox, **overrides)
    response = await h.http.post("/api/accounts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def row(h: Harness, account_id: str) -> MailAccount:
    async with h.services.sessionmaker() as db:
        account = await db.get(MailAccount, uuid.UUID(account_id))
        assert account is not None
        return account


async def set_columns(h: Harness, account_id: str, **values: object) -> None:
    async with h.services.sessionmaker() as db:
        await db.execute(
            update(MailAccount).where(MailAccount.id == uuid.UUID(account_id)).values(**values)
        )
        await db.commit()


async def local_account(h: Harness, headers) -> str:
    """An imported (local) mailbox, which only the import or the demo create."""
    user_id = await h.user_id(headers)
    async with h.services.sessionmaker() as db:
        account = MailAccount(
            user_id=user_id, kind=AccountKind.LOCAL, email="archive@example.com", is_demo=True
        )
        db.add(account)
        await db.commit()
        return str(account.id)


# --- PATCH ---


async def test_rename_needs_no_connection_test(h: Harness, dovecot, smtp_server, mailbox):
    headers = await h.sign_in()
    account = await connect(h, headers, dovecot, smtp_server, mailbox)
    # Were the servers asked, this port (where nothing listens) would fail the request.
    await set_columns(h, account["id"], imap_port=closed_port())
    async with h.wakes() as wakes:
        response = await h.http.patch(
            f"/api/accounts/{account['id']}", json={"display_name": " Private "}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["display_name"] == "Private"
        # A rename wakes no sync: the sync requested next is the first wake-up seen.
        await h.http.post(f"/api/accounts/{account['id']}/sync", headers=headers)
        await wakes.expect(account["id"])
    assert wakes.seen == [account["id"]]


async def test_wrong_new_password_keeps_the_old_settings(
    h: Harness, dovecot, smtp_server, mailbox
) -> None:
    headers = await h.sign_in()
    account = await connect(h, headers, dovecot, smtp_server, mailbox)
    before = await row(h, account["id"])
    response = await h.http.patch(
        f"/api/accounts/{account['id']}",
        json={"password": "a-wrong-new-password", "display_name": "Not applied"},
        headers=headers,
    )
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["server"]) == ("auth_failed", "imap")
    after = await row(h, account["id"])
    assert after.credentials == before.credentials
    assert open_password(h.auth.keyring, after.credentials or "") == mailbox[1]
    assert (await h.http.get(f"/api/accounts/{account['id']}", headers=headers)).json() == account


async def test_bad_new_server_keeps_the_old_one(h: Harness, dovecot, smtp_server, mailbox):
    headers = await h.sign_in()
    account = await connect(h, headers, dovecot, smtp_server, mailbox)
    response = await h.http.patch(
        f"/api/accounts/{account['id']}", json={"smtp_port": closed_port()}, headers=headers
    )
    assert (response.status_code, response.json()["code"]) == (422, "host_unreachable")
    assert response.json()["server"] == "smtp"
    assert (await row(h, account["id"])).smtp_port == smtp_server.port


async def test_connection_change_is_tested_saved_and_synced(
    make_harness, dovecot: Dovecot, smtp_server, mailbox
) -> None:
    async with make_harness(mail_ca_file=dovecot.cert_path) as h:
        headers = await h.sign_in()
        account = await connect(h, headers, dovecot, smtp_server, mailbox)
        await set_columns(
            h,
            account["id"],
            sync_state=SyncState.ERROR,
            last_error="Authentication failed.",
            last_error_code="auth_failed",
        )
        async with h.wakes() as wakes:
            response = await h.http.patch(
                f"/api/accounts/{account['id']}",
                json={"imap_host": "localhost", "imap_security": "starttls"},
                headers=headers,
            )
            assert response.status_code == 200, response.text
            await wakes.expect(account["id"])
        changed = response.json()
        # The port was not a default one, so switching the security kept it.
        assert (changed["imap_host"], changed["imap_port"], changed["imap_security"]) == (
            "localhost",
            dovecot.imap_port,
            "starttls",
        )
        assert (changed["last_error"], changed["last_error_code"]) == (None, None)
        assert changed["sync_state"] == "initial"


async def test_new_password_is_sealed(h: Harness, dovecot: Dovecot, smtp_server):
    headers = await h.sign_in()
    address, password = dovecot.add_user()
    account = await connect(h, headers, dovecot, smtp_server, (address, password))
    # The server still has the same password: "changing" to it proves the test passed.
    response = await h.http.patch(
        f"/api/accounts/{account['id']}", json={"password": password}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert open_password(h.auth.keyring, (await row(h, account["id"])).credentials or "") == (
        password
    )


async def test_window_change_requests_a_sync(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    account = await connect(h, headers, dovecot, smtp_server, mailbox)
    async with h.wakes() as wakes:
        response = await h.http.patch(
            f"/api/accounts/{account['id']}", json={"sync_window_days": 365}, headers=headers
        )
        assert response.json()["sync_window_days"] == 365
        await wakes.expect(account["id"])


async def test_patch_validation(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    account = await connect(h, headers, dovecot, smtp_server, mailbox)
    for body in ({"email": "other@example.com"}, {"imap_port": 0}, {"smtp_security": "tls"}):
        response = await h.http.patch(f"/api/accounts/{account['id']}", json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (422, "validation_error"), body


async def test_local_account_has_no_connection_to_change(h: Harness) -> None:
    headers = await h.sign_in()
    account_id = await local_account(h, headers)
    response = await h.http.patch(
        f"/api/accounts/{account_id}", json={"imap_host": "imap.example.com"}, headers=headers
    )
    assert (response.status_code, response.json()["code"]) == (409, "not_syncable")
    response = await h.http.patch(
        f"/api/accounts/{account_id}", json={"display_name": "Old mail"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["kind"] == "local"
    assert response.json()["is_demo"] is True


# --- key rotation ---


async def test_password_sealed_under_a_previous_secret_still_opens(
    make_harness, dovecot: Dovecot, smtp_server, mailbox
) -> None:
    async with make_harness(secret_key=NEW_SECRET, secret_key_previous=[OLD_SECRET]) as h:
        headers = await h.sign_in()
        account = await connect(h, headers, dovecot, smtp_server, mailbox)
        # As if saved before the rotation: sealed under the secret now being retired.
        await set_columns(
            h, account["id"], credentials=seal_password(Keyring(OLD_SECRET), mailbox[1])
        )
        # A server change with no password sent: the stored one must be opened to test it.
        response = await h.http.patch(
            f"/api/accounts/{account['id']}", json={"imap_host": "localhost"}, headers=headers
        )
        assert response.status_code == 200, response.text
        sealed = (await row(h, account["id"])).credentials or ""
    # Sealed again under the current secret: the old one can now be dropped.
    assert open_password(Keyring(NEW_SECRET), sealed) == mailbox[1]


async def test_unreadable_stored_password_must_be_sent_again(
    h: Harness, dovecot, smtp_server, mailbox
) -> None:
    headers = await h.sign_in()
    account = await connect(h, headers, dovecot, smtp_server, mailbox)
    lost = seal_password(Keyring("a-secret-nobody-knows-" + "z" * 30), mailbox[1])
    await set_columns(h, account["id"], credentials=lost)
    url = f"/api/accounts/{account['id']}"
    response = await h.http.patch(url, json={"imap_host": "localhost"}, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "password_required")
    response = await h.http.patch(
        url, json={"imap_host": "localhost", "password": mailbox[1]}, headers=headers
    )
    assert response.status_code == 200, response.text


# --- DELETE ---


async def _mirror(h: Harness, user_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """A folder, a thread, a message with an attachment and a pending change, as sync makes."""
    now = datetime.now(UTC)
    async with h.services.sessionmaker() as db:
        folder = Folder(user_id=user_id, account_id=account_id, name="INBOX", total_count=1)
        thread = Thread(user_id=user_id, account_id=account_id, last_message_at=now)
        db.add_all([folder, thread])
        await db.flush()
        message = Message(
            user_id=user_id,
            account_id=account_id,
            folder_id=folder.id,
            thread_id=thread.id,
            uidvalidity=1,
            uid=1,
            received_at=now,
            raw_sha256="0" * 64,
        )
        db.add(message)
        await db.flush()
        db.add(
            Attachment(
                message_id=message.id,
                position=0,
                content_type="text/plain",
                size=1,
                sha256="1" * 64,
            )
        )
        db.add(
            PendingChange(
                user_id=user_id,
                account_id=account_id,
                folder_name="INBOX",
                uidvalidity=1,
                uid=1,
                action="read",
            )
        )
        await db.commit()


async def _rows_of(h: Harness, account_id: uuid.UUID) -> dict[str, int]:
    async with h.services.sessionmaker() as db:
        counts = {}
        for model in (Folder, Thread, Message, PendingChange):
            counts[model.__tablename__] = int(
                await db.scalar(
                    select(func.count()).select_from(model).where(model.account_id == account_id)
                )
                or 0
            )
        counts["attachments"] = int(
            await db.scalar(
                select(func.count())
                .select_from(Attachment)
                .join(Message, Message.id == Attachment.message_id)
                .where(Message.account_id == account_id)
            )
            or 0
        )
        counts["mail_accounts"] = int(
            await db.scalar(
                select(func.count()).select_from(MailAccount).where(MailAccount.id == account_id)
            )
            or 0
        )
        return counts


async def test_delete_removes_the_mirror_but_not_the_mail(
    h: Harness, dovecot: Dovecot, smtp_server
) -> None:
    headers = await h.sign_in()
    user_id = await h.user_id(headers)
    address, password = dovecot.add_user()
    doomed = await connect(h, headers, dovecot, smtp_server, (address, password))
    kept = await connect(h, headers, dovecot, smtp_server, dovecot.add_user())
    for account in (doomed, kept):
        await _mirror(h, user_id, uuid.UUID(account["id"]))
    mail = EmailMessage()
    mail["Subject"] = "Still here"
    mail.set_content("Deleting the account must not delete this.")
    imap = dovecot.client(address)
    imap.append("INBOX", mail.as_bytes())
    imap.logout()

    full = {"folders": 1, "threads": 1, "messages": 1, "pending_changes": 1, "attachments": 1}
    assert await _rows_of(h, uuid.UUID(doomed["id"])) == {**full, "mail_accounts": 1}
    response = await h.http.delete(f"/api/accounts/{doomed['id']}", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    assert await _rows_of(h, uuid.UUID(doomed["id"])) == dict.fromkeys(
        {**full, "mail_accounts": 1}, 0
    )
    assert await _rows_of(h, uuid.UUID(kept["id"])) == {**full, "mail_accounts": 1}

    assert (await h.http.get(f"/api/accounts/{doomed['id']}", headers=headers)).status_code == 404
    imap = dovecot.client(address)
    assert imap.select_folder("INBOX")[b"EXISTS"] == 1
    imap.logout()


# --- sync ---


async def test_sync_now_is_queued(h: Harness, dovecot, smtp_server, mailbox) -> None:
    headers = await h.sign_in()
    account = await connect(h, headers, dovecot, smtp_server, mailbox)
    async with h.wakes() as wakes:
        response = await h.http.post(f"/api/accounts/{account['id']}/sync", headers=headers)
        assert (response.status_code, response.json()) == (202, {"status": "queued"})
        await wakes.expect(account["id"])


async def test_local_account_cannot_sync(h: Harness) -> None:
    headers = await h.sign_in()
    account_id = await local_account(h, headers)
    response = await h.http.post(f"/api/accounts/{account_id}/sync", headers=headers)
    assert (response.status_code, response.json()["code"]) == (409, "not_syncable")


# --- ownership ---

ROUTES = [
    ("GET", "/api/accounts/{id}", None),
    ("PATCH", "/api/accounts/{id}", {"display_name": "Mine now"}),
    ("DELETE", "/api/accounts/{id}", None),
    ("POST", "/api/accounts/{id}/sync", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_someone_elses_account_is_not_found(
    h: Harness, dovecot, smtp_server, mailbox, method, path, body
) -> None:
    owner, intruder = await h.sign_in(), await h.sign_in()
    account = await connect(h, owner, dovecot, smtp_server, mailbox)
    response = await h.http.request(
        method, path.format(id=account["id"]), json=body, headers=intruder
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # Untouched: the owner still sees it, as it was.
    assert (await h.http.get(f"/api/accounts/{account['id']}", headers=owner)).json() == account


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_malformed_or_unknown_id_is_not_found(h: Harness, method, path, body) -> None:
    headers = await h.sign_in()
    for account_id in ("not-a-uuid", "1", str(uuid.uuid4()), "%20"):
        url = path.format(id=account_id)
        response = await h.http.request(method, url, json=body, headers=headers)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found", url
