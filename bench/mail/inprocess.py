"""Where a page's CPU goes, measured in-process on the bench's mailbox, step by step as
`GET /api/threads` takes them: `folder=inbox`'s folder, the page and its 50 items' JSON from
the database in one statement (`mail.pages.page_json`), then the response body joined from
them. CPU is the process's (the SQLite connection's thread
included), so it adds up to what the server spends on these steps, without HTTP, sign-in and
the transaction around them.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from postwise.config import Settings
from postwise.db import create_engine, create_sessionmaker
from postwise.mail import list_items, listing
from postwise.mail import pages as mail_pages
from postwise.users.models import User

# Pages are read as the HTTP clients read them: the first, then a few further, then again.
_DEPTH = 4
_ROUNDS = 7


@dataclass(frozen=True)
class Breakdown:
    """Milliseconds of CPU per 50-item page, the median of a few rounds."""

    page_ms: float
    response_ms: float
    pages: int

    @property
    def total_ms(self) -> float:
        return self.page_ms + self.response_ms


def measure(data_dir: Path, email: str, pages: int) -> Breakdown:
    return asyncio.run(_measure(data_dir, email, pages))


async def _measure(data_dir: Path, email: str, pages: int) -> Breakdown:
    engine = create_engine(Settings(env="dev", data_dir=data_dir))
    rounds: list[tuple[float, float]] = []
    try:
        async with create_sessionmaker(engine)() as db:
            user_id = await db.scalar(select(User.id).where(User.email == email))
            assert user_id is not None
            inbox = listing.folder_selector("inbox")
            cursor: listing.Cursor | None = None
            for n in range(-1, _ROUNDS):  # round -1 warms the caches up
                spent = [0.0, 0.0]
                for i in range(pages):
                    if i % _DEPTH == 0:
                        cursor = None
                    began = time.process_time()
                    page = await mail_pages.page_json(
                        db, user_id, inbox, None, limit=50, after=cursor
                    )
                    built = time.process_time()
                    assert page is not None, "the bench's inbox is one folder, never empty"
                    items, cursor = page
                    next_cursor = listing.encode_cursor(cursor) if cursor else None
                    list_items.page_body(items, next_cursor)
                    done = time.process_time()
                    spent[0] += built - began
                    spent[1] += done - built
                if n >= 0:
                    rounds.append((spent[0], spent[1]))
    finally:
        await engine.dispose()

    def median_ms(k: int) -> float:
        return statistics.median(r[k] for r in rounds) / pages * 1000

    return Breakdown(median_ms(0), median_ms(1), pages * _ROUNDS)
