"""A thread list page in one statement (`mail.pages`) against the general path: the folders,
`listing.page_threads`' merge and `list_items.summaries_json`, page by page, on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from postwise import db
from postwise.mail import listing, pages
from postwise.mail.list_items import summaries_json
from postwise.mail.models import Folder, Thread, ThreadFolder
from tests.mail.factories import new_account

pytestmark = pytest.mark.backend

T0 = datetime(2026, 5, 1, 8, 30, 15, tzinfo=UTC)


async def _general(
    session: AsyncSession,
    user_id: uuid.UUID,
    folder: str,
    account_id: uuid.UUID | None,
    after: listing.Cursor | None,
    important: bool | None,
) -> tuple[list[str], listing.Cursor | None]:
    folder_ids = await listing.resolve_folders(session, user_id, folder, account_id)
    ids, cursor = await listing.page_threads(
        session, user_id, folder_ids, limit=3, after=after, important=important
    )
    return await summaries_json(session, user_id, ids), cursor


async def _walk(
    session: AsyncSession,
    user_id: uuid.UUID,
    folder: str,
    account_id: uuid.UUID | None,
    important: bool | None,
) -> list[str]:
    """Every page both ways; returns the items' JSON in list order."""
    listed: list[str] = []
    after: listing.Cursor | None = None
    while True:
        page = await pages.page_json(
            session,
            user_id,
            listing.folder_selector(folder),
            account_id,
            limit=3,
            after=after,
            important=important,
        )
        items, cursor = await _general(session, user_id, folder, account_id, after, important)
        if page is None:  # nothing to list here: the general path says the same
            assert (items, cursor) == ([], None)
            return listed
        assert page == (items, cursor)
        listed += items
        if cursor is None:
            return listed
        after = cursor


async def test_a_page_in_one_statement_equals_the_general_path(make_settings: Any) -> None:
    engine = db.create_engine(make_settings())
    sessions = db.create_sessionmaker(engine)
    try:
        async with sessions() as session:
            a = await new_account(session)
            b, c = (await new_account(session), await new_account(session))
            for other in (b, c):  # three mailboxes of one user
                other.user_id = a.user_id
            stranger = await new_account(session)
            await session.flush()

            def folder(account: Any, name: str, role: str | None) -> Folder:
                return Folder(user_id=account.user_id, account_id=account.id, name=name, role=role)

            inboxes = [folder(x, "INBOX", "inbox") for x in (a, b, c)]
            work = folder(a, "Work", None)
            # A server that flags two folders \Archive: one thread is in both.
            archives = [folder(a, "Archive", "archive"), folder(a, "Old", "archive")]
            theirs = folder(stranger, "INBOX", "inbox")
            session.add_all([*inboxes, work, *archives, theirs])
            await session.flush()

            def thread(account: Any, n: int) -> Thread:
                # Pairs share a date, so ids decide; every other pair has a fraction.
                at = T0 + timedelta(minutes=n // 2, microseconds=n // 2 % 2 * 250)
                return Thread(
                    user_id=account.user_id,
                    account_id=account.id,
                    subject=f"{n}",
                    last_message_at=at,
                    ai_important=n % 3 == 0,
                )

            a_threads = [thread(a, n) for n in range(9)]
            b_threads = [thread(b, n) for n in range(1, 11, 2)]  # interleaved with a's
            their_thread = thread(stranger, 0)
            session.add_all([*a_threads, *b_threads, their_thread])
            await session.flush()
            placed = [(t, inboxes[0]) for t in a_threads] + [(t, inboxes[1]) for t in b_threads]
            placed += [(a_threads[0], work), (a_threads[4], work)]
            placed += [(a_threads[1], archives[0]), (a_threads[1], archives[1])]
            placed += [(a_threads[2], archives[1]), (their_thread, theirs)]
            session.add_all(
                ThreadFolder(
                    thread_id=t.id,
                    folder_id=f.id,
                    user_id=t.user_id,
                    last_message_at=t.last_message_at,
                )
                for t, f in placed
            )
            await session.commit()

        user_id = a.user_id
        async with sessions() as session:
            for important in (None, True, False):
                unified = await _walk(session, user_id, "inbox", None, important)
                wanted = [
                    t
                    for t in a_threads + b_threads
                    if important is None or t.ai_important == important
                ]
                assert sorted(unified) == sorted(
                    await summaries_json(session, user_id, [t.id for t in wanted])
                )
                assert len(await _walk(session, user_id, "inbox", b.id, important)) == len(
                    [t for t in b_threads if important is None or t.ai_important == important]
                )
                await _walk(session, user_id, str(work.id), None, important)
                await _walk(session, user_id, str(work.id), a.id, important)
            assert len(await _walk(session, user_id, "archive", None, None)) == 2
            assert await _walk(session, user_id, "inbox", c.id, None) == []  # an empty inbox
            # Not the user's: no page here, and the general path answers 404.
            selector = listing.folder_selector(str(theirs.id))
            assert (
                await pages.page_json(session, user_id, selector, None, limit=3, after=None) is None
            )
            inbox = listing.folder_selector("inbox")
            assert (
                await pages.page_json(session, user_id, inbox, stranger.id, limit=3, after=None)
                is None
            )
    finally:
        await engine.dispose()


async def test_more_mailboxes_than_one_statement_reads_take_the_general_path(
    make_settings: Any,
) -> None:
    engine = db.create_engine(make_settings())
    sessions = db.create_sessionmaker(engine)
    try:
        async with sessions() as session:
            first = await new_account(session)
            accounts = [first]
            for _ in range(pages.MAX_FOLDERS):
                extra = await new_account(session)
                extra.user_id = first.user_id
                accounts.append(extra)
            await session.flush()
            for n, account in enumerate(accounts):
                inbox = Folder(
                    user_id=first.user_id, account_id=account.id, name="INBOX", role="inbox"
                )
                one = Thread(
                    user_id=first.user_id,
                    account_id=account.id,
                    last_message_at=T0 + timedelta(minutes=n),
                )
                session.add_all([inbox, one])
                await session.flush()
                session.add(
                    ThreadFolder(
                        thread_id=one.id,
                        folder_id=inbox.id,
                        user_id=first.user_id,
                        last_message_at=one.last_message_at,
                    )
                )
            await session.commit()
        async with sessions() as session:
            inbox = listing.folder_selector("inbox")
            assert (
                await pages.page_json(session, first.user_id, inbox, None, limit=3, after=None)
                is None
            )
            # One of those mailboxes alone is one statement again.
            page = await pages.page_json(
                session, first.user_id, inbox, accounts[-1].id, limit=3, after=None
            )
            assert page is not None and len(page[0]) == 1
    finally:
        await engine.dispose()
