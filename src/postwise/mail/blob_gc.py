"""Collecting blobs that no row names any more.

A blob is named by `Message.raw_sha256` (the raw message) and `Attachment.sha256`, and by the
compose domain's `drafts.raw_sha256` (a queued message's built bytes) and
`draft_attachments.sha256` (what a draft carries); deleting a message leaves its blobs behind,
since other messages may share them. The collector walks the
store's leaf directories in order, a bounded number of files per run, and resumes where the last
run stopped (the caller keeps the position). A file goes when it is older than the grace period
and no row names it; why that is safe against a sync storing the same content right now is in
`mail.blobs`. It also removes temporary files of writes that crashed, and settles blobs a
crashed collector left set aside.

Only reads the database; the files are changed in a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import column, select, table, union
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.mail.blobs import BlobFile, BlobStore
from postwise.mail.models import Attachment, Message

__all__ = ["GRACE", "SCAN_LIMIT", "CollectedBlobs", "collect_blobs"]

# Far beyond any transaction: a blob written (or re-used) this recently may belong to a batch
# that has not committed yet, so it is kept whatever the database says. It must also stay well
# above the interval at which `put` refreshes re-used blobs (an hour, `blobs._REFRESH_AFTER`).
GRACE = timedelta(days=1)
# Files looked at per run: a few seconds of work, so a run never holds a worker for long; a store
# of 10 million blobs is walked in about 500 runs.
SCAN_LIMIT = 20_000
# Digests per reference query.
_CHUNK = 500
# Compose builds on the mail store, so the store may not import its models (that would be a
# cycle across the layers); these lightweight stand-ins name just the columns read here.
_drafts = table("drafts", column("raw_sha256"))
_draft_attachments = table("draft_attachments", column("sha256"))


@dataclass(frozen=True, slots=True)
class CollectedBlobs:
    scanned: int
    deleted: int
    # Where the next run starts ("" once the walk reached the end and starts over).
    next_after: str


async def collect_blobs(
    db: AsyncSession,
    blobs: BlobStore,
    *,
    after: str = "",
    limit: int = SCAN_LIMIT,
    grace: timedelta = GRACE,
) -> CollectedBlobs:
    """Delete unreferenced blobs older than `grace` in the leaf directories after `after`,
    looking at about `limit` files (whole directories)."""
    older_than = time.time() - grace.total_seconds()
    files, next_after = await asyncio.to_thread(_scan, blobs, after, limit)
    # Blobs set aside by a crashed collector are decided whatever their age.
    candidates = [
        f for f in files if f.digest is not None and (f.set_aside or f.mtime < older_than)
    ]
    referenced = await _referenced(db, sorted({f.digest for f in candidates if f.digest}))
    leftovers = [f for f in files if f.temporary and f.mtime < older_than]
    deleted = await asyncio.to_thread(_delete, blobs, candidates, referenced, leftovers, older_than)
    return CollectedBlobs(scanned=len(files), deleted=deleted, next_after=next_after)


def _scan(blobs: BlobStore, after: str, limit: int) -> tuple[list[BlobFile], str]:
    files: list[BlobFile] = []
    for leaf in blobs.leaves(after):
        files.extend(blobs.files(leaf))
        if len(files) >= limit:
            return files, leaf
    return files, ""


async def _referenced(db: AsyncSession, digests: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(digests), _CHUNK):
        chunk = digests[start : start + _CHUNK]
        rows = await db.execute(
            union(
                select(Message.raw_sha256).where(Message.raw_sha256.in_(chunk)),
                select(Attachment.sha256).where(Attachment.sha256.in_(chunk)),
                select(_drafts.c.raw_sha256).where(_drafts.c.raw_sha256.in_(chunk)),
                select(_draft_attachments.c.sha256).where(_draft_attachments.c.sha256.in_(chunk)),
            )
        )
        found.update(rows.scalars())
    return found


def _delete(
    blobs: BlobStore,
    candidates: list[BlobFile],
    referenced: set[str],
    leftovers: list[BlobFile],
    older_than: float,
) -> int:
    deleted = 0
    for file in candidates:
        digest = file.digest
        assert digest is not None
        if file.set_aside:
            named = digest in referenced
            deleted += blobs.settle(file.path, older_than=older_than, referenced=named)
        elif digest not in referenced:
            deleted += blobs.collect(digest, older_than=older_than)
    for file in leftovers:
        blobs.discard(file.path, older_than=older_than)
    return deleted
