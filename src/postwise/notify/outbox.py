"""The dev outbox: transactional mail kept in the Store when no SMTP host is configured.

A self-hoster without a mail relay still needs the verification and reset links; they read them
at /api/dev/outbox instead of in the log, because links carry tokens and logs must never do.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from postwise.notify.schemas import OutboxItem
from postwise.store import Store

if TYPE_CHECKING:
    from postwise.notify.mailer import EmailMessage

OUTBOX_TTL: Final = 7 * 24 * 3600
# A runaway loop sending mail must not fill the Store; a week of dev mail fits easily.
MAX_KEPT: Final = 200
LIST_LIMIT: Final = 50
ITEM_PREFIX: Final = "outbox:item:"
INDEX_KEY: Final = "outbox:index"

_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def find_links(text: str) -> list[str]:
    """The http(s) links in `text`, in order and without duplicates or trailing punctuation."""
    links = (match.group(0).rstrip(_TRAILING) for match in _LINK.finditer(text))
    return list(dict.fromkeys(links))


def _new_id() -> str:
    # Fixed-width hex time first, so ids sort by creation (newest first = reverse order).
    return f"{time.time_ns():016x}{secrets.token_hex(4)}"


def _key(item_id: str) -> str:
    return f"{ITEM_PREFIX}{item_id}"


class DevOutbox:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def keep(self, message: EmailMessage) -> OutboxItem:
        item = OutboxItem(
            id=_new_id(),
            to=message.to,
            subject=message.subject,
            text=message.text,
            html=message.html,
            created_at=datetime.now(UTC),
            links=find_links(message.text),
        )
        await self.store.set(_key(item.id), item.model_dump_json(), ttl=OUTBOX_TTL)
        await self.store.sadd(INDEX_KEY, item.id, ttl=OUTBOX_TTL)
        await self._trim()
        return item

    async def items(self, *, limit: int = LIST_LIMIT) -> list[OutboxItem]:
        """Newest first; entries whose item expired are dropped from the index on the way."""
        found: list[OutboxItem] = []
        expired: list[str] = []
        for item_id in sorted(await self.store.smembers(INDEX_KEY), reverse=True):
            if len(found) >= limit:
                break
            raw = await self.store.get(_key(item_id))
            if raw is None:
                expired.append(item_id)
                continue
            found.append(OutboxItem.model_validate_json(raw))
        if expired:
            await self.store.srem(INDEX_KEY, *expired)
        return found

    async def clear(self) -> int:
        """Remove every kept mail; returns how many there were."""
        ids = await self.store.smembers(INDEX_KEY)
        removed = await self.store.delete(*map(_key, ids)) if ids else 0
        await self.store.delete(INDEX_KEY)
        return removed

    async def _trim(self) -> None:
        ids = sorted(await self.store.smembers(INDEX_KEY))
        oldest = ids[: max(0, len(ids) - MAX_KEPT)]
        if oldest:
            await self.store.delete(*map(_key, oldest))
            await self.store.srem(INDEX_KEY, *oldest)
