"""Every transaction of a mailbox's sync loop starts by share-locking that mailbox's row.

Deleting a mailbox (or its user) removes its folders, threads and messages through ON DELETE
CASCADE: the account row is locked first, then those rows. A sync transaction that had locked
some messages (flag changes, expunges, adopted moves) and then needed the folder row the
deletion already held, while the deletion waited for those messages, was a deadlock on
PostgreSQL. Taking `FOR KEY SHARE` on the account row before anything else gives the sync the
deletion's lock order (account → folders → messages):

- a deletion waits for the sync transaction in progress, which commits whole;
- a sync transaction that starts while a deletion runs waits for it, then finds the row gone
  and raises `MailboxGone`, which ends the loop: nothing half-written, no deadlock.

KEY SHARE conflicts only with deleting the row (or changing its key): lease renewals and state
updates of the same row go on. SQLite has no row locks (it renders no locking clause, and has
one writer at a time); the existence check still ends the loop at its next transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from postwise.accounts.models import MailAccount

_ACCOUNT = "postwise_sync_account_id"


class MailboxGone(Exception):
    """The account was deleted (or is not an IMAP account): the loop ends for good."""


class AccountLockingSession(Session):
    """A session whose every transaction first takes the account row lock (module doc)."""


@event.listens_for(AccountLockingSession, "after_begin")
def _lock_account(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    account_id = session.info[_ACCOUNT]
    found = connection.execute(
        select(MailAccount.id).where(MailAccount.id == account_id).with_for_update(key_share=True)
    ).first()
    if found is None:
        raise MailboxGone()


def account_sessionmaker(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> async_sessionmaker[AsyncSession]:
    """`sessionmaker` (same engine and options) whose transactions lock `account_id` first."""
    options = dict(sessionmaker.kw)
    options["info"] = {**options.get("info", {}), _ACCOUNT: account_id}
    options["sync_session_class"] = AccountLockingSession
    return async_sessionmaker(class_=sessionmaker.class_, **options)
