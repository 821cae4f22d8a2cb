"""Queue a transactional mail; it leaves with the transaction's commit (never before)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.auth.kit import AuthKit
from postwise.worker.queue import enqueue_job


def send_mail(db: AsyncSession, template: str, *, to: str, **context: object) -> None:
    enqueue_job(db, "notify.send_email", template=template, to=to, context=context)


async def require_mail_queue(kit: AuthKit) -> None:
    """Answer 503 `store_unavailable` now, before anything is committed, when the mail this
    request exists to send could not leave: jobs travel on the Store's Redis (both are
    `POSTWISE_REDIS_URL`), and after the commit a job that cannot be sent is only logged, while
    the answer would have told the user that a message is on its way. Asked of every caller
    alike, so the answer still says nothing about the address."""
    await kit.store.ping()
