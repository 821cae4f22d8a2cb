"""A thread's messages for display, and one message's raw source and attachments."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.kit.errors import ProblemError
from postwise.mail.insights import insights_of
from postwise.mail.listing import thread_labels
from postwise.mail.models import Attachment, Folder, Message, MessageInsight, Thread
from postwise.mail.schemas import (
    ActionItemOut,
    AddressOut,
    AttachmentOut,
    MessageOut,
    ThreadDetail,
)
from postwise.mime.headers import safe_list_unsubscribe
from postwise.mime.sanitize import restore_remote_images

__all__ = ["get_thread", "owned_attachment", "owned_message", "thread_message_ids"]


def not_found(what: str) -> ProblemError:
    # The same answer for "not yours" and "no such id".
    return ProblemError(404, "not_found", f"No such {what}.")


async def owned_message(db: AsyncSession, user_id: uuid.UUID, message_id: int) -> Message:
    message = await db.scalar(
        select(Message).where(Message.id == message_id, Message.user_id == user_id)
    )
    if message is None:
        raise not_found("message")
    return message


async def owned_attachment(db: AsyncSession, message: Message, position: int) -> Attachment:
    attachment = await db.scalar(
        select(Attachment).where(
            Attachment.message_id == message.id, Attachment.position == position
        )
    )
    if attachment is None:
        raise not_found("attachment")
    return attachment


async def message_attachments(db: AsyncSession, message: Message) -> list[Attachment]:
    return list(
        (await db.scalars(select(Attachment).where(Attachment.message_id == message.id))).all()
    )


def _addresses(values: Sequence[dict[str, Any]]) -> list[AddressOut]:
    return [AddressOut(name=v.get("name", ""), address=v.get("address", "")) for v in values]


def message_out(
    message: Message, attachments: Sequence[Attachment], insight: MessageInsight | None = None
) -> MessageOut:
    html = message.body_html
    if html is not None and message.show_images:
        html = restore_remote_images(html)
    return MessageOut(
        id=message.id,
        thread_id=message.thread_id,
        account_id=message.account_id,
        folder_id=message.folder_id,
        message_id=message.message_id,
        subject=message.subject,
        from_=AddressOut(name=message.from_name, address=message.from_address),
        to=_addresses(message.to),
        cc=_addresses(message.cc),
        bcc=_addresses(message.bcc),
        reply_to=_addresses(message.reply_to),
        sent_at=message.sent_at,
        received_at=message.received_at,
        is_read=message.is_read,
        is_starred=message.is_starred,
        is_answered=message.is_answered,
        is_draft=message.is_draft,
        snippet=message.snippet,
        body_text=message.body_text,
        body_html=html,
        quote_offset=message.quote_offset,
        signature_offset=message.signature_offset,
        has_remote_images=message.has_remote_images,
        has_tracking_pixel=message.has_tracking_pixel,
        show_images=message.show_images,
        # Rows stored before the parser filtered the targets are filtered here.
        list_unsubscribe=safe_list_unsubscribe(message.list_unsubscribe),
        parse_error=message.parse_error,
        attachments=[
            AttachmentOut(
                position=a.position,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                content_id=a.content_id,
                is_inline=a.is_inline,
                url=f"/api/messages/{message.id}/attachments/{a.position}",
            )
            for a in sorted(attachments, key=lambda a: a.position)
        ],
        **(_insight_fields(insight) if insight is not None else {}),
    )


def _insight_fields(insight: MessageInsight) -> dict[str, Any]:
    return {
        "category": insight.category,
        "needs_reply": insight.needs_reply,
        "needs_reply_confidence": insight.needs_reply_confidence,
        "priority": insight.priority,
        "priority_bucket": insight.priority_bucket,
        "important": insight.important,
        "reasons": insight.reasons,
        "summary": insight.summary,
        "action_items": [ActionItemOut.model_validate(a) for a in insight.action_items],
    }


def _one_copy_each(
    messages: Sequence[Message], roles: dict[uuid.UUID, str | None]
) -> list[Message]:
    """A mail held in several folders (Gmail's All Mail beside the inbox, a copy in Sent) is
    shown once: the copy in a real folder wins over the one in an "all mail" view."""
    chosen: dict[str, Message] = {}
    order: list[str] = []
    for message in messages:
        key = message.message_id or f"#{message.id}"
        current = chosen.get(key)
        if current is None:
            chosen[key] = message
            order.append(key)
        elif roles.get(current.folder_id) == "all" and roles.get(message.folder_id) != "all":
            chosen[key] = message
    return [chosen[key] for key in order]


async def get_thread(db: AsyncSession, user_id: uuid.UUID, thread_id: uuid.UUID) -> ThreadDetail:
    thread = await db.scalar(
        select(Thread).where(Thread.id == thread_id, Thread.user_id == user_id)
    )
    if thread is None:
        raise not_found("thread")
    rows = (
        await db.scalars(
            select(Message)
            .where(Message.thread_id == thread_id, Message.user_id == user_id)
            .order_by(Message.received_at, Message.id)
        )
    ).all()
    roles: dict[uuid.UUID, str | None] = {
        folder_id: role
        for folder_id, role in await db.execute(
            select(Folder.id, Folder.role).where(Folder.id.in_({m.folder_id for m in rows}))
        )
    }
    shown = _one_copy_each(rows, roles)
    attachments: defaultdict[int, list[Attachment]] = defaultdict(list)
    if shown:
        for attachment in await db.scalars(
            select(Attachment).where(Attachment.message_id.in_([m.id for m in shown]))
        ):
            attachments[attachment.message_id].append(attachment)
    labels = await thread_labels(db, [thread.id])
    insights = await insights_of(db, user_id, [m.id for m in shown])
    return ThreadDetail(
        id=thread.id,
        account_id=thread.account_id,
        subject=thread.subject,
        message_count=thread.message_count,
        unread_count=thread.unread_count,
        last_message_at=thread.last_message_at,
        labels=labels.get(thread.id, []),
        messages=[message_out(m, attachments[m.id], insights.get(m.id)) for m in shown],
    )


async def thread_message_ids(
    db: AsyncSession,
    user_id: uuid.UUID,
    thread_ids: Sequence[uuid.UUID],
    *,
    action: str,
    source_folder: uuid.UUID | None = None,
) -> tuple[list[uuid.UUID], list[int]]:
    """The messages an action on whole threads applies to, and the threads found.

    Archive takes the threads out of the inbox only (their other copies stay where they are);
    star marks the newest message, as Gmail does; every other action applies to every copy
    except those in an "all mail" view, which a server cannot move out of (removing the
    other copies is what removes them there). `source_folder` narrows every action to the
    copies in that folder (a thread not there at all still counts as found)."""
    query = (
        select(Message.id, Message.thread_id, Message.received_at, Folder.role, Message.folder_id)
        .join(Folder, Folder.id == Message.folder_id)
        .where(Message.thread_id.in_(list(thread_ids)), Message.user_id == user_id)
    )
    rows = (await db.execute(query)).all()
    asked = {tid: n for n, tid in enumerate(thread_ids)}
    found = sorted({r.thread_id for r in rows}, key=asked.__getitem__)
    if source_folder is not None:
        rows = [r for r in rows if r.folder_id == source_folder]
    if action == "archive":
        return found, [r.id for r in rows if r.role == "inbox"]
    if action == "star":
        newest: dict[uuid.UUID, tuple[Any, int]] = {}
        for r in rows:
            if r.thread_id not in newest or (r.received_at, r.id) > newest[r.thread_id]:
                newest[r.thread_id] = (r.received_at, r.id)
        return found, [message_id for _, message_id in newest.values()]
    if action in {"read", "unread", "unstar"}:
        return found, [r.id for r in rows]
    return found, [r.id for r in rows if r.role != "all"]
