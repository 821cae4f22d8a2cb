"""Harness of the outbox tests: the runtime a worker runs (engine, Store, broker with every job),
rows written directly, and the jobs called directly, as a worker would run them.

Jobs the jobs send (the Sent copy, notifications, the sweep's deliveries) run on the runtime's
broker and are waited for with `settle()`; nothing here sleeps for a schedule.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from postwise.accounts.credentials import seal_password
from postwise.accounts.models import AccountKind, MailAccount, Security
from postwise.compose import tasks
from postwise.compose.models import Draft, DraftAttachment, DraftStatus
from postwise.config import Settings
from postwise.db import utcnow
from postwise.events import user_channel
from postwise.kit.crypto import Keyring
from postwise.mail.blobs import BlobStore
from postwise.mail.folders import upsert_folder
from postwise.notifications.models import Notification
from postwise.runtime import open_runtime
from postwise.users.models import User
from postwise.users.service import delete_user
from postwise.worker.registry import JobContext
from tests.fixtures.jobs import JobLedger, consume_jobs


@dataclass
class Events:
    seen: list[dict[str, Any]] = field(default_factory=list)

    def outbox(self) -> list[tuple[str, str, str | None]]:
        return [
            (e["data"]["draft_id"], e["data"]["status"], e["data"].get("error_code"))
            for e in self.seen
            if e["type"] == "outbox.updated"
        ]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.seen if e["type"] == kind]


@dataclass
class Outbox:
    ctx: JobContext
    ledger: JobLedger
    blobs: BlobStore
    user_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    async def user(self) -> uuid.UUID:
        async with self.ctx.sessionmaker() as db:
            user = User(email=f"owner-{uuid.uuid4().hex[:12]}@example.test", password_hash="x")
            db.add(user)
            await db.commit()
        self.user_ids.append(user.id)
        return user.id

    async def account(
        self,
        user_id: uuid.UUID,
        *,
        smtp_port: int,
        smtp_host: str = "127.0.0.1",
        security: Security = Security.NONE,
        username: str = "",
        password: str = "smtp-secret",  # noqa: S107 (a test mailbox)
        email: str | None = None,
        **fields: Any,
    ) -> uuid.UUID:
        keyring = Keyring(self.settings.secret(), self.settings.previous_secrets())
        async with self.ctx.sessionmaker() as db:
            values: dict[str, Any] = {"kind": AccountKind.IMAP}
            values.update(fields)
            account = MailAccount(
                user_id=user_id,
                email=email or f"me-{uuid.uuid4().hex[:8]}@example.test",
                sender_name="Zoë Ærøskøbing",
                username=username,
                credentials=seal_password(keyring, password),
                smtp_host=smtp_host,
                smtp_port=smtp_port,
                smtp_security=security,
                **values,
            )
            db.add(account)
            await db.commit()
            return account.id

    async def queue(
        self,
        account_id: uuid.UUID,
        *,
        due: datetime | None = None,
        attachments: Sequence[tuple[str, str, bytes, str | None]] = (),
        status: DraftStatus = DraftStatus.QUEUED,
        **fields: Any,
    ) -> uuid.UUID:
        """An entry as the send route leaves it; `attachments` are (filename, type, bytes,
        content id for an inline image)."""
        async with self.ctx.sessionmaker() as db:
            account = await db.get(MailAccount, account_id)
            assert account is not None
            values: dict[str, Any] = {
                "to": [{"name": "Ann", "address": "ann@example.org"}],
                "subject": "Hello",
                "text": "Hi Ann.\n",
            }
            values.update(fields)
            now = utcnow()
            draft = Draft(
                user_id=account.user_id,
                account_id=account_id,
                status=status,
                message_id=f"{uuid.uuid4().hex}@example.test",
                send_at=due or now,
                next_attempt_at=(due or now) if status == DraftStatus.QUEUED else None,
                **values,
            )
            db.add(draft)
            await db.flush()
            for position, (name, content_type, data, cid) in enumerate(attachments):
                digest = self.blobs.put(data)
                db.add(
                    DraftAttachment(
                        draft_id=draft.id,
                        user_id=account.user_id,
                        position=position,
                        filename=name,
                        content_type=content_type,
                        size=len(data),
                        sha256=digest,
                        content_id=cid,
                        is_inline=cid is not None,
                    )
                )
            await db.commit()
            return draft.id

    async def entry(self, draft_id: uuid.UUID) -> Draft:
        async with self.ctx.sessionmaker() as db:
            draft = await db.get(Draft, draft_id)
            assert draft is not None
            return draft

    async def change(self, draft_id: uuid.UUID, **values: Any) -> None:
        async with self.ctx.sessionmaker() as db:
            await db.execute(update(Draft).where(Draft.id == draft_id).values(**values))
            await db.commit()

    async def change_account(self, account_id: uuid.UUID, **values: Any) -> None:
        async with self.ctx.sessionmaker() as db:
            await db.execute(
                update(MailAccount).where(MailAccount.id == account_id).values(**values)
            )
            await db.commit()

    async def add_folder(self, account_id: uuid.UUID, name: str, role: str) -> uuid.UUID:
        """A folder as the sync records it (the server's name, its role, a UIDVALIDITY)."""
        async with self.ctx.sessionmaker() as db:
            account = await db.get(MailAccount, account_id)
            assert account is not None
            folder = upsert_folder(
                db,
                None,
                user_id=account.user_id,
                account_id=account_id,
                name=name,
                delimiter="/",
                role=role,
                attributes="",
                selectable=True,
            )
            folder.uidvalidity = 1
            await db.commit()
            return folder.id

    async def notifications(self, user_id: uuid.UUID) -> list[Notification]:
        async with self.ctx.sessionmaker() as db:
            rows = await db.scalars(select(Notification).where(Notification.user_id == user_id))
            return list(rows.all())

    async def deliver(self, draft_id: uuid.UUID) -> int:
        """Runs the job as a worker would; how many messages it sent."""
        sent = await tasks.deliver(self.ctx, draft_id=str(draft_id))
        assert isinstance(sent, int)
        return sent

    async def sweep(self) -> dict[str, int]:
        counts = await tasks.sweep_outbox(self.ctx)
        assert isinstance(counts, dict)
        return counts

    async def settle(self) -> None:
        """Until every job sent so far (and every job those sent) has ended."""
        await self.ledger.drain(timeout=30)

    @asynccontextmanager
    async def events(self, user_id: uuid.UUID) -> AsyncIterator[Events]:
        events = Events()
        async with self.ctx.store.subscribe(user_channel(user_id)) as messages:

            async def collect() -> None:
                async for message in messages:
                    events.seen.append(json.loads(message.data))

            reader = asyncio.create_task(collect())
            try:
                yield events
            finally:
                # Redis delivers a moment after publishing.
                await asyncio.sleep(0.1)
                reader.cancel()
                await asyncio.wait({reader}, timeout=5)

    async def cleanup(self) -> None:
        for user_id in self.user_ids:
            async with self.ctx.sessionmaker() as db:
                await delete_user(db, user_id=user_id)
                await db.commit()


@asynccontextmanager
async def open_outbox(settings: Settings) -> AsyncIterator[Outbox]:
    async with open_runtime(settings, strict=True) as runtime:
        ctx = JobContext(
            settings=settings,
            store=runtime.store,
            sessionmaker=runtime.sessionmaker,
            jobs=runtime.jobs,
            mailer=runtime.mailer,
        )
        harness: Outbox | None = None
        try:
            async with consume_jobs(runtime.broker) as ledger:
                harness = Outbox(ctx, ledger, BlobStore(settings.effective_blob_dir, fsync=False))
                yield harness
        finally:
            if harness is not None:
                await harness.cleanup()


def ago(seconds: float) -> datetime:
    return utcnow() - timedelta(seconds=seconds)
