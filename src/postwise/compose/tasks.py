"""Jobs of the outbox and of the server-side copies (docs/architecture.md, "Sending").

- `compose.deliver` {draft_id}: waits out the entry's undo window (when it ends within a minute),
  then drains the entry's mailbox: every due entry, one after the other, over one SMTP session.
- `compose.sweep_outbox` (every 15 s): wakes mailboxes whose due entries have no job waiting for
  them (a restart, a send scheduled far ahead, a retry's backoff), settles claims whose worker
  went away (`compose.outbox`), deletes sent entries after a week, and re-files Sent copies
  whose job was lost.
- `compose.sent_copy` {draft_id}, `compose.mirror_draft` {draft_id, version},
  `compose.remove_mirror` {...}: the copies in the server's Sent and Drafts folders
  (`compose.imap_copy`).

Every change of an entry is announced as `outbox.updated` {draft_id, status, error_code} once it
is committed; a permanent failure also adds a notification (the bell).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.connection import tls_context
from postwise.accounts.models import AccountKind, MailAccount
from postwise.compose import imap_copy, outbox
from postwise.compose.building import BuildError, Envelope, build_message, envelope_of
from postwise.compose.delivery import ClaimLost, DeliveryError, Failure, SmtpConnection
from postwise.compose.events import publish_outbox_update
from postwise.compose.models import Draft, DraftAttachment, DraftStatus, SentCopy
from postwise.db import utcnow
from postwise.kit.crypto import Keyring
from postwise.mail.blobs import BlobNotFoundError, BlobStore
from postwise.notifications.models import NotificationKind
from postwise.notifications.schemas import NewNotification
from postwise.notifications.tasks import notify_after_commit
from postwise.worker.queue import enqueue_job
from postwise.worker.registry import JobContext, Schedule, job

log = structlog.get_logger(__name__)

DELIVER_JOB = "compose.deliver"
SWEEP_JOB = "compose.sweep_outbox"
SENT_COPY_JOB = imap_copy.SENT_COPY_JOB
MIRROR_JOB = "compose.mirror_draft"
REMOVE_MIRROR_JOB = "compose.remove_mirror"
# A delivery job waits for an entry due this soon (the undo window is at most 30 s); one due
# later is woken by the sweep shortly before its time.
WAIT_LIMIT_SECONDS = 60.0
# The schedule is fixed when jobs are registered, before settings exist: 15 s is the default of
# POSTWISE_OUTBOX_SWEEP_SECONDS, which sets how far ahead each sweep wakes deliveries.
SWEEP_INTERVAL = 15
# A Sent copy still pending this long after the send lost its job.
SENT_COPY_LOST_AFTER = timedelta(minutes=10)
SENT_COPY_GIVE_UP_AFTER = timedelta(days=1)
INVALID_MESSAGE = "invalid_message"
# Where the bell's notification leads: the outbox view, which lists failed entries.
OUTBOX_LINK = "/?folder=outbox"

# One drain per mailbox at a time in this process: a second job finds the first one's lock
# held, waits, and then finds nothing left to claim, instead of opening a parallel session.
# (Processes on other machines may drain the same mailbox; the claims keep that safe.)
_drain_locks: weakref.WeakValueDictionary[
    tuple[asyncio.AbstractEventLoop, uuid.UUID], asyncio.Lock
] = weakref.WeakValueDictionary()


# Mailboxes whose running drain should look for due entries once more before it ends.
_look_again: set[tuple[asyncio.AbstractEventLoop, uuid.UUID]] = set()


def _drain_lock(account_id: uuid.UUID) -> asyncio.Lock:
    key = (asyncio.get_running_loop(), account_id)
    lock = _drain_locks.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _drain_locks[key] = lock
    return lock


async def _announce(
    ctx: JobContext, user_id: uuid.UUID, draft_id: uuid.UUID, status: str, code: str | None
) -> None:
    await publish_outbox_update(ctx, user_id, draft_id, status, code)


async def _notify_failed(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> str | None:
    """The bell's notice of a message that will not leave by itself; returns its error code."""
    row = (
        await db.execute(
            select(Draft.subject, Draft.error_code, Draft.last_error).where(Draft.id == draft_id)
        )
    ).one_or_none()
    if row is None:
        return None
    subject, code, message = row
    notify_after_commit(
        db,
        NewNotification(
            user_id=user_id,
            kind=NotificationKind.SEND_FAILED,
            title=f"Not sent: {subject or '(no subject)'}"[:200],
            body=message or "",
            link=OUTBOX_LINK,
            data={"draft_id": str(draft_id), "code": code},
            dedupe_key=f"{NotificationKind.SEND_FAILED}:{draft_id}",
        ),
    )
    return str(code) if code is not None else None


# --- delivery ------------------------------------------------------------------------------------


@job(DELIVER_JOB)
async def deliver(ctx: JobContext, *, draft_id: str) -> int:
    """Send `draft_id` when its undo window ends, with whatever else its mailbox has due;
    returns how many messages this job sent."""
    account_id = await _wait_until_due(ctx, uuid.UUID(draft_id))
    if account_id is None:
        return 0
    return await drain_account(ctx, account_id)


async def _wait_until_due(ctx: JobContext, entry_id: uuid.UUID) -> uuid.UUID | None:
    """The entry's mailbox once the entry is due; None when it is no longer queued (cancelled,
    already sent by another job) or not due within WAIT_LIMIT_SECONDS (the sweep wakes it).

    Looks again every second while waiting, so an undo ends the job at once instead of
    holding a worker until the window would have ended."""
    while True:
        async with ctx.sessionmaker() as db:
            row = (
                await db.execute(
                    select(Draft.account_id, Draft.status, Draft.next_attempt_at).where(
                        Draft.id == entry_id
                    )
                )
            ).one_or_none()
        if row is None or row.status != DraftStatus.QUEUED or row.next_attempt_at is None:
            return None
        wait = (row.next_attempt_at - utcnow()).total_seconds()
        if wait <= 0:
            return uuid.UUID(str(row.account_id))
        if wait > WAIT_LIMIT_SECONDS:
            return None
        await asyncio.sleep(min(wait, 1.0))


async def drain_account(ctx: JobContext, account_id: uuid.UUID) -> int:
    """Send every due entry of the mailbox, over one SMTP session; returns how many were sent.

    A job that finds the mailbox already draining in this process leaves a note and returns
    at once instead of waiting on the lock: waiting held a worker slot each, and a burst of
    500 sends left nothing else running until the drain ended (bench.compose). The running
    drain reads the note before it lets go and looks for due entries again, so an entry that
    became due after its last look is not left for the sweep."""
    key = (asyncio.get_running_loop(), account_id)
    lock = _drain_lock(account_id)
    if lock.locked():
        _look_again.add(key)
        return 0
    sent = 0
    async with lock:
        try:
            while True:
                _look_again.discard(key)
                drain = _Drain(ctx, account_id)
                try:
                    sent += await drain.run()
                finally:
                    await drain.close()
                if key not in _look_again:
                    return sent
        finally:
            _look_again.discard(key)


class _Drain:
    def __init__(self, ctx: JobContext, account_id: uuid.UUID) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.account_id = account_id
        self.blobs = BlobStore(settings.effective_blob_dir)
        self.keyring = Keyring(settings.secret(), settings.previous_secrets())
        self.ssl_context = tls_context(settings.mail_ca_file)
        self.connection: SmtpConnection | None = None
        # Connecting failed in this drain: the other entries fail the same way without
        # trying again now (each is retried on its own backoff).
        self.refusal: Failure | None = None
        # Each entry is tried once per drain; a retry is due later, in another drain.
        self.tried: set[uuid.UUID] = set()
        self.sent = 0

    async def run(self) -> int:
        while True:
            async with self.ctx.sessionmaker() as db:
                due = await outbox.due_ids(db, self.account_id, now=utcnow())
            fresh = [draft_id for draft_id in due if draft_id not in self.tried]
            if not fresh:
                return self.sent
            for draft_id in fresh:
                self.tried.add(draft_id)
                claim = await self._claim(draft_id)
                if claim is not None:
                    await self._deliver(claim)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def _claim(self, draft_id: uuid.UUID) -> outbox.Claim | None:
        # Committed before the server hears anything: from here on, cancelling is refused.
        async with self.ctx.transaction() as db:
            claim = await outbox.claim(
                db, draft_id, now=utcnow(), claim_seconds=self.ctx.settings.send_claim_seconds
            )
        if claim is not None:
            await _announce(self.ctx, claim.user_id, draft_id, DraftStatus.SENDING, None)
        return claim

    async def _deliver(self, claim: outbox.Claim) -> None:
        try:
            account, raw, envelope = await self._message(claim)
            reply = await self._send(account, claim, raw, envelope)
        except ClaimLost:
            log.info("outbox_claim_lost", draft=str(claim.draft_id))
        except BuildError as error:
            await self._failed(claim, Failure(False, INVALID_MESSAGE, str(error)))
        except DeliveryError as error:
            await self._failed(claim, error.failure)
        except Exception:
            log.exception("outbox_delivery_crashed", draft=str(claim.draft_id))
            problem = "An unexpected problem stopped the sending; Postwise will try again."
            await self._failed(claim, Failure(True, outbox.INTERNAL_ERROR, problem))
        else:
            await self._sent(claim, account, reply)

    async def _message(self, claim: outbox.Claim) -> tuple[MailAccount, bytes, Envelope]:
        """The bytes to send: built at the first attempt and kept as a blob, so every attempt
        (and the Sent copy) carries the same message, Date and all."""
        async with self.ctx.sessionmaker() as db:
            draft = await db.get(Draft, claim.draft_id)
            account = await db.get(MailAccount, claim.account_id)
            attachments = list(
                await db.scalars(
                    select(DraftAttachment).where(DraftAttachment.draft_id == claim.draft_id)
                )
            )
        if draft is None or account is None:
            raise ClaimLost()  # deleted meanwhile
        if claim.raw_sha256 is not None:
            try:
                raw = await asyncio.to_thread(self.blobs.get, claim.raw_sha256)
                return account, raw, envelope_of(draft, account)
            except BlobNotFoundError:
                log.warning("outbox_message_blob_missing", draft=str(claim.draft_id))
        built = await asyncio.to_thread(
            build_message, draft, attachments, account, read_blob=self.blobs.get
        )
        digest = await asyncio.to_thread(self.blobs.put, built.raw)
        async with self.ctx.transaction() as db:
            if not await outbox.set_raw(db, claim, digest):
                raise ClaimLost()
        return account, built.raw, built.envelope

    async def _send(
        self, account: MailAccount, claim: outbox.Claim, raw: bytes, envelope: Envelope
    ) -> str:
        if self.refusal is not None:
            raise DeliveryError(self.refusal)
        if self.connection is None or not self.connection.usable:
            if self.connection is not None:
                await self.connection.close()
                self.connection = None
            try:
                self.connection = await SmtpConnection.open(
                    account,
                    settings=self.ctx.settings,
                    keyring=self.keyring,
                    ssl_context=self.ssl_context,
                )
            except DeliveryError as error:
                self.refusal = error.failure
                raise
        return await self.connection.send(
            envelope, raw, before_data=lambda: self._start_data(claim)
        )

    async def _start_data(self, claim: outbox.Claim) -> bool:
        async with self.ctx.transaction() as db:
            return await outbox.start_data(
                db, claim, now=utcnow(), claim_seconds=self.ctx.settings.send_claim_seconds
            )

    async def _sent(self, claim: outbox.Claim, account: MailAccount, reply: str) -> None:
        copy = SentCopy.PENDING if account.kind == AccountKind.IMAP else SentCopy.SKIPPED
        async with self.ctx.transaction() as db:
            done = await outbox.mark_sent(db, claim, now=utcnow(), reply=reply, sent_copy=copy)
            if done and copy is SentCopy.PENDING:
                enqueue_job(db, SENT_COPY_JOB, draft_id=str(claim.draft_id))
        if not done:
            # Delivered, but the entry was taken from this worker meanwhile (the user sent it
            # again after a `delivery_uncertain`): the row is theirs now.
            log.warning("outbox_sent_without_claim", draft=str(claim.draft_id))
            return
        self.sent += 1
        log.info("outbox_sent", draft=str(claim.draft_id), attempt=claim.attempt)
        await _announce(self.ctx, claim.user_id, claim.draft_id, DraftStatus.SENT, None)

    async def _failed(self, claim: outbox.Claim, failure: Failure) -> None:
        now = utcnow()
        settings = self.ctx.settings
        code: str | None = failure.code
        async with self.ctx.transaction() as db:
            status: DraftStatus | None
            if failure.temporary:
                status = await outbox.mark_temporary(db, claim, failure, now=now, settings=settings)
            else:
                failed = await outbox.mark_failed(db, claim, failure)
                status = DraftStatus.FAILED if failed else None
            if status is DraftStatus.FAILED:
                code = await _notify_failed(db, claim.user_id, claim.draft_id)
        log.info(
            "outbox_attempt_failed",
            draft=str(claim.draft_id),
            attempt=claim.attempt,
            code=failure.code,
            reply=failure.reply,
            status=status,
        )
        if status is not None:
            await _announce(self.ctx, claim.user_id, claim.draft_id, status, code)


# --- the sweep -----------------------------------------------------------------------------------


@job(SWEEP_JOB, schedule=Schedule(interval=SWEEP_INTERVAL))
async def sweep_outbox(ctx: JobContext) -> dict[str, int]:
    now = utcnow()
    counts = {"requeued": 0, "uncertain": 0, "woken": 0, "deleted": 0, "copies": 0}
    async with ctx.sessionmaker() as db:
        expired = await outbox.expired_claims(db, now=now)
    for entry in expired:
        code: str | None = None
        async with ctx.transaction() as db:
            status = await outbox.settle_expired(db, entry, now=now, settings=ctx.settings)
            if status is DraftStatus.FAILED:
                code = await _notify_failed(db, entry.user_id, entry.draft_id)
        if status is None:
            continue
        counts["requeued" if status is DraftStatus.QUEUED else "uncertain"] += 1
        log.warning("outbox_claim_expired", draft=str(entry.draft_id), status=status, code=code)
        await _announce(ctx, entry.user_id, entry.draft_id, status, code)
    horizon = now + timedelta(seconds=ctx.settings.outbox_sweep_seconds)
    async with ctx.transaction() as db:
        # Re-queued entries above are due now and are woken here too.
        for draft_id in await outbox.due_by_account(db, until=horizon):
            enqueue_job(db, DELIVER_JOB, draft_id=str(draft_id))
            counts["woken"] += 1
        counts["deleted"] = await outbox.delete_old_sent(db, now=now)
        lost = await outbox.lost_sent_copies(
            db, older_than=now - SENT_COPY_LOST_AFTER, newer_than=now - SENT_COPY_GIVE_UP_AFTER
        )
        for draft_id in lost:
            enqueue_job(db, SENT_COPY_JOB, draft_id=str(draft_id), recheck=True)
            counts["copies"] += 1
    if any(counts.values()):
        log.info("outbox_swept", **counts)
    return counts


# --- the server's Sent and Drafts folders -----------------------------------------------------


@job(SENT_COPY_JOB)
async def sent_copy(ctx: JobContext, *, draft_id: str, recheck: bool = False) -> str | None:
    """File the sent message in the server's Sent folder and locally; `recheck` first looks
    whether an earlier run already did (the sweep's re-run of a lost job)."""
    return await imap_copy.file_sent_copy(ctx, uuid.UUID(draft_id), recheck=recheck)


@job(MIRROR_JOB)
async def mirror_draft(ctx: JobContext, *, draft_id: str, version: int) -> str:
    await asyncio.sleep(ctx.settings.draft_mirror_delay_seconds)
    return await imap_copy.mirror_draft(ctx, uuid.UUID(draft_id), version)


@job(REMOVE_MIRROR_JOB)
async def remove_mirror(
    ctx: JobContext, *, account_id: str, folder: str, uidvalidity: int, uid: int
) -> bool:
    copy = imap_copy.MirrorCopy(folder=folder, uidvalidity=uidvalidity, uid=uid)
    return await imap_copy.remove_mirror(ctx, uuid.UUID(account_id), copy)
