"""Notifications are created by jobs, after the change they tell of has committed, and announced
to the user's open screens as `notification.created`.

- `notify_after_commit(db, notice)`: inside a transaction (a sign-in); dropped on rollback.
- `notify_now(jobs, notice)`: from a job with no transaction of its own left (an import).
- `on_sync_state(...)`: the sync engine writes a mailbox's state in its own transactions, with
  no job queue at hand, so it creates the notification there and announces it after the commit
  (`announce_created`).
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.models import MailAccount, SyncState
from postwise.events import EventType, announce
from postwise.notifications import messages, service
from postwise.notifications.schemas import NewNotification, NotificationOut
from postwise.store import Store
from postwise.worker.queue import JobQueue, PendingJob, enqueue_job
from postwise.worker.registry import JobContext, job

log = structlog.get_logger(__name__)

CREATE_JOB = "notifications.create"


def _job_kwargs(notice: NewNotification) -> dict[str, Any]:
    return notice.model_dump(mode="json")


def notify_after_commit(db: AsyncSession, notice: NewNotification) -> None:
    enqueue_job(db, CREATE_JOB, **_job_kwargs(notice))


async def notify_now(jobs: JobQueue, notice: NewNotification) -> None:
    """Never raises: a notification that could not be queued is logged, not the caller's
    failure."""
    await jobs.dispatch([PendingJob(name=CREATE_JOB, kwargs=_job_kwargs(notice))])


async def announce_created(store: Store, user_id: uuid.UUID, created: NotificationOut) -> None:
    await announce(store, user_id, EventType.NOTIFICATION_CREATED, created.model_dump(mode="json"))


@job(CREATE_JOB, retries=2)
async def create_notification(ctx: JobContext, **fields: Any) -> str | None:
    notice = NewNotification.model_validate(fields)
    async with ctx.transaction() as db:
        row = await service.create(db, notice)
        created = NotificationOut.model_validate(row) if row is not None else None
    if created is None:
        return None
    await announce_created(ctx.store, notice.user_id, created)
    log.info("notification_created", kind=notice.kind, user=str(notice.user_id))
    return str(created.id)


async def on_sync_state(
    db: AsyncSession,
    account: MailAccount,
    *,
    previous_state: str,
    previous_code: str | None,
) -> NotificationOut | None:
    """Called by the sync engine in the transaction that records `account`'s new state: a
    mailbox that starts failing gets a notification, at most one unread per mailbox however
    often it retries (a failure of another kind adds one only once the first was read); a
    mailbox that connects again has its notification marked read.
    Returns the notification to announce once the transaction has committed."""
    state = SyncState(account.sync_state)
    if state is not SyncState.ERROR:  # connected again
        await service.resolve(
            db, user_id=account.user_id, dedupe_key=messages.mailbox_dedupe_key(account.id)
        )
        return None
    if account.last_error_code in messages.QUIET_MAILBOX_CODES:
        return None
    if previous_state == SyncState.ERROR and previous_code == account.last_error_code:
        return None  # the same failure, retried
    notice = messages.mailbox_error(
        user_id=account.user_id,
        account_id=account.id,
        mailbox=account.email,
        host=account.imap_host,
        code=account.last_error_code,
    )
    row = await service.create(db, notice)
    return NotificationOut.model_validate(row) if row is not None else None


async def import_finished(
    ctx: JobContext, *, record: dict[str, Any], account_id: str, failure: str | None
) -> None:
    """Tell the user an upload import ended (`record` is its progress record, which names the
    user). Never raises: the import's own outcome is already saved."""
    try:
        user_id = uuid.UUID(str(record["user_id"]))
        async with ctx.sessionmaker() as db:
            account = await db.get(MailAccount, uuid.UUID(account_id))
            mailbox = account.email if account is not None else "your mailbox"
        notice = messages.import_finished(
            user_id=user_id,
            account_id=uuid.UUID(account_id),
            mailbox=mailbox,
            imported=int(record.get("imported", 0)),
            skipped=int(record.get("skipped", 0)),
            errors=int(record.get("errors", 0)),
            failure=failure,
        )
    except Exception:
        log.exception("import_notification_failed", account=account_id)
        return
    await notify_now(ctx.jobs, notice)
