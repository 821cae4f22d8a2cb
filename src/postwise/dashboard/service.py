"""The dashboard's figures, each one query bounded by the window (read from the index
`ix_messages_dashboard` alone, never from the wide message rows) or read from the user's folders
and mailboxes: the answer stays fast at 100,000 messages.

Mail is counted the way the thread views count it: a mail held in several folders (Gmail's All
Mail beside the inbox, a copy in Sent) once, by its Message-ID (a row without one is its own).
"Yours" means sent from one of the user's mailbox addresses, or kept in a Sent folder.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, cast, false, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from postwise.accounts.models import AccountKind, MailAccount, SyncState
from postwise.dashboard.calendar import Window, local_day, window
from postwise.dashboard.schemas import (
    Activity,
    Dashboard,
    DayActivity,
    FolderUnread,
    MailboxStatus,
    Recipient,
    TopSender,
    Waiting,
    WaitingThread,
)
from postwise.mail.models import Folder, Message, Thread

__all__ = ["TOP_SENDERS", "WAITING_AFTER_DAYS", "WAITING_SHOWN", "build_dashboard"]

TOP_SENDERS = 10
WAITING_AFTER_DAYS = 3
WAITING_SHOWN = 10
# Mail in these folders is neither received nor sent yet.
_UNSENT = ("drafts",)
# A conversation whose newest mail sits here is not waiting for anyone.
_SET_ASIDE = ("drafts", "trash", "junk")


class _Folder(NamedTuple):
    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    delimiter: str | None
    role: str | None
    unread: int
    total: int
    stored_bytes: int


def _with_role(folders: Sequence[_Folder], roles: Collection[str]) -> list[uuid.UUID]:
    return [folder.id for folder in folders if folder.role in roles]


def _mail_key() -> ColumnElement[str]:
    # As `mail.thread_store` keys a mail: its Message-ID, else the row ("#" starts no id).
    return func.coalesce(Message.message_id, literal("#") + cast(Message.id, String))


def _from_own(own: Collection[str]) -> ColumnElement[bool]:
    if not own:
        return false()
    return func.lower(Message.from_address).in_(sorted(own))


def _in_window(user_id: uuid.UUID, span: Window) -> ColumnElement[bool]:
    return and_(
        Message.user_id == user_id,
        Message.received_at >= span.start,
        Message.received_at < span.end,
    )


async def build_dashboard(
    db: AsyncSession, *, user_id: uuid.UUID, tz: ZoneInfo, days: int, now: datetime
) -> Dashboard:
    accounts = list(
        (
            await db.scalars(
                select(MailAccount)
                .where(MailAccount.user_id == user_id)
                .order_by(MailAccount.created_at, MailAccount.id)
            )
        ).all()
    )
    rows = await db.execute(
        select(
            Folder.id,
            Folder.account_id,
            Folder.name,
            Folder.delimiter,
            Folder.role,
            Folder.unread_count,
            Folder.total_count,
            Folder.stored_bytes,
        ).where(Folder.user_id == user_id)
    )
    folders = [_Folder(*row) for row in rows]
    own = {account.email.lower() for account in accounts}
    span = window(now, tz, days)
    unread = _unread(folders, {account.id: account.email for account in accounts})
    return Dashboard(
        days=days,
        timezone=tz.key,
        since=span.days[0],
        generated_at=now,
        activity=await _activity(db, user_id=user_id, span=span, folders=folders, own=own),
        top_senders=await _top_senders(db, user_id=user_id, span=span, folders=folders, own=own),
        unread=unread,
        unread_total=sum(item.unread for item in unread),
        waiting=await _waiting(db, user_id=user_id, span=span, folders=folders, own=own, now=now),
        mailboxes=_mailboxes(accounts, folders),
    )


async def _activity(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    span: Window,
    folders: list[_Folder],
    own: set[str],
) -> Activity:
    dialect = db.get_bind().dialect.name
    sent = or_(Message.folder_id.in_(_with_role(folders, ("sent",))), _from_own(own))
    rows = (
        select(
            local_day(Message.received_at, span.branches, dialect).label("day"),
            sent.label("sent"),
            _mail_key().label("mail"),
        )
        .where(
            _in_window(user_id, span),
            Message.folder_id.not_in(_with_role(folders, _UNSENT)),
            not_(Message.is_draft),
        )
        .subquery()
    )
    # Grouped outside: PostgreSQL would not see the CASE in GROUP BY as the selected one (each
    # copy of it carries its own parameters).
    counts = await db.execute(
        select(rows.c.day, rows.c.sent, func.count(rows.c.mail.distinct())).group_by(
            rows.c.day, rows.c.sent
        )
    )
    received = dict.fromkeys(span.days, 0)
    sent_by_day = dict.fromkeys(span.days, 0)
    for day, was_sent, count in counts:
        target = sent_by_day if was_sent else received
        if day in target:
            target[day] += int(count)
    return Activity(
        days=[
            DayActivity(day=day, received=received[day], sent=sent_by_day[day]) for day in span.days
        ],
        received=sum(received.values()),
        sent=sum(sent_by_day.values()),
    )


async def _top_senders(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    span: Window,
    folders: list[_Folder],
    own: set[str],
) -> list[TopSender]:
    address = func.lower(Message.from_address)
    count = func.count(_mail_key().distinct())
    rows = await db.execute(
        select(address, func.max(Message.from_name), count)
        .where(
            _in_window(user_id, span),
            Message.folder_id.not_in(_with_role(folders, ("sent", *_UNSENT))),
            not_(Message.is_draft),
            Message.from_address != "",
            not_(_from_own(own)),
        )
        .group_by(address)
        .order_by(count.desc(), address)
        .limit(TOP_SENDERS)
    )
    return [TopSender(name=name or "", address=addr, count=int(n)) for addr, name, n in rows]


def _unread(folders: list[_Folder], mailbox_of: dict[uuid.UUID, str]) -> list[FolderUnread]:
    items = [
        FolderUnread(
            account_id=folder.account_id,
            mailbox=mailbox_of.get(folder.account_id, ""),
            folder_id=folder.id,
            folder=folder.name.rsplit(folder.delimiter, 1)[-1] if folder.delimiter else folder.name,
            role=folder.role,
            unread=folder.unread,
        )
        for folder in folders
        # An "all mail" view repeats the unread mail of every other folder.
        if folder.unread > 0 and folder.role != "all"
    ]
    return sorted(items, key=lambda item: (-item.unread, item.mailbox, item.folder))


async def _waiting(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    span: Window,
    folders: list[_Folder],
    own: set[str],
    now: datetime,
) -> Waiting:
    """Conversations whose newest mail is yours, sent in the window and more than three days
    ago: nobody answered since (an answer, even one since trashed, would be newer). One whose
    newest mail was trashed, marked as spam or is a draft (you are writing again) is not
    waiting. Counted and ordered in the database, on the dashboard index and the threads'
    keys alone: only the ones shown are read in full."""
    if not own:
        return Waiting(count=0, after_days=WAITING_AFTER_DAYS, threads=[])
    set_aside = _with_role(folders, _SET_ASIDE)
    newest_mine = (
        select(
            Message.thread_id.label("thread_id"),
            # Copies of one mail (Sent and All Mail) share the arrival; any id of them will do.
            func.min(Message.received_at).label("sent_at"),
            func.min(Message.id).label("message_id"),
        )
        .join(Thread, Thread.id == Message.thread_id)
        .where(
            Message.user_id == user_id,
            Message.received_at >= span.start,
            Message.received_at < now - timedelta(days=WAITING_AFTER_DAYS),
            # The newest mail of its conversation (`last_message_at` is the newest arrival).
            Message.received_at == Thread.last_message_at,
            _from_own(own),
        )
        .group_by(Message.thread_id)
        .having(
            func.max(case((or_(Message.is_draft, Message.folder_id.in_(set_aside)), 1), else_=0))
            == 0
        )
        .subquery()
    )
    oldest = (
        await db.execute(
            select(
                newest_mine.c.thread_id,
                newest_mine.c.sent_at,
                newest_mine.c.message_id,
                func.count().over().label("total"),
            )
            .order_by(newest_mine.c.sent_at, newest_mine.c.thread_id)
            .limit(WAITING_SHOWN)
        )
    ).all()
    if not oldest:
        return Waiting(count=0, after_days=WAITING_AFTER_DAYS, threads=[])
    details = {
        thread_id: (subject, to)
        for thread_id, subject, to in await db.execute(
            select(Thread.id, Thread.subject, Message.to)
            .join(Message, Message.thread_id == Thread.id)
            .where(Message.id.in_([row.message_id for row in oldest]))
        )
    }
    shown = []
    for row in oldest:
        subject, to = details.get(row.thread_id, ("", []))
        shown.append(
            WaitingThread(
                thread_id=row.thread_id,
                subject=subject,
                to=[
                    Recipient(name=str(p.get("name") or ""), address=str(p.get("address") or ""))
                    for p in to or []
                    if isinstance(p, dict)
                ],
                sent_at=row.sent_at,
                days_waiting=(now - row.sent_at).days,
            )
        )
    return Waiting(count=int(oldest[0].total), after_days=WAITING_AFTER_DAYS, threads=shown)


def _mailboxes(accounts: list[MailAccount], folders: list[_Folder]) -> list[MailboxStatus]:
    """Mail stored per mailbox, each mail once, from the folders' own counters (kept by the
    mail store with every change: no message row is read). A Gmail-like mailbox (one with an
    "all mail" view) holds every mail in that view except spam and trash, its other folders
    being labels over the same mail, so only those three are summed; elsewhere a mail is in one
    folder."""
    gmail_like = {folder.account_id for folder in folders if folder.role == "all"}
    totals: dict[uuid.UUID, tuple[int, int]] = {}
    for folder in folders:
        if folder.account_id in gmail_like and folder.role not in ("all", "junk", "trash"):
            continue
        count, size = totals.get(folder.account_id, (0, 0))
        totals[folder.account_id] = (count + folder.total, size + folder.stored_bytes)
    return [
        MailboxStatus(
            id=account.id,
            email=account.email,
            display_name=account.display_name,
            kind=AccountKind(account.kind),
            is_demo=account.is_demo,
            sync_state=SyncState(account.sync_state),
            last_synced_at=account.last_synced_at,
            last_error=account.last_error,
            message_count=totals.get(account.id, (0, 0))[0],
            storage_bytes=totals.get(account.id, (0, 0))[1],
        )
        for account in accounts
    ]
