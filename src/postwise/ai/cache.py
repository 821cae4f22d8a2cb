"""Remote answers by what was asked: sha256 over the mail's content, the task, the provider, the
model and the prompt version. A re-sync, a restart or a second user receiving the same newsletter
asks again and pays nothing.

Only remote answers are kept. The local provider answers in well under a millisecond, about what
reading a row costs, and keeping its answers would fill the table with a row per message and
serve stale answers after the shipped model changes (its interface carries no version). An
answer that fell back to the local provider is never stored under the remote key either, so the
next request tries the remote model again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.ai.mailview import MailView
from postwise.ai.models import AiCache
from postwise.db import affected_rows


def content_hash(mails: Sequence[MailView]) -> str:
    """Every field a task may read (headers, the whole text with its cut points, the user's
    own addresses): any change in what a provider would see changes the hash."""

    def plain(value: object) -> object:
        if isinstance(value, frozenset | set):
            return sorted(value)
        if isinstance(value, datetime):
            return value.isoformat()
        return value

    fields = [{k: plain(v) for k, v in sorted(asdict(mail).items())} for mail in mails]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def cache_key(
    mails: Sequence[MailView],
    *,
    task: str,
    version: int,
    provider: str,
    model: str,
    redacted: bool,
) -> str:
    # A redacted question is a different question: its answer holds placeholders.
    parts = [content_hash(mails), task, str(version), provider, model, "r" if redacted else ""]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def lookup(db: AsyncSession, key: str) -> dict[str, Any] | None:
    return await db.scalar(select(AiCache.result).where(AiCache.key == key))


async def store(db: AsyncSession, *, key: str, task: str, result: dict[str, Any]) -> None:
    """Keep `result`; a concurrent request that stored the same key first wins (same answer
    to the same question, and no unique-key error in the caller's transaction)."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    await db.execute(
        insert(AiCache)
        .values(key=key, task=task, result=result)
        .on_conflict_do_nothing(index_elements=["key"])
    )


async def prune(db: AsyncSession, *, before: datetime) -> int:
    """Forget answers stored before `before`; returns how many."""
    return affected_rows(await db.execute(delete(AiCache).where(AiCache.created_at < before)))
