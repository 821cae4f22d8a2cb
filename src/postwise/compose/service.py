"""Drafts and the outbox: create (with the reply/forward prefill), autosave, discard, send,
undo.

A draft and its outbox entry are one row (compose.models). Every change that races another
(two autosaves, a send against an autosave, an undo against the worker that claims the entry)
is a compare-and-set UPDATE whose WHERE holds what was checked: exactly one of them wins and
the other is told why (409). Side effects leave through jobs after the commit: the copy in the
server's Drafts folder (`compose.mirror_draft`, `compose.remove_mirror`, defined in
compose.tasks), delivery (`compose.deliver`) and the `outbox.updated` event (compose.events).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import UploadFile
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import FileResponse

from postwise.accounts.models import AccountKind, MailAccount
from postwise.compose import attachments
from postwise.compose.access import (
    EDITABLE,
    SENDABLE,
    check_from_address,
    check_version,
    conflict,
    draft_not_found,
    draft_out,
    field_error,
    not_editable,
    owned_account,
    owned_draft,
    recipients_out,
    sender_addresses,
    user_addresses,
)
from postwise.compose.events import announce_outbox_after_commit
from postwise.compose.models import ComposeMode, Draft, DraftAttachment, DraftStatus, SentCopy
from postwise.compose.prefill import Original, Prefill, Sender, build_prefill
from postwise.compose.schemas import (
    DraftAttachmentOut,
    DraftCreate,
    DraftList,
    DraftOut,
    DraftSummary,
    DraftUpdate,
    OutboxEntry,
    OutboxList,
    Recipient,
    SendRequest,
)
from postwise.config import Settings
from postwise.db import affected_rows, utcnow
from postwise.events import observe_actions
from postwise.kit.errors import ProblemError
from postwise.mail.models import Message
from postwise.mime.html_text import html_to_text
from postwise.mime.sanitize import restore_remote_images, sanitize_html
from postwise.users.models import User
from postwise.worker.queue import enqueue_job

MIRROR_JOB = "compose.mirror_draft"
REMOVE_MIRROR_JOB = "compose.remove_mirror"
DELIVER_JOB = "compose.deliver"
# A scheduled time this far in the past is a mistake (a clock a minute off is not).
SEND_AT_SLACK = timedelta(minutes=1)
SEND_AT_HORIZON = timedelta(days=365)
# Sent entries stay in the outbox view this long.
OUTBOX_SENT_WINDOW = timedelta(hours=24)
MAX_LISTED_DRAFTS = 500
SNIPPET_LENGTH = 200


def clean_html(html: str) -> str:
    """What the editor wrote, made safe to show: no script, no event handlers, no forms. Remote
    images stay (the user put them there); `cid:` images stay for the inline attachments."""
    return sanitize_html(html, allow_remote_images=True).html


def _mirror(db: AsyncSession, draft_id: uuid.UUID, version: int) -> None:
    enqueue_job(db, MIRROR_JOB, draft_id=str(draft_id), version=version)


# --- reading ------------------------------------------------------------------------------------


def _snippet(draft: Draft) -> str:
    text = draft.text
    if not text.strip() and draft.html:
        # The start is enough for a snippet; converting a huge document would not be.
        text = html_to_text(draft.html[:20_000])
    return " ".join(text.split())[:SNIPPET_LENGTH]


async def list_drafts(
    db: AsyncSession, user_id: uuid.UUID, *, account_id: uuid.UUID | None
) -> DraftList:
    query = select(Draft).where(Draft.user_id == user_id, Draft.status == DraftStatus.DRAFT)
    if account_id is not None:
        await owned_account(db, user_id, account_id)
        query = query.where(Draft.account_id == account_id)
    drafts = list(
        (
            await db.scalars(
                query.order_by(Draft.updated_at.desc(), Draft.id).limit(MAX_LISTED_DRAFTS)
            )
        ).all()
    )
    with_files = set(
        (
            await db.scalars(
                select(DraftAttachment.draft_id)
                .where(DraftAttachment.draft_id.in_([d.id for d in drafts]))
                .distinct()
            )
        ).all()
    )
    return DraftList(
        items=[
            DraftSummary(
                id=d.id,
                account_id=d.account_id,
                status=DraftStatus(d.status),
                mode=ComposeMode(d.mode),
                to=recipients_out(d.to),
                subject=d.subject,
                snippet=_snippet(d),
                has_attachments=d.id in with_files,
                thread_id=d.thread_id,
                updated_at=d.updated_at,
            )
            for d in drafts
        ]
    )


async def check_draft(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> None:
    """404 unless the user has this draft."""
    await owned_draft(db, user_id, draft_id)


async def get_draft(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> DraftOut:
    return await draft_out(db, await owned_draft(db, user_id, draft_id))


# --- creating -----------------------------------------------------------------------------------


def _check_mode(body: DraftCreate) -> None:
    """Which message a mode needs: a reply answers `reply_to_message_id`, a forward forwards
    `forward_of_message_id`, a new message neither."""
    mode = body.mode
    replying = mode in (ComposeMode.REPLY, ComposeMode.REPLY_ALL)
    if replying and body.reply_to_message_id is None:
        raise field_error(422, "missing_original", "reply_to_message_id", "A reply needs it.")
    if mode is ComposeMode.FORWARD and body.forward_of_message_id is None:
        raise field_error(422, "missing_original", "forward_of_message_id", "A forward needs it.")
    if mode is not ComposeMode.FORWARD and body.forward_of_message_id is not None:
        raise field_error(
            422, "unexpected_original", "forward_of_message_id", "Only with mode forward."
        )
    if not replying and body.reply_to_message_id is not None:
        raise field_error(
            422, "unexpected_original", "reply_to_message_id", "Only with mode reply or reply_all."
        )


async def _original_message(
    db: AsyncSession, user_id: uuid.UUID, body: DraftCreate
) -> Message | None:
    message_id = body.reply_to_message_id or body.forward_of_message_id
    if message_id is None:
        return None
    message = await db.scalar(
        select(Message).where(Message.id == message_id, Message.user_id == user_id)
    )
    if message is None:
        raise ProblemError(404, "message_not_found", "No such message.")
    return message


def _as_original(message: Message) -> Original:
    html = message.body_html
    if html is not None and message.show_images:
        html = restore_remote_images(html)
    return Original(
        message_id=message.message_id,
        subject=message.subject,
        from_name=message.from_name,
        from_address=message.from_address,
        date=message.sent_at or message.received_at,
        text=message.body_text,
        html=html,
        to=message.to,
        cc=message.cc,
        reply_to=message.reply_to,
        references=message.references,
        thread_id=message.thread_id,
    )


async def _sending_account(
    db: AsyncSession, user_id: uuid.UUID, wanted: uuid.UUID | None, original: Message | None
) -> MailAccount:
    if wanted is not None:
        return await owned_account(db, user_id, wanted)
    if original is not None:
        return await owned_account(db, user_id, original.account_id)
    first = await db.scalar(
        select(MailAccount)
        .where(MailAccount.user_id == user_id)
        .order_by(MailAccount.created_at, MailAccount.id)
        .limit(1)
    )
    if first is None:
        raise ProblemError(409, "no_mailbox", "Connect a mailbox before writing mail.")
    return first


def _from_address(body: DraftCreate, account: MailAccount, prefill: Prefill) -> str:
    if body.from_address is not None:
        return check_from_address(account, body.from_address)
    if prefill.from_address and prefill.from_address in sender_addresses(account):
        return prefill.from_address
    return account.email.lower()


def _body(body: DraftCreate, prefill: Prefill) -> tuple[str, str | None]:
    """Text and HTML go together: a request that writes either sets the body itself (an HTML
    body beside a prefilled text would send two different messages)."""
    html = prefill.html if body.text is None and body.html is None else body.html
    text = body.text if body.text is not None or body.html is not None else prefill.text
    return text or "", clean_html(html) if html is not None else None


def _new_message_id(account: MailAccount) -> str:
    return f"{uuid.uuid4().hex}@{account.email.rpartition('@')[2]}"


def _recipients(
    given: list[Recipient] | None, fallback: list[dict[str, str]]
) -> list[dict[str, str]]:
    return [r.model_dump() for r in given] if given is not None else fallback


async def create_draft(
    db: AsyncSession, user: User, body: DraftCreate, *, settings: Settings
) -> DraftOut:
    _check_mode(body)
    message = await _original_message(db, user.id, body)
    account = await _sending_account(db, user.id, body.account_id, message)
    sender = Sender(
        own_addresses=await user_addresses(db, user.id),
        signature_text=account.signature_text,
        signature_html=account.signature_html,
    )
    prefill = build_prefill(body.mode, _as_original(message) if message else None, sender)
    text, html = _body(body, prefill)
    draft = Draft(
        user_id=user.id,
        account_id=account.id,
        status=DraftStatus.DRAFT,
        mode=body.mode,
        from_address=_from_address(body, account, prefill),
        to=_recipients(body.to, prefill.to),
        cc=_recipients(body.cc, prefill.cc),
        bcc=_recipients(body.bcc, []),
        subject=body.subject if body.subject is not None else prefill.subject,
        text=text,
        html=html,
        reply_to_message_id=body.reply_to_message_id,
        forward_of_message_id=body.forward_of_message_id,
        thread_id=prefill.thread_id,
        in_reply_to=prefill.in_reply_to,
        references=prefill.references,
        message_id=_new_message_id(account),
        version=1,
    )
    db.add(draft)
    await db.flush()
    if message is not None:
        await attachments.copy_from_message(
            db, draft, message.id, inline_only=body.mode is not ComposeMode.FORWARD
        )
    _mirror(db, draft.id, draft.version)
    return await draft_out(db, draft)


# --- autosave and discard -----------------------------------------------------------------------


async def _changes(db: AsyncSession, draft: Draft, body: DraftUpdate) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if body.account_id is not None and body.account_id != draft.account_id:
        changes.update(await _move_to_account(db, draft, body.account_id))
        if body.from_address is not None:
            account = await owned_account(db, draft.user_id, body.account_id)
            changes["from_address"] = check_from_address(account, body.from_address)
    elif body.from_address is not None:
        account = await owned_account(db, draft.user_id, draft.account_id)
        changes["from_address"] = check_from_address(account, body.from_address)
    for name in ("to", "cc", "bcc"):
        recipients: list[Recipient] | None = getattr(body, name)
        if recipients is not None:
            changes[name] = [r.model_dump() for r in recipients]
    if body.subject is not None:
        changes["subject"] = body.subject
    if body.text is not None:
        changes["text"] = body.text
    if body.html is not None:
        changes["html"] = clean_html(body.html)
    if body.plain_text:
        changes["html"] = None
    return changes


async def _move_to_account(db: AsyncSession, draft: Draft, account_id: uuid.UUID) -> dict[str, Any]:
    """The columns that change when a draft moves to another mailbox: its sender, a
    Message-ID on the new mailbox's domain (nothing was sent under the old one: the draft is
    editable), and no mirror copy; the old mailbox's copy is removed by a job."""
    account = await owned_account(db, draft.user_id, account_id)
    if draft.mirror_uid is not None and draft.mirror_folder and draft.mirror_uidvalidity:
        enqueue_job(
            db,
            REMOVE_MIRROR_JOB,
            account_id=str(draft.account_id),
            folder=draft.mirror_folder,
            uidvalidity=draft.mirror_uidvalidity,
            uid=draft.mirror_uid,
        )
    return {
        "account_id": account.id,
        "from_address": account.email,
        "message_id": _new_message_id(account),
        "mirror_folder": None,
        "mirror_uidvalidity": None,
        "mirror_uid": None,
        "mirrored_version": 0,
    }


async def _refused(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> ProblemError:
    """Why a compare-and-set found nothing to change: gone, no longer a draft, or changed."""
    draft = await db.scalar(
        select(Draft)
        .where(Draft.id == draft_id, Draft.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if draft is None:
        return draft_not_found()
    if draft.status not in EDITABLE:
        return not_editable(draft.status)
    return conflict(draft.version)


async def update_draft(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, body: DraftUpdate
) -> DraftOut:
    draft = await owned_draft(db, user_id, draft_id)
    if draft.status not in EDITABLE:
        raise not_editable(draft.status)
    check_version(draft, body.version)
    changes = await _changes(db, draft, body)
    saved = await db.execute(
        update(Draft)
        .where(
            Draft.id == draft.id,
            Draft.version == draft.version,
            Draft.status.in_(EDITABLE),
        )
        .values(**changes, version=Draft.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if affected_rows(saved) != 1:
        raise await _refused(db, user_id, draft_id)
    await db.refresh(draft)
    _mirror(db, draft.id, draft.version)
    return await draft_out(db, draft)


async def delete_draft(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> None:
    removed = (
        await db.execute(
            delete(Draft)
            .where(Draft.id == draft_id, Draft.user_id == user_id, Draft.status.in_(SENDABLE))
            .returning(
                Draft.account_id,
                Draft.mirror_folder,
                Draft.mirror_uidvalidity,
                Draft.mirror_uid,
            )
            .execution_options(synchronize_session=False)
        )
    ).first()
    if removed is None:
        draft = await owned_draft(db, user_id, draft_id)
        raise not_editable(draft.status)
    account_id, folder, uidvalidity, uid = removed
    if uid is not None and folder is not None and uidvalidity is not None:
        enqueue_job(
            db,
            REMOVE_MIRROR_JOB,
            account_id=str(account_id),
            folder=folder,
            uidvalidity=uidvalidity,
            uid=uid,
        )


# --- attachments (compose.attachments does the work) --------------------------------------------


async def add_attachment(
    db: AsyncSession,
    user_id: uuid.UUID,
    draft_id: uuid.UUID,
    file: UploadFile,
    *,
    inline: bool,
    settings: Settings,
) -> DraftAttachmentOut:
    added = await attachments.add(db, user_id, draft_id, file, inline=inline, settings=settings)
    _mirror(db, draft_id, added.version)
    return added.out


async def attachment_file(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, position: int, *, settings: Settings
) -> FileResponse:
    return await attachments.download(db, user_id, draft_id, position, settings=settings)


async def delete_attachment(
    db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID, position: int
) -> None:
    version = await attachments.remove(db, user_id, draft_id, position)
    _mirror(db, draft_id, version)


# --- sending and the outbox ---------------------------------------------------------------------


def _can_send(account: MailAccount) -> bool:
    return (
        account.kind == AccountKind.IMAP and bool(account.smtp_host) and bool(account.credentials)
    )


def _send_time(user: User, body: SendRequest, now: datetime) -> datetime:
    if body.send_at is None:
        return now + timedelta(seconds=user.send_undo_seconds)
    if body.send_at < now - SEND_AT_SLACK:
        raise field_error(422, "send_at_in_past", "send_at", "The scheduled time has passed.")
    if body.send_at > now + SEND_AT_HORIZON:
        raise field_error(
            422, "send_at_too_far", "send_at", "Schedule a send at most a year ahead."
        )
    return body.send_at


async def _check_sendable(db: AsyncSession, draft: Draft) -> None:
    if not (draft.to or draft.cc or draft.bcc):
        raise field_error(422, "no_recipients", "to", "Add at least one recipient.")
    account = await owned_account(db, draft.user_id, draft.account_id)
    check_from_address(account, draft.from_address or account.email)
    if not _can_send(account):
        raise ProblemError(
            409,
            "smtp_not_configured",
            "This mailbox cannot send mail: it has no outgoing (SMTP) server.",
        )


def outbox_entry(draft: Draft) -> OutboxEntry:
    return OutboxEntry(
        id=draft.id,
        account_id=draft.account_id,
        status=DraftStatus(draft.status),
        to=recipients_out(draft.to),
        cc=recipients_out(draft.cc),
        bcc=recipients_out(draft.bcc),
        subject=draft.subject,
        message_id=draft.message_id,
        thread_id=draft.thread_id,
        send_at=draft.send_at,
        scheduled=draft.scheduled,
        attempts=draft.attempts,
        next_attempt_at=draft.next_attempt_at,
        error_code=draft.error_code,
        last_error=draft.last_error,
        smtp_reply=draft.smtp_reply,
        sent_at=draft.sent_at,
        sent_copy=SentCopy(draft.sent_copy) if draft.sent_copy else None,
        updated_at=draft.updated_at,
    )


async def send_draft(
    db: AsyncSession, user: User, draft_id: uuid.UUID, body: SendRequest, *, settings: Settings
) -> OutboxEntry:
    draft = await owned_draft(db, user.id, draft_id)
    if draft.status not in SENDABLE:
        raise not_editable(draft.status)
    check_version(draft, body.version)
    await _check_sendable(db, draft)
    now = utcnow()
    send_at = _send_time(user, body, now)
    queued = await db.execute(
        update(Draft)
        .where(
            Draft.id == draft.id,
            Draft.version == draft.version,
            Draft.status.in_(SENDABLE),
        )
        .values(
            status=DraftStatus.QUEUED,
            send_at=send_at,
            scheduled=body.send_at is not None,
            next_attempt_at=send_at,
            first_attempt_at=None,
            attempts=0,
            claimed_until=None,
            data_started_at=None,
            error_code=None,
            last_error=None,
            smtp_reply=None,
            # Built by the deliverer at the first attempt, then the same bytes every attempt.
            raw_sha256=None,
            sent_at=None,
            sent_copy=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if affected_rows(queued) != 1:
        raise await _refused(db, user.id, draft_id)
    await db.refresh(draft)
    enqueue_job(db, DELIVER_JOB, draft_id=str(draft.id))
    announce_outbox_after_commit(db, user.id, draft.id, draft.status)
    if draft.reply_to_message_id is not None:
        # Answering a sender is the strongest sign their mail matters (learned priority).
        observe_actions(db, user.id, [draft.reply_to_message_id], "reply")
    return outbox_entry(draft)


async def list_outbox(db: AsyncSession, user_id: uuid.UUID) -> OutboxList:
    waiting = (DraftStatus.QUEUED, DraftStatus.SENDING, DraftStatus.FAILED)
    recent = utcnow() - OUTBOX_SENT_WINDOW
    rows = await db.scalars(
        select(Draft)
        .where(
            Draft.user_id == user_id,
            Draft.status.in_(waiting)
            | ((Draft.status == DraftStatus.SENT) & (Draft.sent_at >= recent)),
        )
        .order_by(Draft.updated_at.desc(), Draft.id)
    )
    return OutboxList(items=[outbox_entry(draft) for draft in rows.all()])


async def cancel_send(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> DraftOut:
    """Undo: back to a draft, unless a worker has claimed it (it claims with `WHERE status =
    'queued'`, so exactly one of the two UPDATEs wins)."""
    cancelled = await db.execute(
        update(Draft)
        .where(
            Draft.id == draft_id,
            Draft.user_id == user_id,
            Draft.status.in_((DraftStatus.QUEUED, DraftStatus.FAILED)),
        )
        .values(
            status=DraftStatus.DRAFT,
            send_at=None,
            next_attempt_at=None,
            scheduled=False,
            version=Draft.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    draft = await db.scalar(
        select(Draft)
        .where(Draft.id == draft_id, Draft.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if draft is None:
        raise draft_not_found()
    if affected_rows(cancelled) != 1:
        if draft.status in (DraftStatus.SENDING, DraftStatus.SENT):
            raise ProblemError(
                409,
                "already_sent",
                "Too late to cancel: the message has started to leave.",
                draft_status=draft.status,
            )
        # Already a draft: a second click on "undo" changes nothing.
        return await draft_out(db, draft)
    announce_outbox_after_commit(db, user_id, draft.id, draft.status)
    return await draft_out(db, draft)
