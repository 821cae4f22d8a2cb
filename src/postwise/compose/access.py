"""Loading drafts and mailboxes for their owner, the compose API's problem answers, the
addresses a user sends from, and a draft as the API shows it.

Every load filters on the user: another user's draft or mailbox answers exactly like one that
does not exist (no IDOR, nothing to tell them apart).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.deps import account_not_found
from postwise.accounts.models import MailAccount
from postwise.compose.models import ComposeMode, Draft, DraftAttachment, DraftStatus
from postwise.compose.schemas import DraftAttachmentOut, DraftOut, Recipient
from postwise.db import affected_rows, utcnow
from postwise.kit.errors import ProblemError

# Statuses in which a draft is the user's to change (a failed entry is cancelled back to a
# draft first: POST /api/outbox/{id}/cancel).
EDITABLE = (DraftStatus.DRAFT,)
# Statuses from which a draft may be sent, or discarded.
SENDABLE = (DraftStatus.DRAFT, DraftStatus.FAILED)


# --- problems -----------------------------------------------------------------------------------


def draft_not_found() -> ProblemError:
    # `not_found` like every id in a path that names nothing the user may see (docs/api.md,
    # "Mail"; tests/test_api_contract.py): a malformed draft id gets the same from the router.
    return ProblemError(404, "not_found", "No such draft.")


def not_editable(status: str) -> ProblemError:
    detail = {
        DraftStatus.QUEUED: "It is in the outbox; cancel the send to change it.",
        DraftStatus.SENDING: "It is being sent now.",
        DraftStatus.SENT: "It has been sent.",
        DraftStatus.FAILED: "Sending it failed; cancel the send to change it.",
    }.get(DraftStatus(status), "")
    return ProblemError(
        409,
        "draft_not_editable",
        f"This draft cannot be changed. {detail}".strip(),
        draft_status=status,
    )


def conflict(current: int) -> ProblemError:
    return ProblemError(
        409,
        "draft_conflict",
        "The draft was changed elsewhere since this version; reload it.",
        version=current,
    )


def field_error(status: int, code: str, field: str, message: str) -> ProblemError:
    """A refusal about one field, shaped like a validation error (`errors` names the field)."""
    return ProblemError(
        status,
        code,
        message,
        errors=[{"field": field, "in": "body", "message": message, "type": code}],
    )


# --- drafts -------------------------------------------------------------------------------------


async def owned_draft(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> Draft:
    draft = await db.scalar(select(Draft).where(Draft.id == draft_id, Draft.user_id == user_id))
    if draft is None:
        raise draft_not_found()
    return draft


def check_version(draft: Draft, seen: int | None) -> None:
    """`seen` is the version the client last saw: anything else means it edits an old copy."""
    if seen is not None and seen != draft.version:
        raise conflict(draft.version)


async def lock_editable(db: AsyncSession, user_id: uuid.UUID, draft_id: uuid.UUID) -> Draft:
    """The draft, held until the transaction ends, if it is still editable.

    The first statement is the UPDATE that touches it: it takes the row lock on PostgreSQL and
    the write lock on SQLite (which reads outside a transaction until its first write), so
    concurrent uploads to one draft see each other's attachments (positions, the size total)
    and a send cannot slip in between the check and the change."""
    touched = await db.execute(
        update(Draft)
        .where(Draft.id == draft_id, Draft.user_id == user_id, Draft.status.in_(EDITABLE))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    draft = await owned_draft(db, user_id, draft_id)
    await db.refresh(draft)
    if affected_rows(touched) != 1:
        raise not_editable(draft.status)
    return draft


async def attachments_of(db: AsyncSession, draft_id: uuid.UUID) -> list[DraftAttachment]:
    rows = await db.scalars(
        select(DraftAttachment)
        .where(DraftAttachment.draft_id == draft_id)
        .order_by(DraftAttachment.position)
    )
    return list(rows.all())


def attachment_out(attachment: DraftAttachment) -> DraftAttachmentOut:
    return DraftAttachmentOut(
        position=attachment.position,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        is_inline=attachment.is_inline,
        content_id=attachment.content_id,
    )


def recipients_out(values: Sequence[dict[str, str]]) -> list[Recipient]:
    # Stored values were validated on the way in (or cleaned by the prefill).
    return [Recipient.model_construct(name=v.get("name", ""), address=v["address"]) for v in values]


async def draft_out(db: AsyncSession, draft: Draft) -> DraftOut:
    attachments = await attachments_of(db, draft.id)
    return DraftOut(
        id=draft.id,
        account_id=draft.account_id,
        status=DraftStatus(draft.status),
        mode=ComposeMode(draft.mode),
        from_address=draft.from_address,
        to=recipients_out(draft.to),
        cc=recipients_out(draft.cc),
        bcc=recipients_out(draft.bcc),
        subject=draft.subject,
        text=draft.text,
        html=draft.html,
        plain_text=draft.html is None,
        reply_to_message_id=draft.reply_to_message_id,
        forward_of_message_id=draft.forward_of_message_id,
        thread_id=draft.thread_id,
        in_reply_to=draft.in_reply_to,
        references=list(draft.references),
        message_id=draft.message_id,
        version=draft.version,
        attachments=[attachment_out(a) for a in attachments],
        send_at=draft.send_at,
        error_code=draft.error_code,
        last_error=draft.last_error,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
    )


# --- mailboxes and addresses --------------------------------------------------------------------


async def owned_account(db: AsyncSession, user_id: uuid.UUID, account_id: uuid.UUID) -> MailAccount:
    account = await db.scalar(
        select(MailAccount).where(MailAccount.id == account_id, MailAccount.user_id == user_id)
    )
    if account is None:
        raise account_not_found()
    return account


def send_as_of(account: MailAccount) -> list[dict[str, str]]:
    """The mailbox's extra addresses ([{"name", "address"}]); unreadable JSON counts as none."""
    try:
        stored = json.loads(account.send_as or "[]")
    except ValueError:
        return []
    if not isinstance(stored, list):
        return []
    return [
        {"name": str(item.get("name", "")), "address": str(item["address"]).lower()}
        for item in stored
        if isinstance(item, dict) and item.get("address")
    ]


def sender_addresses(account: MailAccount) -> set[str]:
    """Every address this mailbox may send from (lower case)."""
    return {account.email.lower(), *(item["address"] for item in send_as_of(account))}


async def user_addresses(db: AsyncSession, user_id: uuid.UUID) -> frozenset[str]:
    """Every address of every mailbox of the user: never a recipient of their own replies."""
    accounts = await db.scalars(select(MailAccount).where(MailAccount.user_id == user_id))
    return frozenset(address for account in accounts for address in sender_addresses(account))


def check_from_address(account: MailAccount, address: str) -> str:
    """`address` if this mailbox may send from it, else a 422 naming `from_address`."""
    if address.lower() not in sender_addresses(account):
        raise field_error(
            422,
            "invalid_from_address",
            "from_address",
            "Send from the mailbox's own address or one of its send-as addresses.",
        )
    return address.lower()
