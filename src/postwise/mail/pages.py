"""A page of the thread list in one statement: which folders, the page, and its items' JSON.

`GET /api/threads` used to be three statements: the folders of `folder=inbox` (or the id's
folder), the page's ids from each folder's index range merged in Python
(`listing.page_threads`), then the items (`list_items.summaries_json`). Each statement costs the
server a trip to the database thread and SQLAlchemy's execution, about a quarter of a
millisecond of CPU, and the page is read on every scroll. Here the database does all three:

- `target`: the user's folders the selector names, numbered;
- `page`: each folder's first `limit + 1` threads after the cursor, one index range each
  (`ix_thread_folders_list`: a seek and a short walk, never a sort of the folder), merged,
  a thread in two folders kept once at its newest date, newest first;
- then each item's JSON as `list_items` writes it.

Up to `MAX_FOLDERS` folders (mailboxes, for a role); a role in more mailboxes than that, a page
with no rows at all (an empty folder, the end of the list, or a folder or mailbox that is not
the user's) answer None, and the caller takes the general path, which also gives the 404s.
tests/mail/test_pages.py compares the two paths page by page on both databases.
"""

# ruff: noqa: S608 (every f-string here puts in this module's constant SQL, never a value)
from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, Boolean, Integer, String, TextClause, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.db import UtcDateTime
from postwise.mail.list_items import POSTGRES_ITEM, SQLITE_CTES, SQLITE_ITEM
from postwise.mail.listing import Cursor, FolderSelector

__all__ = ["MAX_FOLDERS", "page_json"]

# Mailboxes a unified view reads in one statement; each is one index range.
MAX_FOLDERS = 8


def _branch(k: int, *, after: bool, section: bool) -> str:
    section_join = (
        "JOIN threads AS s ON s.id = tf.thread_id AND s.ai_important = :important"
        if section
        else ""
    )
    keyset = (
        "AND (tf.last_message_at < :at OR (tf.last_message_at = :at AND tf.thread_id < :after_id))"
        if after
        else ""
    )
    # SQLite takes no parentheses around a member of a compound SELECT, hence the
    # subquery; the scalar subquery is a constant to the planner, so this is an index seek.
    return f"""SELECT * FROM (
    SELECT tf.thread_id, tf.last_message_at FROM thread_folders AS tf {section_join}
    WHERE tf.folder_id = (SELECT id FROM target WHERE k = {k})
      AND tf.user_id = :user_id {keyset}
    ORDER BY tf.last_message_at DESC, tf.thread_id DESC LIMIT :limit
  ) AS b{k}"""


@functools.cache
def _statement(
    sqlite: bool, *, by_role: bool, by_account: bool, after: bool, section: bool
) -> TextClause:
    narrow = "AND account_id = :account_id" if by_account else ""
    if by_role:
        target = (
            "SELECT id, row_number() OVER (ORDER BY id) AS k FROM folders"
            f" WHERE user_id = :user_id AND role = :role {narrow}"
        )
        branches = "\n  UNION ALL\n  ".join(
            _branch(k, after=after, section=section) for k in range(1, MAX_FOLDERS + 1)
        )
        # A thread in two of the folders (two folders of one role in a mailbox) once, at
        # its newest date, as listing.page_threads merges them.
        page = f"""SELECT thread_id, max(last_message_at) AS last_message_at FROM (
  {branches}
  ) AS candidates GROUP BY thread_id
  ORDER BY last_message_at DESC, thread_id DESC LIMIT :limit"""
    else:
        target = (
            f"SELECT id, 1 AS k FROM folders WHERE user_id = :user_id AND id = :folder_id {narrow}"
        )
        page = _branch(1, after=after, section=section)
    ctes = f"target AS MATERIALIZED ({target}),\npage AS MATERIALIZED ({page})"
    if sqlite:
        ctes = f"{SQLITE_CTES},\n{ctes}"
    item = SQLITE_ITEM if sqlite else POSTGRES_ITEM
    statement = text(
        f"WITH {ctes}\n"
        f"SELECT (SELECT count(*) FROM target), p.thread_id, p.last_message_at, {item}\n"
        "FROM page AS p JOIN threads AS t ON t.id = p.thread_id\n"
        "ORDER BY p.last_message_at DESC, p.thread_id DESC"
    )
    binds: list[BindParameter[Any]] = [
        bindparam("user_id", type_=Uuid()),
        bindparam("limit", type_=Integer()),
        bindparam("role", type_=String()) if by_role else bindparam("folder_id", type_=Uuid()),
    ]
    if by_account:
        binds.append(bindparam("account_id", type_=Uuid()))
    if after:
        binds += [bindparam("at", type_=UtcDateTime()), bindparam("after_id", type_=Uuid())]
    if section:
        binds.append(bindparam("important", type_=Boolean()))
    return statement.bindparams(*binds)


async def page_json(
    db: AsyncSession,
    user_id: uuid.UUID,
    selector: FolderSelector,
    account_id: uuid.UUID | None,
    *,
    limit: int,
    after: Cursor | None,
    important: bool | None = None,
) -> tuple[list[str], Cursor | None] | None:
    """The page's items' JSON, newest first, and the next page's cursor; None when the
    general path must answer (see the module's docstring)."""
    sqlite = db.get_bind().dialect.name == "sqlite"
    params: dict[str, object] = {"user_id": user_id, "limit": limit + 1}
    if selector.role is not None:
        params["role"] = selector.role
    else:
        params["folder_id"] = selector.folder_id
    if account_id is not None:
        params["account_id"] = account_id
    if after is not None:
        params["at"], params["after_id"] = after
    if important is not None:
        params["important"] = important
    statement = _statement(
        sqlite,
        by_role=selector.role is not None,
        by_account=account_id is not None,
        after=after is not None,
        section=important is not None,
    )
    rows = (await db.execute(statement, params)).all()
    if not rows or rows[0][0] > MAX_FOLDERS:
        return None
    items = [item for _, _, _, owned, item in rows[:limit] if owned]
    if len(rows) <= limit:
        return items, None
    raw_id, raw_at = rows[limit - 1][1], rows[limit - 1][2]
    # As stored: SQLite's hex and naive UTC text; asyncpg's own UUID and an aware datetime.
    if sqlite:
        return items, (datetime.fromisoformat(raw_at).replace(tzinfo=UTC), uuid.UUID(hex=raw_id))
    return items, (raw_at.astimezone(UTC), uuid.UUID(str(raw_id)))
