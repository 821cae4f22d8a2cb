"""Rows the compose tests start from: a signed-in user, mailboxes (able to send or not), folders
and real messages stored the way sync stores them (mail.ingest), attachments included."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import select

from postwise.accounts.models import AccountKind, MailAccount
from postwise.mail.blobs import BlobStore
from postwise.mail.ingest import IncomingMessage, store_batch
from postwise.mail.models import Folder, Message
from tests.accounts.conftest import Harness
from tests.accounts.servers import closed_port

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class Mailbox:
    headers: dict[str, str]
    user_id: uuid.UUID
    account_id: uuid.UUID
    email: str
    folders: dict[str, uuid.UUID]


async def add_account(
    h: Harness,
    user_id: uuid.UUID,
    email: str,
    *,
    kind: AccountKind = AccountKind.IMAP,
    send_as: Sequence[dict[str, str]] = (),
    signature_text: str = "",
    signature_html: str = "",
    created_at: datetime | None = None,
) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    """A mailbox with INBOX, Sent, Drafts and Junk. An IMAP one has an SMTP server and a
    stored password (both on closed local ports: nothing here connects anywhere)."""
    imap = kind == AccountKind.IMAP
    async with h.services.sessionmaker() as db:
        account = MailAccount(
            user_id=user_id,
            kind=kind,
            email=email,
            username=email,
            credentials="sealed-password" if imap else None,
            imap_host="127.0.0.1" if imap else "",
            imap_port=closed_port() if imap else 0,
            imap_security="none",
            smtp_host="127.0.0.1" if imap else "",
            smtp_port=closed_port() if imap else 0,
            smtp_security="none",
            send_as=json.dumps(list(send_as)),
            signature_text=signature_text,
            signature_html=signature_html,
            sync_state="idle",
            **({"created_at": created_at} if created_at else {}),
        )
        db.add(account)
        await db.flush()
        folders = {}
        for name, role in (
            ("INBOX", "inbox"),
            ("Sent", "sent"),
            ("Drafts", "drafts"),
            ("Junk", "junk"),
        ):
            folder = Folder(
                user_id=user_id, account_id=account.id, name=name, role=role, uidvalidity=1
            )
            db.add(folder)
            await db.flush()
            folders[role] = folder.id
        await db.commit()
        return account.id, folders


async def mailbox(h: Harness, **account: object) -> Mailbox:
    """A new signed-in user with one mailbox."""
    headers = await h.sign_in()
    user_id = await h.user_id(headers)
    email = f"me-{uuid.uuid4().hex[:8]}@example.com"
    account_id, folders = await add_account(h, user_id, email, **account)  # type: ignore[arg-type]
    return Mailbox(headers, user_id, account_id, email, folders)


def mail(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str = "Hello there.\n",
    cc: str | None = None,
    reply_to: str | None = None,
    html: str | None = None,
    message_id: str | None = None,
    references: str | None = None,
    when: datetime = START,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """A message as a server would hold it; `attachments` are (filename, type, bytes)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<{message_id or uuid.uuid4().hex + '@mail.example.net'}>"
    if references:
        message["References"] = references
        message["In-Reply-To"] = references.split()[-1]
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, payload in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(message)


async def store(h: Harness, folder_id: uuid.UUID, *raws: bytes) -> list[Message]:
    """Store messages in a folder as sync does (blobs, rows, attachments, threads)."""
    async with h.services.sessionmaker() as db:
        folder = await db.get(Folder, folder_id)
        assert folder is not None
        last = await db.scalar(
            select(Message.uid)
            .where(Message.folder_id == folder_id)
            .order_by(Message.uid.desc())
            .limit(1)
        )
        incoming = [
            IncomingMessage(
                uid=(last or 0) + n + 1,
                raw=raw,
                flags=(),
                internal_date=START + timedelta(minutes=n),
            )
            for n, raw in enumerate(raws)
        ]
        stored = await store_batch(
            db,
            folder=folder,
            incoming=incoming,
            blobs=BlobStore(h.settings.effective_blob_dir, fsync=False),
            executor=None,
        )
        await db.commit()
        rows = await db.scalars(
            select(Message).where(Message.id.in_(stored.message_ids)).order_by(Message.id)
        )
        return list(rows.all())


async def create(h: Harness, box: Mailbox, **body: Any) -> dict[str, Any]:
    response = await h.http.post("/api/drafts", json=body, headers=box.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]
