"""POST /api/accounts/import and its progress: upload, background job, polling, refusals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from postwise.accounts.models import AccountKind, MailAccount
from postwise.imports.router import _lock_key
from postwise.mail.models import Folder, Message
from tests.accounts.conftest import Harness
from tests.imports.test_importers import make_raw, mboxrd, takeout_mbox

pytestmark = pytest.mark.backend

MBOX = {"Content-Type": "application/mbox"}


async def wait_done(h: Harness, import_id: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(600):
        response = await h.http.get(f"/api/accounts/import/{import_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "importing":
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish in 30 s")


def leftovers(h: Harness) -> list[str]:
    folder = h.settings.data_dir / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_upload_imports_in_the_background_and_again_skips(h: Harness) -> None:
    headers = await h.sign_in()
    data = mboxrd(takeout_mbox())
    started = await h.http.post("/api/accounts/import", content=data, headers={**headers, **MBOX})
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "importing" and len(body["import_id"]) == 32
    done = await wait_done(h, body["import_id"], headers)
    assert done == {
        "import_id": body["import_id"],
        "account_id": body["account_id"],
        "status": "done",
        "messages": 30,
        "bytes_read": len(data),
        "bytes_total": len(data),
        "imported": 30,
        "skipped": 0,
        "errors": 0,
        "error": None,
    }
    assert leftovers(h) == []
    account = await h.http.get(f"/api/accounts/{body['account_id']}", headers=headers)
    assert account.status_code == 200, account.text
    assert account.json()["kind"] == "local"
    assert account.json()["email"] == "imported@postwise.local"
    async with h.services.sessionmaker() as db:
        rows = await db.execute(
            select(Folder.name, func.count(Message.id))
            .join(Message, Message.folder_id == Folder.id)
            .where(Folder.account_id == uuid.UUID(body["account_id"]))
            .group_by(Folder.name)
        )
        assert dict(rows.all()) == {"INBOX": 12, "Sent": 6, "Archive": 6, "Trash": 6}
    again = await h.http.post(
        "/api/accounts/import?folder=Again", content=data, headers={**headers, **MBOX}
    )
    assert again.status_code == 202
    assert again.json()["account_id"] == body["account_id"]
    repeat = await wait_done(h, again.json()["import_id"], headers)
    assert (repeat["status"], repeat["imported"], repeat["skipped"]) == ("done", 0, 30)


async def test_a_chosen_mailbox_and_folder(h: Harness) -> None:
    headers = await h.sign_in()
    response = await h.http.post(
        "/api/accounts/import?account_email=Old@Example.org&folder=Old%20mail",
        content=mboxrd([make_raw(1), make_raw(2)]),
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 202, response.text
    done = await wait_done(h, response.json()["import_id"], headers)
    assert done["imported"] == 2
    async with h.services.sessionmaker() as db:
        account = await db.get(MailAccount, uuid.UUID(response.json()["account_id"]))
        assert account is not None and account.email == "old@example.org"
        names = (await db.scalars(select(Folder.name).where(Folder.account_id == account.id))).all()
    assert names == ["Old mail"]


async def test_bad_uploads_are_refused_and_not_kept(h: Harness) -> None:
    headers = {**await h.sign_in(), **MBOX}
    cases = [
        (b"", 422, "empty_upload"),
        (b"\n\n  \n", 422, "empty_upload"),
        (b"Subject: hello\n\nnot an mbox\n", 422, "not_mbox"),
        (b"%PDF-1.4\n" + b"x" * 100_000, 422, "not_mbox"),
    ]
    for content, status, code in cases:
        response = await h.http.post("/api/accounts/import", content=content, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    form = await h.http.post(
        "/api/accounts/import", files={"file": ("a.mbox", mboxrd([make_raw(1)]))},
        headers=await h.sign_in(),
    )  # fmt: skip
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"
    assert leftovers(h) == []
    async with h.services.sessionmaker() as db:
        owned = await db.scalar(
            select(func.count(MailAccount.id)).where(MailAccount.user_id.in_(h.user_ids))
        )
    assert owned == 0  # nothing was created for the refused uploads


async def test_authentication_and_ownership(h: Harness) -> None:
    anonymous = await h.http.post("/api/accounts/import", content=b"From x", headers=MBOX)
    assert anonymous.status_code == 401
    assert (await h.http.get(f"/api/accounts/import/{uuid.uuid4().hex}")).status_code == 401
    owner = await h.sign_in()
    started = await h.http.post(
        "/api/accounts/import", content=mboxrd([make_raw(1)]), headers={**owner, **MBOX}
    )
    import_id = started.json()["import_id"]
    await wait_done(h, import_id, owner)
    stranger = await h.sign_in()
    for wanted in (import_id, uuid.uuid4().hex, "x" * 200):
        response = await h.http.get(f"/api/accounts/import/{wanted}", headers=stranger)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


async def test_connected_mailboxes_and_running_imports_answer_409(h: Harness) -> None:
    headers = {**await h.sign_in(), **MBOX}
    user_id = h.user_ids[-1]
    async with h.services.sessionmaker() as db:
        db.add(MailAccount(user_id=user_id, email="work@example.com", kind=AccountKind.IMAP))
        await db.commit()
    data = mboxrd([make_raw(1)])
    connected = await h.http.post(
        "/api/accounts/import?account_email=work@example.com", content=data, headers=headers
    )
    assert connected.status_code == 409 and connected.json()["code"] == "account_not_local"
    lock = _lock_key(user_id, "imported@postwise.local")
    await h.services.store.set(lock, "another-import", ttl=60)
    running = await h.http.post("/api/accounts/import", content=data, headers=headers)
    assert running.status_code == 409 and running.json()["code"] == "import_running"
    await h.services.store.delete(lock)
    accepted = await h.http.post("/api/accounts/import", content=data, headers=headers)
    # The test ends with the import running: the harness waits for it before deleting the
    # test's rows (tests/fixtures/jobs.py), which once deadlocked PostgreSQL.
    assert accepted.status_code == 202


async def test_the_import_limit_applies_and_leaves_nothing(make_harness: Any) -> None:
    # The import route has its own limit, far above the JSON routes' one.
    async with make_harness(max_import_bytes=4096, max_body_bytes=256) as h:
        headers = {**await h.sign_in(), **MBOX}
        data = mboxrd([make_raw(n) for n in range(40)])
        assert len(data) > 4096
        declared = await h.http.post("/api/accounts/import", content=data, headers=headers)
        assert declared.status_code == 413
        assert declared.json()["code"] == "payload_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]

        streamed = await h.http.post("/api/accounts/import", content=chunks(), headers=headers)
        assert streamed.status_code == 413
        assert leftovers(h) == []
        # The lock went with the refused upload: a small file is accepted at once.
        one = mboxrd([make_raw(1)])
        assert 256 < len(one) <= 4096
        small = await h.http.post("/api/accounts/import", content=one, headers=headers)
        assert small.status_code == 202
        assert (await wait_done(h, small.json()["import_id"], headers))["imported"] == 1
