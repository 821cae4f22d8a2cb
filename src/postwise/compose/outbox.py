"""The outbox's state transitions. Each is one compare-and-set UPDATE; the caller commits.

States (a draft row, `compose.models.DraftStatus`; docs/architecture.md, "Sending"):

    draft --send--> queued --claim--> sending --250--> sent --(7 days)--> deleted
      ^               |  ^               |--4xx, network, timeout before DATA--> queued (backoff)
      |               |  |               |--5xx, 535, refused host, retries used up--> failed
      +----cancel-----+  +--claim expired, no DATA--+
                                         +--claim expired after DATA--> failed (uncertain)

Why a message is never delivered twice:
- Only the worker holding the claim sends an entry. The claim is an UPDATE from queued whose
  WHERE the cancel route's UPDATE excludes (and the other way round), so exactly one wins;
  every later step of the holder is again an UPDATE guarded by its claim (`_held`:
  the attempt number with the time of the first attempt, which a re-send resets), so a worker
  whose claim was taken away changes nothing and sends nothing.
- Just before DATA the holder records (and commits) `data_started_at`. A claim that expires
  (the worker died, or hangs) without it was never handed over: back to queued, sent again.
  One that expires with it may have been delivered: failed with `delivery_uncertain`, and it
  leaves again only when the user sends it again. That is the one honest limit: a worker dying
  between DATA and recording the server's 250 leaves an entry the user must check, never a
  second copy at the recipients.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.compose.delivery import DELIVERY_UNCERTAIN, UNCERTAIN_SENTENCE, Failure
from postwise.compose.models import Draft, DraftStatus, SentCopy
from postwise.config import Settings
from postwise.db import UtcDateTime, affected_rows

DELIVERY_FAILED = "delivery_failed"
INTERNAL_ERROR = "internal_error"
# Sent entries stay listed (GET /api/outbox shows the last day) and are deleted after this; the
# blob collector then frees their message and attachment blobs.
KEEP_SENT = timedelta(days=7)
# Backoff exponents beyond this add nothing but overflow.
_MAX_DOUBLINGS = 20


@dataclass(frozen=True, slots=True)
class Claim:
    draft_id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID
    attempt: int
    first_attempt_at: datetime
    raw_sha256: str | None


def _held(claim: Claim) -> ColumnElement[bool]:
    """The entry as this claim left it: any other claim since has a higher attempt number or
    (after the user sent it again) another first attempt."""
    return and_(
        Draft.id == claim.draft_id,
        Draft.attempts == claim.attempt,
        Draft.first_attempt_at == claim.first_attempt_at,
    )


async def due_ids(
    db: AsyncSession, account_id: uuid.UUID, *, now: datetime, limit: int = 100
) -> list[uuid.UUID]:
    rows = await db.scalars(
        select(Draft.id)
        .where(
            Draft.account_id == account_id,
            Draft.status == DraftStatus.QUEUED,
            Draft.next_attempt_at <= now,
        )
        .order_by(Draft.next_attempt_at, Draft.id)
        .limit(limit)
    )
    return list(rows.all())


async def claim(
    db: AsyncSession, draft_id: uuid.UUID, *, now: datetime, claim_seconds: float
) -> Claim | None:
    """Take a due queued entry for sending; None when it is not (any more) due and queued."""
    result = await db.execute(
        update(Draft)
        .where(
            Draft.id == draft_id,
            Draft.status == DraftStatus.QUEUED,
            Draft.next_attempt_at <= now,
        )
        .values(
            status=DraftStatus.SENDING,
            claimed_until=now + timedelta(seconds=claim_seconds),
            attempts=Draft.attempts + 1,
            first_attempt_at=func.coalesce(Draft.first_attempt_at, literal(now, UtcDateTime())),
            data_started_at=None,
        )
        .returning(
            Draft.user_id,
            Draft.account_id,
            Draft.attempts,
            Draft.first_attempt_at,
            Draft.raw_sha256,
        )
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    if row is None:
        return None
    user_id, account_id, attempt, first, raw = row
    assert first is not None  # set by this very UPDATE
    return Claim(draft_id, user_id, account_id, attempt, first, raw)


async def set_raw(db: AsyncSession, claim: Claim, digest: str) -> bool:
    """Fix the built message for every later attempt."""
    result = await db.execute(
        update(Draft)
        .where(_held(claim), Draft.status == DraftStatus.SENDING)
        .values(raw_sha256=digest)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


async def start_data(
    db: AsyncSession, claim: Claim, *, now: datetime, claim_seconds: float
) -> bool:
    """Record that the body is about to be handed over (and renew the claim for it); False
    when the entry is no longer this claim's, and nothing may be sent."""
    result = await db.execute(
        update(Draft)
        .where(_held(claim), Draft.status == DraftStatus.SENDING)
        .values(data_started_at=now, claimed_until=now + timedelta(seconds=claim_seconds))
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


async def mark_sent(
    db: AsyncSession, claim: Claim, *, now: datetime, reply: str, sent_copy: SentCopy | None
) -> bool:
    result = await db.execute(
        update(Draft)
        .where(
            _held(claim),
            or_(
                Draft.status == DraftStatus.SENDING,
                # The sweep judged a slow worker dead after DATA; the server's 250 says better.
                and_(
                    Draft.status == DraftStatus.FAILED,
                    Draft.error_code == DELIVERY_UNCERTAIN,
                ),
            ),
        )
        .values(
            status=DraftStatus.SENT,
            sent_at=now,
            smtp_reply=reply,
            claimed_until=None,
            error_code=None,
            last_error=None,
            sent_copy=sent_copy,
        )
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


async def mark_failed(db: AsyncSession, claim: Claim, failure: Failure) -> bool:
    values: dict[str, object] = {
        "status": DraftStatus.FAILED,
        "claimed_until": None,
        "error_code": failure.code,
        "last_error": failure.message,
    }
    if failure.reply is not None:
        values["smtp_reply"] = failure.reply
    result = await db.execute(
        update(Draft)
        .where(_held(claim), Draft.status == DraftStatus.SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


def retry_delay(settings: Settings, attempt: int) -> timedelta:
    doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
    return timedelta(seconds=settings.send_retry_base_seconds * 2**doublings)


def _retries_used_up(failure: Failure, *, minutes: float) -> Failure:
    last = f" The last answer was: {failure.reply}" if failure.reply else f" {failure.message}"
    return Failure(
        False,
        DELIVERY_FAILED,
        f"The message could not be sent for {minutes:g} minutes, so Postwise stopped trying."
        f"{last} Send it again from the outbox to retry.",
        failure.reply,
    )


async def mark_temporary(
    db: AsyncSession, claim: Claim, failure: Failure, *, now: datetime, settings: Settings
) -> DraftStatus | None:
    """Back to queued for a later attempt, or failed once the retry time is used up; None when
    the entry is no longer this claim's."""
    if (now - claim.first_attempt_at).total_seconds() >= settings.send_retry_seconds:
        minutes = round(settings.send_retry_seconds / 60, 1)
        failed = await mark_failed(db, claim, _retries_used_up(failure, minutes=minutes))
        return DraftStatus.FAILED if failed else None
    values: dict[str, object] = {
        "status": DraftStatus.QUEUED,
        "next_attempt_at": now + retry_delay(settings, claim.attempt),
        "claimed_until": None,
        "data_started_at": None,
        "error_code": failure.code,
        "last_error": failure.message,
    }
    if failure.reply is not None:
        values["smtp_reply"] = failure.reply
    result = await db.execute(
        update(Draft)
        .where(_held(claim), Draft.status == DraftStatus.SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return DraftStatus.QUEUED if affected_rows(result) == 1 else None


# --- the sweep ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expired:
    draft_id: uuid.UUID
    user_id: uuid.UUID
    account_id: uuid.UUID
    handed_over: bool


async def expired_claims(db: AsyncSession, *, now: datetime, limit: int = 500) -> list[Expired]:
    rows = await db.execute(
        select(Draft.id, Draft.user_id, Draft.account_id, Draft.data_started_at)
        .where(Draft.status == DraftStatus.SENDING, Draft.claimed_until < now)
        .limit(limit)
    )
    return [Expired(i, u, a, started is not None) for i, u, a, started in rows.all()]


async def settle_expired(
    db: AsyncSession, entry: Expired, *, now: datetime, settings: Settings
) -> DraftStatus | None:
    """Decide about a claim whose worker went away (see the module docstring); None when
    the worker came back and settled it first."""
    expired = and_(
        Draft.id == entry.draft_id,
        Draft.status == DraftStatus.SENDING,
        Draft.claimed_until < now,
    )
    if entry.handed_over:
        failed = and_(expired, Draft.data_started_at.is_not(None))
        return await _fail_where(db, failed, DELIVERY_UNCERTAIN, UNCERTAIN_SENTENCE)
    unsent = and_(expired, Draft.data_started_at.is_(None))
    # A message whose worker keeps dying (on it, perhaps) is given up like any other failure
    # once its retry time is used up, not re-queued forever.
    give_up = now - timedelta(seconds=settings.send_retry_seconds)
    result = await db.execute(
        update(Draft)
        .where(unsent, Draft.first_attempt_at >= give_up)
        .values(status=DraftStatus.QUEUED, next_attempt_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(result) == 1:
        return DraftStatus.QUEUED
    minutes = round(settings.send_retry_seconds / 60, 1)
    message = (
        f"The message could not be sent for {minutes:g} minutes, so Postwise stopped trying. "
        "Send it again from the outbox to retry."
    )
    return await _fail_where(db, unsent, DELIVERY_FAILED, message)


async def _fail_where(
    db: AsyncSession, where: ColumnElement[bool], code: str, message: str
) -> DraftStatus | None:
    result = await db.execute(
        update(Draft)
        .where(where)
        .values(status=DraftStatus.FAILED, claimed_until=None, error_code=code, last_error=message)
        .execution_options(synchronize_session=False)
    )
    return DraftStatus.FAILED if affected_rows(result) == 1 else None


async def due_by_account(db: AsyncSession, *, until: datetime) -> list[uuid.UUID]:
    """For each mailbox with queued entries due by `until`, its earliest one: one delivery job
    per mailbox drains them all."""
    rows = await db.execute(
        select(Draft.account_id, Draft.id, Draft.next_attempt_at)
        .where(Draft.status == DraftStatus.QUEUED, Draft.next_attempt_at <= until)
        .order_by(Draft.account_id, Draft.next_attempt_at, Draft.id)
    )
    earliest: dict[uuid.UUID, uuid.UUID] = {}
    for account_id, draft_id, _ in rows.all():
        earliest.setdefault(account_id, draft_id)
    return list(earliest.values())


async def delete_old_sent(db: AsyncSession, *, now: datetime) -> int:
    """Sent entries past KEEP_SENT; their attachment rows go with them (ON DELETE CASCADE)."""
    result = await db.execute(
        delete(Draft)
        .where(Draft.status == DraftStatus.SENT, Draft.sent_at < now - KEEP_SENT)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result)


async def lost_sent_copies(
    db: AsyncSession, *, older_than: datetime, newer_than: datetime
) -> list[uuid.UUID]:
    """Sent entries whose Sent copy job never finished (a restart in between)."""
    rows = await db.scalars(
        select(Draft.id).where(
            Draft.status == DraftStatus.SENT,
            Draft.sent_copy == SentCopy.PENDING,
            Draft.sent_at < older_than,
            Draft.sent_at > newer_than,
        )
    )
    return list(rows.all())
