"""The Drafts mirror against a real Dovecot: each save replaces the previous copy, stale and
crossing jobs never leave a second one, a discarded draft's copy is removed."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from postwise.accounts.models import AccountKind
from postwise.compose import imap_copy, tasks
from postwise.compose.models import DraftStatus
from tests.compose.outbox_harness import Outbox, open_outbox
from tests.fixtures.dovecot import Dovecot
from tests.sync.conftest import add_mailbox, open_sync_context

pytestmark = pytest.mark.backend


@pytest.fixture
async def box(make_settings: Any) -> AsyncIterator[Outbox]:
    async with open_outbox(make_settings(mail_connect_timeout=10)) as outbox:
        yield outbox


async def dovecot_account(box: Outbox, dovecot: Dovecot) -> tuple[uuid.UUID, str]:
    """A mailbox on Dovecot with its Drafts folder known (as a sync would have found it)."""
    async with open_sync_context(box.settings) as sync_ctx:
        mailbox = await add_mailbox(sync_ctx, dovecot)
    box.user_ids.append(mailbox.user_id)
    await box.add_folder(mailbox.account_id, "Drafts", "drafts")
    return mailbox.account_id, mailbox.username


def drafts_on_server(dovecot: Dovecot, username: str) -> dict[int, email.message.EmailMessage]:
    imap = dovecot.client(username)
    try:
        imap.select_folder("Drafts", readonly=True)
        uids = imap.search("ALL")
        fetched = imap.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}
    finally:
        imap.logout()
    found = {}
    for uid, data in fetched.items():
        assert b"\\Draft" in data[b"FLAGS"]
        message = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        found[uid] = message
    return found


async def save(box: Outbox, draft_id: uuid.UUID, version: int, **values: Any) -> None:
    """An autosave: new content, a new version."""
    await box.change(draft_id, version=version, **values)


async def test_each_save_replaces_the_previous_copy(box: Outbox, dovecot: Dovecot) -> None:
    account_id, username = await dovecot_account(box, dovecot)
    draft_id = await box.queue(
        account_id,
        status=DraftStatus.DRAFT,
        to=[],
        bcc=[{"name": "", "address": "boss@example.org"}],
        subject="First words",
    )
    assert await imap_copy.mirror_draft(box.ctx, draft_id, 1) == "mirrored"
    [(first_uid, first)] = drafts_on_server(dovecot, username).items()
    assert first["Subject"] == "First words"
    assert first["Bcc"] == "boss@example.org"  # a draft keeps its Bcc, as every client does
    entry = await box.entry(draft_id)
    assert (entry.mirror_folder, entry.mirror_uid, entry.mirrored_version) == (
        "Drafts",
        first_uid,
        1,
    )

    await save(box, draft_id, 2, subject="Second thoughts")
    assert await imap_copy.mirror_draft(box.ctx, draft_id, 1) == "stale"
    assert await imap_copy.mirror_draft(box.ctx, draft_id, 2) == "mirrored"
    [(second_uid, second)] = drafts_on_server(dovecot, username).items()
    assert second_uid != first_uid
    assert second["Subject"] == "Second thoughts"
    entry = await box.entry(draft_id)
    assert (entry.mirror_uid, entry.mirrored_version) == (second_uid, 2)

    # Two jobs for the same save crossing: one copy wins, the other removes its own.
    await save(box, draft_id, 3, subject="Third time")
    outcomes = await asyncio.gather(
        imap_copy.mirror_draft(box.ctx, draft_id, 3), imap_copy.mirror_draft(box.ctx, draft_id, 3)
    )
    assert sorted(outcomes) == ["mirrored", "superseded"]
    [(third_uid, third)] = drafts_on_server(dovecot, username).items()
    assert third["Subject"] == "Third time"
    assert (await box.entry(draft_id)).mirror_uid == third_uid

    # Discarding the draft removes its copy.
    uidvalidity = (await box.entry(draft_id)).mirror_uidvalidity
    assert uidvalidity is not None
    removed = await tasks.remove_mirror(
        box.ctx, account_id=str(account_id), folder="Drafts", uidvalidity=uidvalidity, uid=third_uid
    )
    assert removed is True
    assert drafts_on_server(dovecot, username) == {}


async def test_the_job_debounces_and_skips_what_it_cannot_mirror(
    box: Outbox, dovecot: Dovecot
) -> None:
    account_id, username = await dovecot_account(box, dovecot)
    queued = await box.queue(account_id)  # in the outbox: not a draft to mirror any more
    assert await tasks.mirror_draft(box.ctx, draft_id=str(queued), version=1) == "stale"
    draft_id = await box.queue(account_id, status=DraftStatus.DRAFT)
    assert await tasks.mirror_draft(box.ctx, draft_id=str(draft_id), version=1) == "mirrored"
    assert len(drafts_on_server(dovecot, username)) == 1
    # A renumbered folder: the recorded UID now means another message, which stays.
    [uid] = drafts_on_server(dovecot, username)
    assert not await tasks.remove_mirror(
        box.ctx, account_id=str(account_id), folder="Drafts", uidvalidity=1, uid=uid
    )
    assert len(drafts_on_server(dovecot, username)) == 1

    user_id = await box.user()
    local = await box.account(user_id, smtp_port=0, kind=AccountKind.LOCAL)
    local_draft = await box.queue(local, status=DraftStatus.DRAFT)
    assert await tasks.mirror_draft(box.ctx, draft_id=str(local_draft), version=1) == "local"
