"""Folder roles and the writes of folder rows that the sync engine and the importers share."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.mail.ingest import flag_columns, refresh_folder_counts
from postwise.mail.models import Folder, Message
from postwise.mail.thread_store import refresh_threads

# Servers without SPECIAL-USE: well-known names, compared case-insensitively on the last level.
NAME_ROLES: dict[str, str] = {
    "sent": "sent",
    "sent items": "sent",
    "sent messages": "sent",
    "sent mail": "sent",
    "drafts": "drafts",
    "trash": "trash",
    "deleted items": "trash",
    "deleted messages": "trash",
    "bin": "trash",
    "junk": "junk",
    "junk e-mail": "junk",
    "spam": "junk",
    "archive": "archive",
    "archives": "archive",
}


def role_from_name(leaf: str) -> str | None:
    """The role of a folder whose server (or mbox file) says nothing but its name."""
    return NAME_ROLES.get(leaf.strip().lower())


# --- writes of the mirror, shared by the sync engine and the importers ---------------------------


def upsert_folder(
    db: AsyncSession,
    folder: Folder | None,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    name: str,
    delimiter: str | None,
    role: str | None,
    attributes: str,
    selectable: bool,
) -> Folder:
    """Create the folder row when `folder` is None, then bring its description up to date."""
    if folder is None:
        folder = Folder(user_id=user_id, account_id=account_id, name=name)
        db.add(folder)
    folder.delimiter = delimiter
    folder.role = role
    folder.attributes = attributes
    folder.selectable = selectable
    return folder


async def remove_folder(db: AsyncSession, folder: Folder) -> None:
    """A folder gone from the server: its messages go with it (ON DELETE CASCADE), and the
    threads that held them are recomputed."""
    threads = await _threads_of(db, Message.folder_id == folder.id)
    await db.delete(folder)
    await db.flush()
    await refresh_threads(db, threads)


async def set_folder_state(db: AsyncSession, folder_id: uuid.UUID, **values: int | None) -> None:
    """Sync progress columns (uidnext, backfill_uid, highestmodseq) without loading the row."""
    await db.execute(update(Folder).where(Folder.id == folder_id).values(**values))


async def drop_folder_messages(db: AsyncSession, folder: Folder) -> None:
    """Every local message of the folder goes (a UIDVALIDITY change made their UIDs
    meaningless); their threads are recomputed."""
    threads = await _threads_of(db, Message.folder_id == folder.id)
    await db.execute(delete(Message).where(Message.folder_id == folder.id))
    await refresh_threads(db, threads)


async def apply_flag_states(
    db: AsyncSession, folder: Folder, states: Mapping[int, tuple[Sequence[str], int | None]]
) -> list[int]:
    """Set the flags the server reports, `{uid: (flags, modseq)}`, on the folder's messages of
    its current UIDVALIDITY; only rows whose flags differ are written. Returns their ids; the
    threads and counts they touch are refreshed."""
    if not states:
        return []
    rows = (
        await db.execute(
            select(
                Message.id,
                Message.uid,
                Message.thread_id,
                Message.is_read,
                Message.is_starred,
                Message.is_answered,
                Message.is_draft,
                Message.keywords,
            ).where(
                Message.folder_id == folder.id,
                Message.uidvalidity == folder.uidvalidity,
                Message.uid.in_(list(states)),
            )
        )
    ).all()
    changed: list[int] = []
    threads: set[uuid.UUID] = set()
    for row in rows:
        flags, modseq = states[row.uid]
        wanted = flag_columns(flags)
        current = {
            "is_read": row.is_read,
            "is_starred": row.is_starred,
            "is_answered": row.is_answered,
            "is_draft": row.is_draft,
            "keywords": sorted(row.keywords or []),
        }
        if wanted == current:
            continue
        await db.execute(
            update(Message).where(Message.id == row.id).values(modseq=modseq, **wanted)
        )
        changed.append(row.id)
        if row.thread_id is not None:
            threads.add(row.thread_id)
    if changed:
        await refresh_threads(db, threads)
        await _refresh_counts(db, folder.id)
    return changed


async def delete_by_uids(db: AsyncSession, folder: Folder, uids: Iterable[int]) -> list[int]:
    """Messages expunged on the server: delete them, recompute their threads and the folder's
    counts. Returns the deleted ids."""
    rows = (
        await db.execute(
            select(Message.id, Message.thread_id).where(
                Message.folder_id == folder.id,
                Message.uidvalidity == folder.uidvalidity,
                Message.uid.in_(list(uids)),
            )
        )
    ).all()
    await db.execute(delete(Message).where(Message.id.in_([r.id for r in rows])))
    await refresh_threads(db, {r.thread_id for r in rows if r.thread_id is not None})
    await _refresh_counts(db, folder.id)
    return [r.id for r in rows]


async def folder_counts(db: AsyncSession, folder_id: uuid.UUID) -> tuple[int, int]:
    """(total, unread) as stored on the folder row."""
    folder = await db.get(Folder, folder_id)
    assert folder is not None
    return folder.total_count, folder.unread_count


async def _refresh_counts(db: AsyncSession, folder_id: uuid.UUID) -> None:
    live = await db.get(Folder, folder_id)
    assert live is not None
    await refresh_folder_counts(db, live)


async def _threads_of(db: AsyncSession, where: ColumnElement[bool]) -> set[uuid.UUID]:
    found = await db.scalars(select(Message.thread_id).where(where).distinct())
    return {t for t in found.all() if t is not None}
