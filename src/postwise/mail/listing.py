"""Reading the mirror for the API: folders and thread pages (keyset); the pages' items are
`mail.list_items`.

Every query filters by the owner (`user_id` is on every table), so another user's ids simply
find nothing: the routes answer 404 without a separate ownership check.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.models import MailAccount
from postwise.db import UtcDateTime
from postwise.kit.errors import ProblemError
from postwise.mail.models import Folder, Thread, ThreadFolder
from postwise.mail.schemas import FolderOut, ThreadLabel

__all__ = [
    "ROLES",
    "Cursor",
    "FolderSelector",
    "folder_out",
    "folder_selector",
    "list_folders",
    "page_threads",
    "resolve_folders",
    "thread_labels",
]

ROLES = frozenset({"inbox", "sent", "drafts", "trash", "junk", "archive", "all"})
# Gmail's names for two roles, accepted as well.
_ROLE_ALIASES = {"spam": "junk", "allmail": "all"}

Cursor = tuple[datetime, uuid.UUID]


def encode_cursor(position: Cursor) -> str:
    at, thread_id = position
    raw = json.dumps([at.isoformat(), thread_id.hex]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        at, thread_hex = json.loads(raw)
        position = (datetime.fromisoformat(at), uuid.UUID(hex=thread_hex))
    except (binascii.Error, ValueError, TypeError):
        raise ProblemError(
            422, "invalid_cursor", "This cursor is not one the API gave out; start again."
        ) from None
    if position[0].tzinfo is None:
        raise ProblemError(422, "invalid_cursor", "This cursor is not one the API gave out.")
    return position


def folder_out(folder: Folder) -> FolderOut:
    display = folder.name.rsplit(folder.delimiter, 1)[-1] if folder.delimiter else folder.name
    return FolderOut(
        id=folder.id,
        account_id=folder.account_id,
        name=folder.name,
        display_name=display,
        delimiter=folder.delimiter,
        role=folder.role,
        selectable=folder.selectable,
        total_count=folder.total_count,
        unread_count=folder.unread_count,
    )


async def require_account(db: AsyncSession, user_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """An `account_id` filter naming a mailbox that is not the user's is a 404, as a path id
    would be: an empty answer would tell nothing apart, but a filter that silently matches
    nothing hides a client's mistake."""
    found = await db.scalar(
        select(MailAccount.id).where(MailAccount.id == account_id, MailAccount.user_id == user_id)
    )
    if found is None:
        raise ProblemError(404, "not_found", "No such mail account.")


async def list_folders(
    db: AsyncSession, user_id: uuid.UUID, account_id: uuid.UUID | None
) -> list[FolderOut]:
    query = select(Folder).where(Folder.user_id == user_id)
    if account_id is not None:
        await require_account(db, user_id, account_id)
        query = query.where(Folder.account_id == account_id)
    folders = (await db.scalars(query.order_by(Folder.account_id, Folder.name))).all()
    return [folder_out(f) for f in folders]


@dataclass(frozen=True, slots=True)
class FolderSelector:
    """`folder` as the API takes it: a role (the unified view of that role across mailboxes)
    or one folder's id."""

    role: str | None = None
    folder_id: uuid.UUID | None = None


def folder_selector(folder: str) -> FolderSelector:
    role = _ROLE_ALIASES.get(folder.lower(), folder.lower())
    if role in ROLES:
        return FolderSelector(role=role)
    try:
        return FolderSelector(folder_id=uuid.UUID(folder))
    except ValueError:
        raise ProblemError(
            422,
            "invalid_folder",
            f"`folder` is a folder id or one of: {', '.join(sorted(ROLES))}.",
        ) from None


async def resolve_folders(
    db: AsyncSession, user_id: uuid.UUID, folder: str, account_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """`folder` is a role (the unified view of that role across mailboxes unless `account_id`
    narrows it) or a folder id. An id that is not the user's is a 404, like everywhere."""
    selector = folder_selector(folder)
    params: dict[str, object] = {"user_id": user_id}
    if selector.role is not None:
        params["role"] = selector.role
    else:
        params["folder_id"] = selector.folder_id
    if account_id is not None:
        await require_account(db, user_id, account_id)
        params["account_id"] = account_id
    query = _FOLDER_IDS[selector.role is not None, account_id is not None]
    found = list((await db.scalars(query, params)).all())
    if not found and selector.role is None:
        raise ProblemError(404, "not_found", "No such folder.")
    return found


async def page_threads(
    db: AsyncSession,
    user_id: uuid.UUID,
    folder_ids: Sequence[uuid.UUID],
    *,
    limit: int,
    after: Cursor | None,
    important: bool | None = None,
) -> tuple[list[uuid.UUID], Cursor | None]:
    """One page of thread ids, newest first, and the cursor of the next page.

    Each folder is read from its own index range (`ix_thread_folders_list`) and the ranges are
    merged here: a unified inbox of a few mailboxes costs a few index seeks of `limit + 1`
    rows, never a sort of every thread. The cursor is the last item's (date, id), so pages
    neither repeat nor skip threads when mail arrives between two requests (a thread whose
    new mail lifts it above the cursor shows up on the first page instead)."""
    streams: list[list[tuple[datetime, uuid.UUID]]] = []
    for folder_id in folder_ids:
        params: dict[str, object] = {
            "folder_id": folder_id,
            "user_id": user_id,
            "limit": limit + 1,
        }
        if after is not None:
            params["at"], params["after_id"] = after
        if important is not None:
            params["important"] = important
            query = _SECTION_AFTER if after is not None else _SECTION_FIRST
        else:
            query = _PAGE_AFTER if after is not None else _PAGE_FIRST
        streams.append([(at, tid) for at, tid in (await db.execute(query, params)).all()])
    merged = heapq.merge(*streams, key=lambda item: (item[0], item[1].bytes), reverse=True)
    page: list[tuple[datetime, uuid.UUID]] = []
    seen: set[uuid.UUID] = set()
    for item in merged:
        if item[1] in seen:
            continue
        seen.add(item[1])
        page.append(item)
        if len(page) > limit:
            break
    more = len(page) > limit
    page = page[:limit]
    return [tid for _, tid in page], (page[-1] if more and page else None)


async def thread_labels(
    db: AsyncSession, thread_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ThreadLabel]]:
    rows = await db.execute(
        select(ThreadFolder.thread_id, Folder.id, Folder.name, Folder.role)
        .join(Folder, Folder.id == ThreadFolder.folder_id)
        .where(ThreadFolder.thread_id.in_(thread_ids))
        .order_by(Folder.name)
    )
    labels: defaultdict[uuid.UUID, list[ThreadLabel]] = defaultdict(list)
    for thread_id, folder_id, name, role in rows:
        labels[thread_id].append(ThreadLabel(folder_id=folder_id, name=name, role=role))
    return labels


# Built once, as Core statements over the tables: building the select and the ORM's
# compile step for ORM-annotated columns cost more than executing it, on every page. The
# parameters are typed here: a column whose type comes from its foreign key (`user_id`) may
# not have it yet when this module is imported.
_fc = Folder.__table__.c


def _folder_ids(*, by_role: bool, by_account: bool) -> Select[uuid.UUID]:
    query = select(_fc.id).where(_fc.user_id == bindparam("user_id", type_=Uuid()))
    if by_role:
        query = query.where(_fc.role == bindparam("role", type_=String()))
    else:
        query = query.where(_fc.id == bindparam("folder_id", type_=Uuid()))
    if by_account:
        query = query.where(_fc.account_id == bindparam("account_id", type_=Uuid()))
    return query


# By (a role rather than an id, narrowed to one mailbox).
_FOLDER_IDS = {
    (role, account): _folder_ids(by_role=role, by_account=account)
    for role in (True, False)
    for account in (True, False)
}

_tf = ThreadFolder.__table__.c
_PAGE_FIRST = (
    select(_tf.last_message_at, _tf.thread_id)
    .where(
        _tf.folder_id == bindparam("folder_id", type_=Uuid()),
        _tf.user_id == bindparam("user_id", type_=Uuid()),
    )
    .order_by(_tf.last_message_at.desc(), _tf.thread_id.desc())
    .limit(bindparam("limit", type_=Integer()))
)
_PAGE_AFTER = _PAGE_FIRST.where(
    or_(
        _tf.last_message_at < bindparam("at", type_=UtcDateTime()),
        and_(
            _tf.last_message_at == bindparam("at", type_=UtcDateTime()),
            _tf.thread_id < bindparam("after_id", type_=Uuid()),
        ),
    )
)

_t, _f = Thread.__table__, Folder.__table__
# The inbox's Important and Everything else sections: the same walk down the folder's index,
# keeping the threads on one side of the assistant's verdict.
_SECTION_FILTER = (_t.c.id == _tf.thread_id) & (
    _t.c.ai_important == bindparam("important", type_=Boolean())
)
_SECTION_FIRST = _PAGE_FIRST.where(_SECTION_FILTER)
_SECTION_AFTER = _PAGE_AFTER.where(_SECTION_FILTER)
