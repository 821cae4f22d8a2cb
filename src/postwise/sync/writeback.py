"""Writing local actions back to the server, in order, with retries; the server then wins.

Runs inside the mailbox's sync loop (the lease holder), on its connection: changes to one
mailbox are applied in the order the user made them and never race a second connection.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Sequence

import structlog
from sqlalchemy import select

from postwise.mail.models import PendingChange
from postwise.sync.context import SyncContext
from postwise.sync.imap import ImapError, ImapSession

log = structlog.get_logger(__name__)

# A change the server keeps refusing is dropped after this many tries; the next sync then
# restores the server's state locally, so the user sees what really happened.
MAX_ATTEMPTS = 5

_FLAGS = {
    "read": ("add", "\\Seen"),
    "unread": ("remove", "\\Seen"),
    "star": ("add", "\\Flagged"),
    "unstar": ("remove", "\\Flagged"),
}


def _apply(
    imap: ImapSession, folder: str, action: str, target: str | None, uids: list[int]
) -> None:
    if action in _FLAGS:
        how, flag = _FLAGS[action]
        imap.select(folder, readonly=False)
        (imap.add_flags if how == "add" else imap.remove_flags)(uids, [flag])
    elif action == "move" and target:
        imap.select(folder, readonly=False)
        imap.move(uids, target)
    elif action == "delete":
        imap.select(folder, readonly=False)
        imap.delete(uids)
    else:
        raise ImapError(f"unknown action {action!r}")


def _groups(changes: Sequence[PendingChange]) -> list[list[PendingChange]]:
    """Consecutive changes with the same folder, action and target go in one command."""
    key = lambda c: (c.folder_name, c.uidvalidity, c.action, c.target_folder)  # noqa: E731
    return [list(group) for _, group in itertools.groupby(changes, key=key)]


async def write_back(ctx: SyncContext, imap: ImapSession, account_id: uuid.UUID) -> int:
    """Apply every pending change of the mailbox; returns how many were applied."""
    async with ctx.sessionmaker() as db:
        changes = list(
            (
                await db.scalars(
                    select(PendingChange)
                    .where(PendingChange.account_id == account_id)
                    .order_by(PendingChange.id)
                )
            ).all()
        )
        applied = 0
        for group in _groups(changes):
            first = group[0]
            uids = [abs(c.uid) for c in group]
            try:
                status = await asyncio.to_thread(imap.select, first.folder_name)
                if status.uidvalidity != first.uidvalidity:
                    # The folder was rebuilt on the server: these UIDs name nothing any more.
                    log.warning("writeback_uidvalidity_changed", folder=first.folder_name)
                else:
                    await asyncio.to_thread(
                        _apply, imap, first.folder_name, first.action, first.target_folder, uids
                    )
                    applied += len(group)
                for change in group:
                    await db.delete(change)
            except ImapError as error:
                for change in group:
                    change.attempts += 1
                    change.last_error = str(error)[:500]
                    if change.attempts >= MAX_ATTEMPTS:
                        log.error("writeback_gave_up", action=change.action, error=str(error))
                        await db.delete(change)
                await db.commit()
                raise
            await db.commit()
        return applied
