"""Queue a transactional mail; it leaves with the transaction's commit (never before)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from postwise.worker.queue import enqueue_job


def send_mail(db: AsyncSession, template: str, *, to: str, **context: object) -> None:
    enqueue_job(db, "notify.send_email", template=template, to=to, context=context)
