"""The address book of past correspondents, for autocomplete.

Kept from the synced mail by an incremental scan: each request reads the messages stored since
the last one (at most SCAN_LIMIT, the rest next time) and counts, per address, mail the user
sent to it (To, Cc, Bcc of mail in a Sent folder or from one of the user's addresses) and mail
received from it. A search ranks the matches by those counts, sent mail weighing three times
as much, discounted by how long ago the address was last seen.

The scan moves its cursor (`ContactScan.last_message_id`) with a compare-and-set before it
counts, so two requests at once never count the same messages twice: the second finds the
cursor moved and leaves the counting to the first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.models import MailAccount
from postwise.compose.access import user_addresses
from postwise.compose.models import Contact, ContactScan
from postwise.compose.schemas import ContactList, ContactOut
from postwise.db import affected_rows, utcnow
from postwise.mail.models import Folder, Message

__all__ = ["SCAN_LIMIT", "rank", "scan_messages", "score", "search_contacts"]

# Messages read per request: a first scan of a large mailbox is spread over a few searches.
SCAN_LIMIT = 20_000
_PAGE = 2_000
# Rows per INSERT ... ON CONFLICT, and ids per IN (...).
_CHUNK = 500
# Contacts ranked in Python after the database's prefilter by raw counts.
PREFILTER = 200
SENT_WEIGHT = 3
# Days after which an address counts half as much as one seen today.
HALF_WEIGHT_DAYS = 30
# Folders whose mail says nothing about who the user corresponds with.
_SKIPPED_ROLES = ("drafts", "junk")
_WORD_SPLIT = re.compile(r"[\s\"'()<>,;.\-_]+")


@dataclass(slots=True)
class _Tally:
    name: str = ""
    name_at: datetime | None = None
    sent: int = 0
    received: int = 0
    last_seen: datetime | None = None

    def see(self, name: str, when: datetime) -> None:
        if name and (self.name_at is None or when >= self.name_at):
            self.name, self.name_at = name, when
        if self.last_seen is None or when > self.last_seen:
            self.last_seen = when


def _plausible(address: str) -> bool:
    return 3 <= len(address) <= 320 and "@" in address and not any(c.isspace() for c in address)


class _Counter:
    """Counts one scan's messages per address."""

    def __init__(self, own: frozenset[str], sent_folders: set[uuid.UUID]) -> None:
        self.own = own
        self.sent_folders = sent_folders
        self.tallies: dict[str, _Tally] = {}

    def _tally(self, address: str) -> _Tally | None:
        key = address.strip().lower()
        if key in self.own or not _plausible(key):
            return None
        return self.tallies.setdefault(key, _Tally())

    def add(self, row: Any) -> None:
        sender = row.from_address.strip().lower()
        when: datetime = row.received_at
        if row.folder_id in self.sent_folders or sender in self.own:
            recipients: Iterable[dict[str, str]] = (*row.to, *row.cc, *row.bcc)
            counted: set[int] = set()
            for item in recipients:
                tally = self._tally(item.get("address", ""))
                # Once per message, also when an address is both in To and in Cc.
                if tally is not None and id(tally) not in counted:
                    counted.add(id(tally))
                    tally.sent += 1
                    tally.see(item.get("name", "").strip(), when)
            return
        tally = self._tally(sender)
        if tally is not None:
            tally.received += 1
            tally.see(row.from_name.strip(), when)


async def _earlier_copies(
    db: AsyncSession, account_ids: Sequence[uuid.UUID], before: int, message_ids: set[str]
) -> set[str]:
    """Which of these Message-IDs an already counted message carries (Gmail's All Mail
    beside the inbox, the inbox copy of mail sent to oneself)."""
    found: set[str] = set()
    ids = sorted(message_ids)
    for start in range(0, len(ids), _CHUNK):
        rows = await db.scalars(
            select(Message.message_id).where(
                Message.account_id.in_(account_ids),
                Message.message_id.in_(ids[start : start + _CHUNK]),
                Message.id <= before,
            )
        )
        found.update(m for m in rows if m)
    return found


async def _read(
    db: AsyncSession, user_id: uuid.UUID, after: int, skipped: set[uuid.UUID], limit: int
) -> tuple[list[Any], int]:
    """Up to `limit` messages after id `after`, in id order, and the last id read (the new
    cursor: past the skipped ones too)."""
    rows: list[Any] = []
    position, read = after, 0
    while read < limit:
        page = (
            await db.execute(
                select(
                    Message.id,
                    Message.folder_id,
                    Message.message_id,
                    Message.from_name,
                    Message.from_address,
                    Message.to,
                    Message.cc,
                    Message.bcc,
                    Message.received_at,
                    Message.is_draft,
                )
                .where(Message.user_id == user_id, Message.id > position)
                .order_by(Message.id)
                .limit(min(_PAGE, limit - read))
            )
        ).all()
        if not page:
            break
        position = page[-1].id
        read += len(page)
        rows.extend(r for r in page if not r.is_draft and r.folder_id not in skipped)
    return rows, position


def _insert(db: AsyncSession) -> Any:
    """INSERT with ON CONFLICT for the session's database."""
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


async def _move_cursor(db: AsyncSession, user_id: uuid.UUID, start: int | None, end: int) -> bool:
    """Move the scan's cursor from `start` to `end`; False when another request moved it
    first (it counts these messages, not this one)."""
    if start is None:
        inserted = await db.execute(
            _insert(db)(ContactScan)
            .values(user_id=user_id, last_message_id=end)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        return affected_rows(inserted) == 1
    moved = await db.execute(
        update(ContactScan)
        .where(ContactScan.user_id == user_id, ContactScan.last_message_id == start)
        .values(last_message_id=end)
    )
    return affected_rows(moved) == 1


async def _upsert(db: AsyncSession, user_id: uuid.UUID, tallies: dict[str, _Tally]) -> None:
    items = [(address, t) for address, t in sorted(tallies.items()) if t.last_seen is not None]
    for start in range(0, len(items), _CHUNK):
        statement = _insert(db)(Contact).values(
            [
                {
                    "user_id": user_id,
                    "address": address,
                    "name": tally.name[:200],
                    "sent_count": tally.sent,
                    "received_count": tally.received,
                    "last_seen_at": tally.last_seen,
                }
                for address, tally in items[start : start + _CHUNK]
            ]
        )
        new = statement.excluded
        newer = new.last_seen_at >= Contact.last_seen_at
        await db.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "address"],
                set_={
                    "sent_count": Contact.sent_count + new.sent_count,
                    "received_count": Contact.received_count + new.received_count,
                    # Dates compare as such on PostgreSQL and as their fixed-width text on
                    # SQLite, which orders the same way.
                    "last_seen_at": case((newer, new.last_seen_at), else_=Contact.last_seen_at),
                    "name": case(
                        ((new.name != "") & (newer | (Contact.name == "")), new.name),
                        else_=Contact.name,
                    ),
                },
            )
        )


async def scan_messages(db: AsyncSession, user_id: uuid.UUID, *, limit: int = SCAN_LIMIT) -> int:
    """Count the messages stored since the last scan (at most `limit` are read); returns how
    many were counted (drafts and junk are read past, not counted). The caller commits."""
    start = await db.scalar(
        select(ContactScan.last_message_id).where(ContactScan.user_id == user_id)
    )
    folders = (
        await db.execute(select(Folder.id, Folder.role).where(Folder.user_id == user_id))
    ).all()
    skipped = {f.id for f in folders if f.role in _SKIPPED_ROLES}
    rows, end = await _read(db, user_id, start or 0, skipped, limit)
    if end == (start or 0):
        return 0
    if not await _move_cursor(db, user_id, start, end):
        return 0
    account_ids = list(
        await db.scalars(select(MailAccount.id).where(MailAccount.user_id == user_id))
    )
    counted = await _earlier_copies(
        db, account_ids, start or 0, {r.message_id for r in rows if r.message_id}
    )
    counter = _Counter(
        await user_addresses(db, user_id), {f.id for f in folders if f.role == "sent"}
    )
    for row in rows:
        if row.message_id:
            if row.message_id in counted:
                continue
            counted.add(row.message_id)
        counter.add(row)
    await _upsert(db, user_id, counter.tallies)
    return len(rows)


# --- searching ----------------------------------------------------------------------------------


def score(contact: Contact, now: datetime) -> float:
    days = max(0.0, (now - contact.last_seen_at).total_seconds() / 86_400)
    weight = SENT_WEIGHT * contact.sent_count + contact.received_count
    return weight / (1 + days / HALF_WEIGHT_DAYS)


def matches(contact: Contact, query: str) -> bool:
    """`query` (case-folded) begins the address, the name, or a word of the name."""
    if not query or contact.address.startswith(query):
        return True
    name = contact.name.casefold()
    return name.startswith(query) or any(
        word.startswith(query) for word in _WORD_SPLIT.split(name) if word
    )


def rank(contacts: Iterable[Contact], query: str, now: datetime) -> list[Contact]:
    found = [c for c in contacts if matches(c, query)]
    return sorted(found, key=lambda c: (-score(c, now), c.address))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _candidates(db: AsyncSession, user_id: uuid.UUID, query: str) -> list[Contact]:
    statement = select(Contact).where(Contact.user_id == user_id)
    if query:
        start = f"{_escape_like(query)}%"
        word = f"% {_escape_like(query)}%"
        name = func.lower(Contact.name)
        statement = statement.where(
            or_(
                Contact.address.like(start, escape="\\"),
                name.like(start, escape="\\"),
                # SQLite lower-cases ASCII only: "Öl" finds "Ölaf" this way.
                Contact.name.like(f"%{_escape_like(query.capitalize())}%", escape="\\"),
                name.like(word, escape="\\"),
            )
        )
    weight = SENT_WEIGHT * Contact.sent_count + Contact.received_count
    rows = await db.scalars(
        statement.order_by(weight.desc(), Contact.last_seen_at.desc()).limit(PREFILTER)
    )
    return list(rows.all())


async def search_contacts(
    db: AsyncSession, user_id: uuid.UUID, q: str, *, limit: int
) -> ContactList:
    await scan_messages(db, user_id)
    query = " ".join(q.split()).casefold()
    own = await user_addresses(db, user_id)
    ranked = rank(await _candidates(db, user_id, query), query, utcnow())
    return ContactList(
        items=[
            ContactOut(
                name=c.name,
                address=c.address,
                sent_count=c.sent_count,
                received_count=c.received_count,
                last_seen_at=c.last_seen_at,
            )
            for c in ranked
            if c.address not in own
        ][:limit]
    )
