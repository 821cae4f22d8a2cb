"""Blob garbage collection: what no row names goes, what a row names or a writer just stored
stays, and the walk is bounded and resumes where it stopped."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskiq import InMemoryBroker

from postwise import db
from postwise.db import utcnow
from postwise.mail.blob_gc import GRACE, collect_blobs
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Attachment, Folder, Message
from postwise.mail.tasks import BLOB_GC_POSITION, collect_unreferenced_blobs
from postwise.notify.mailer import build_mailer
from postwise.store import MemoryStore
from postwise.worker.queue import JobQueue
from postwise.worker.registry import JobContext, load_jobs
from tests.mail.factories import new_account

pytestmark = pytest.mark.backend

OLD = time.time() - GRACE.total_seconds() - 3600


@dataclass
class Box:
    sessions: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    user_id: uuid.UUID
    account_id: uuid.UUID
    folder_id: uuid.UUID

    async def message(self, raw: str, *attachments: str) -> int:
        """A message row naming the blob `raw` and attachment blobs."""
        async with self.sessions() as session:
            row = Message(
                user_id=self.user_id,
                account_id=self.account_id,
                folder_id=self.folder_id,
                uidvalidity=1,
                uid=int.from_bytes(os.urandom(3), "big"),
                received_at=utcnow(),
                raw_sha256=raw,
            )
            session.add(row)
            await session.flush()
            for position, digest in enumerate(attachments):
                session.add(
                    Attachment(
                        message_id=row.id,
                        position=position,
                        content_type="application/pdf",
                        size=1,
                        sha256=digest,
                    )
                )
            await session.commit()
            return row.id

    async def collect(self, **options: Any) -> tuple[int, int, str]:
        async with self.sessions() as session:
            result = await collect_blobs(session, self.blobs, **options)
        return result.scanned, result.deleted, result.next_after


@pytest.fixture
async def box(make_settings: Any, tmp_path: Path) -> AsyncIterator[Box]:
    engine = db.create_engine(make_settings())
    sessions = db.create_sessionmaker(engine)
    async with sessions() as session:
        account = await new_account(session)
        user_id = account.user_id
        folder = Folder(user_id=user_id, account_id=account.id, name="INBOX")
        session.add(folder)
        await session.commit()
        ids = (user_id, account.id, folder.id)
    yield Box(sessions, BlobStore(tmp_path / "blobs", fsync=False), *ids)
    await engine.dispose()


def put(blobs: BlobStore, *, mtime: float | None = None) -> str:
    digest = blobs.put(os.urandom(64))
    if mtime is not None:
        os.utime(blobs.path(digest), (mtime, mtime))
    return digest


async def test_unreferenced_old_blobs_go_and_the_rest_stays(box: Box) -> None:
    blobs = box.blobs
    named_raw, named_part = put(blobs, mtime=OLD), put(blobs, mtime=OLD)
    await box.message(named_raw, named_part)
    orphan = put(blobs, mtime=OLD)
    # Written a moment ago by a sync whose transaction has not committed yet.
    fresh = put(blobs)
    scanned, deleted, next_after = await box.collect()
    assert (scanned, deleted, next_after) == (4, 1, "")
    assert not blobs.exists(orphan)
    assert all(blobs.exists(d) for d in (named_raw, named_part, fresh))


async def test_a_blob_whose_message_was_deleted_goes(box: Box) -> None:
    digest = put(box.blobs, mtime=OLD)
    message_id = await box.message(digest)
    assert (await box.collect())[1] == 0
    async with box.sessions() as session:
        row = await session.get(Message, message_id)
        await session.delete(row)
        await session.commit()
    assert (await box.collect())[1] == 1
    assert not box.blobs.exists(digest)


async def test_reusing_old_content_rearms_the_grace_period(box: Box) -> None:
    # A new message carries the bytes of an old unreferenced blob: put finds the file and
    # writes nothing, but the collector must not take it before the row commits.
    data = b"the same newsletter image"
    digest = box.blobs.put(data)
    os.utime(box.blobs.path(digest), (OLD, OLD))
    assert box.blobs.put(data) == digest
    assert box.blobs.path(digest).stat().st_mtime > time.time() - 60
    assert (await box.collect())[1] == 0
    assert box.blobs.exists(digest)


async def test_a_put_racing_the_collector_keeps_its_blob(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer re-uses the blob after the collector's look and before its rename."""
    data = b"raced"
    digest = box.blobs.put(data)
    os.utime(box.blobs.path(digest), (OLD, OLD))
    real_rename = os.rename

    def rename_after_a_put(src: Any, dst: Any) -> None:
        box.blobs.put(data)
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename_after_a_put)
    assert (await box.collect())[1] == 0
    monkeypatch.undo()
    assert box.blobs.get(digest) == data
    assert [p.name for p in box.blobs.path(digest).parent.iterdir()] == [digest]


async def test_leftovers_of_crashes_are_cleaned_up(box: Box) -> None:
    blobs = box.blobs
    named, orphan = put(blobs, mtime=OLD), put(blobs, mtime=OLD)
    await box.message(named)
    # A collector that stopped between setting a blob aside and deciding about it.
    for digest in (named, orphan):
        os.rename(blobs.path(digest), blobs.path(digest).with_name(".gc-" + digest))
    # A write that crashed before its rename, long ago, and one in progress now.
    leaf = blobs.path(named).parent
    (leaf / ".tmp-old.part").write_bytes(b"partial")
    os.utime(leaf / ".tmp-old.part", (OLD, OLD))
    (leaf / ".tmp-now.part").write_bytes(b"partial")
    await box.collect()
    assert blobs.exists(named)
    assert not blobs.exists(orphan)
    names = {p.name for d in (leaf, blobs.path(orphan).parent) for p in d.iterdir()}
    assert names == {named, ".tmp-now.part"}


async def test_each_run_looks_at_a_bounded_slice_and_resumes(box: Box) -> None:
    orphans = [put(box.blobs, mtime=OLD) for _ in range(40)]
    runs = []
    after = ""
    while True:
        scanned, deleted, after = await box.collect(after=after, limit=10)
        runs.append((scanned, deleted))
        if not after:
            break
    assert len(runs) >= 4
    assert all(scanned <= 11 for scanned, _ in runs)  # whole leaf directories, few files each
    assert sum(deleted for _, deleted in runs) == 40
    assert not any(box.blobs.exists(d) for d in orphans)


async def test_the_job_runs_on_the_schedule_and_keeps_its_place(
    make_settings: Any, box: Box
) -> None:
    spec = load_jobs().jobs["mail.collect_blobs"]
    assert spec.schedule is not None and spec.schedule.interval == 900
    settings = make_settings(blob_dir=box.blobs.root)
    orphan = put(box.blobs, mtime=OLD)
    store = MemoryStore()
    context = JobContext(
        settings=settings,
        store=store,
        sessionmaker=box.sessions,
        jobs=JobQueue(InMemoryBroker()),
        mailer=build_mailer(settings, store),
    )
    assert await spec.func(context) == {"scanned": 1, "deleted": 1}
    assert spec.func is collect_unreferenced_blobs
    assert not box.blobs.exists(orphan)
    assert await store.get(BLOB_GC_POSITION) == ""
