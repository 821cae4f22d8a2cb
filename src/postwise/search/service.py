"""Running a search: matching messages newest first, grouped into conversations, one page at a
time.

Results are conversations ordered by their newest *matching* message. Rather than grouping every
match (a common word matches half the mailbox), the matches are read newest first in small
batches until a page of distinct conversations is full; the cursor is the position of the last
message read. A conversation already shown on an earlier page (it has a match newer than the
cursor) is not shown again.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.kit.errors import ProblemError
from postwise.mail.models import Folder, Message
from postwise.search.compile import compile_query, mentions_folder
from postwise.search.query import Node

__all__ = ["SearchCursor", "decode_cursor", "encode_cursor", "search_threads"]

SearchCursor = tuple[datetime, int]
# Matches read per round trip: enough for a page of conversations of a few messages each.
_BATCH = 200


def encode_cursor(position: SearchCursor) -> str:
    raw = json.dumps([position[0].isoformat(), position[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> SearchCursor:
    try:
        at, message_id = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        position = (datetime.fromisoformat(at), int(message_id))
    except (binascii.Error, ValueError, TypeError):
        raise ProblemError(
            422, "invalid_cursor", "This cursor is not one the API gave out; start again."
        ) from None
    if position[0].tzinfo is None:
        raise ProblemError(422, "invalid_cursor", "This cursor is not one the API gave out.")
    return position


def _before(position: SearchCursor) -> ColumnElement[bool]:
    at, message_id = position
    return or_(Message.received_at < at, and_(Message.received_at == at, Message.id < message_id))


async def search_threads(
    db: AsyncSession,
    user_id: uuid.UUID,
    node: Node,
    *,
    limit: int,
    after: SearchCursor | None,
    account_id: uuid.UUID | None,
) -> tuple[list[uuid.UUID], SearchCursor | None]:
    """A page of conversation ids and the cursor of the next page (None: no more)."""
    dialect = db.get_bind().dialect.name
    condition = and_(
        Message.user_id == user_id,
        Message.thread_id.is_not(None),
        compile_query(node, dialect=dialect, user_id=user_id),
    )
    if account_id is not None:
        condition = and_(condition, Message.account_id == account_id)
    if not mentions_folder(node):
        hidden = select(Folder.id).where(
            Folder.user_id == user_id, Folder.role.in_(("trash", "junk"))
        )
        condition = and_(condition, Message.folder_id.not_in(hidden))
    found: list[uuid.UUID] = []
    seen: set[uuid.UUID] = set()
    position = after
    while True:
        query = select(Message.id, Message.thread_id, Message.received_at).where(condition)
        if position is not None:
            query = query.where(_before(position))
        rows = (
            await db.execute(
                query.order_by(Message.received_at.desc(), Message.id.desc()).limit(_BATCH)
            )
        ).all()
        for message_id, thread_id, received_at in rows:
            position = (received_at, message_id)
            if thread_id is None or thread_id in seen:
                continue
            seen.add(thread_id)
            found.append(thread_id)
            if len(found) == limit:
                break
        if len(found) == limit or len(rows) < _BATCH:
            break
    exhausted = len(found) < limit
    if after is not None and found:
        # Shown on an earlier page: such a conversation has a match newer than the cursor.
        shown = set(
            (
                await db.scalars(
                    select(Message.thread_id)
                    .where(condition, Message.thread_id.in_(found), ~_before(after))
                    .distinct()
                )
            ).all()
        )
        found = [tid for tid in found if tid not in shown]
    return found, (None if exhausted else position)
