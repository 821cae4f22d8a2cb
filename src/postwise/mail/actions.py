"""Local actions on messages: applied to the database at once, written back to the server later.

Each action changes the rows now (the user sees it immediately) and leaves a PendingChange per
message, naming it as the server knows it. The mailbox's sync loop writes the changes back with
retries and then re-reads the folders: what the server then says wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.models import AccountKind, MailAccount
from postwise.events import observe_actions, request_sync
from postwise.kit.errors import ProblemError
from postwise.mail.ingest import refresh_folder_counts
from postwise.mail.models import Folder, Message, PendingChange
from postwise.mail.thread_store import refresh_threads


class Action(StrEnum):
    READ = "read"
    UNREAD = "unread"
    STAR = "star"
    UNSTAR = "unstar"
    ARCHIVE = "archive"
    MOVE = "move"
    TRASH = "trash"
    SPAM = "spam"
    DELETE = "delete"


# Actions that move a message, and the folder role they move it to.
_ROLE_OF = {Action.ARCHIVE: "archive", Action.TRASH: "trash", Action.SPAM: "junk"}
_FLAG_CHANGES = {
    Action.READ: ("is_read", True),
    Action.UNREAD: ("is_read", False),
    Action.STAR: ("is_starred", True),
    Action.UNSTAR: ("is_starred", False),
}


async def _target_folder(
    db: AsyncSession, account_id: uuid.UUID, action: Action, folder_id: uuid.UUID | None
) -> Folder:
    if action is Action.MOVE:
        folder = await db.get(Folder, folder_id) if folder_id else None
        if folder is None or folder.account_id != account_id:
            raise ProblemError(422, "invalid_folder", "Choose a folder of the same mailbox.")
        return folder
    role = _ROLE_OF[action]
    found = await db.scalar(
        select(Folder).where(Folder.account_id == account_id, Folder.role == role)
    )
    if found is None:
        raise ProblemError(409, "no_such_folder", f"This mailbox has no {role} folder.")
    return found


async def apply_action(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    message_ids: Sequence[int],
    action: Action,
    folder_id: uuid.UUID | None = None,
) -> list[int]:
    """Apply to the user's own messages (others' ids are ignored); returns the ids changed."""
    rows = list(
        (
            await db.scalars(
                select(Message).where(Message.id.in_(message_ids), Message.user_id == user_id)
            )
        ).all()
    )
    if not rows:
        return []
    folders = {
        f.id: f
        for f in (
            await db.scalars(select(Folder).where(Folder.id.in_({m.folder_id for m in rows})))
        ).all()
    }
    accounts = {
        a.id: a
        for a in (
            await db.scalars(
                select(MailAccount).where(MailAccount.id.in_({m.account_id for m in rows}))
            )
        ).all()
    }
    touched_folders: set[uuid.UUID] = set()
    threads: set[uuid.UUID] = set()
    _observe(db, user_id, rows, action)
    for message in rows:
        source = folders[message.folder_id]
        account = accounts[message.account_id]
        remote = account.kind == AccountKind.IMAP and message.uid > 0
        change = PendingChange(
            user_id=user_id,
            account_id=account.id,
            folder_name=source.name,
            uidvalidity=message.uidvalidity,
            uid=message.uid,
            action=action.value,
        )
        touched_folders.add(source.id)
        if message.thread_id:
            threads.add(message.thread_id)
        if action in _FLAG_CHANGES:
            column, value = _FLAG_CHANGES[action]
            setattr(message, column, value)
        elif action is Action.DELETE:
            await db.delete(message)
        else:
            target = await _target_folder(db, account.id, action, folder_id)
            if target.id == source.id:
                continue
            change.action = Action.MOVE.value
            change.target_folder = target.name
            # Until the server's copy shows up in the target (and is adopted by Message-ID),
            # the row waits there under a negative uid that no server uid can collide with.
            message.folder_id = target.id
            message.uid = -abs(message.uid) if remote else await _next_local_uid(db, target)
            message.uidvalidity = target.uidvalidity or message.uidvalidity
            touched_folders.add(target.id)
        if remote:
            db.add(change)
    await db.flush()
    for folder_id_ in touched_folders:
        await refresh_folder_counts(db, folders.get(folder_id_) or await _folder(db, folder_id_))
    await refresh_threads(db, threads)
    for account in accounts.values():
        if account.kind == AccountKind.IMAP:
            request_sync(db, account.id)
    return [m.id for m in rows]


# What an action says about how much the user wanted a message (the assistant learns priority
# from it): reading it, starring it, or filing it away unread. Deleting for good (mostly from
# Trash) says nothing new, and the row is gone before the assistant could look at it.
_SIGNALS: dict[Action, tuple[str | None, str | None]] = {
    # (when the message was unread, when it was read)
    Action.READ: ("open", None),
    Action.STAR: ("star", "star"),
    Action.UNSTAR: ("unstar", "unstar"),
    Action.ARCHIVE: ("archive_unread", "archive"),
    Action.TRASH: ("delete_unread", "archive"),
    Action.SPAM: ("delete_unread", "delete_unread"),
}


def _observe(db: AsyncSession, user_id: uuid.UUID, rows: Sequence[Message], action: Action) -> None:
    unread, read = _SIGNALS.get(action, (None, None))
    by_signal: dict[str, list[int]] = {}
    for message in rows:
        signal = read if message.is_read else unread
        if signal is not None:
            by_signal.setdefault(signal, []).append(message.id)
    for signal, ids in by_signal.items():
        observe_actions(db, user_id, ids, signal)


async def _next_local_uid(db: AsyncSession, folder: Folder) -> int:
    """Local mailboxes number their own messages; a moved one takes the next number."""
    highest = await db.scalar(select(func.max(Message.uid)).where(Message.folder_id == folder.id))
    folder.uidnext = max(folder.uidnext, (highest or 0) + 1) + 1
    return folder.uidnext - 1


async def _folder(db: AsyncSession, folder_id: uuid.UUID) -> Folder:
    folder = await db.get(Folder, folder_id)
    assert folder is not None
    return folder


async def drop_changes(db: AsyncSession, change_ids: Sequence[int]) -> None:
    await db.execute(delete(PendingChange).where(PendingChange.id.in_(change_ids)))
