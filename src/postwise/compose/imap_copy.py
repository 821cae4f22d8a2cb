"""The copies of a user's mail on their IMAP server: the sent message in Sent, the draft in Drafts.

Sent copy, after delivery: unless the server files sent mail itself (Gmail, known by its
X-GM-EXT-1 capability) or the mailbox has no Sent folder, the delivered bytes (with a Bcc
header in front, so the copy still says who was in Bcc) are APPENDed to Sent with \\Seen. With
UIDPLUS the server names the new copy (APPENDUID): it is stored locally at once, in that folder
under that UID, through the mail store's own ingest (parsed, threaded into the conversation it
answers, counted), so it shows in its thread immediately and the next sync knows the UID
already (`mail.ingest` skips known UIDs). Without UIDPLUS the sync is woken to fetch it.

Drafts mirror, after autosaves: the draft is built (the same builder, Bcc kept) and APPENDed to
the Drafts folder with \\Draft; the row then records the new copy, and the copy it replaces is
deleted. Recording is a compare-and-set on the copy it replaces, so two mirror jobs crossing
(or a send or deletion meanwhile) never orphan a copy: whoever loses deletes its own.

This domain reaches IMAP through postwise.accounts.connection (the private-hosts policy, the
pinned address, TLS), never through the sync engine, which builds on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import re
import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import structlog
from imapclient import IMAPClient
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts.connection import (
    ConnectionProblem,
    ImapLogin,
    ServerEndpoint,
    connect_imap,
    tls_context,
)
from postwise.accounts.credentials import DecryptionError, open_password
from postwise.accounts.models import AccountKind, MailAccount, Security
from postwise.compose.building import BuildError, build_message, with_bcc_header
from postwise.compose.models import Draft, DraftAttachment, DraftStatus, SentCopy
from postwise.db import affected_rows, utcnow
from postwise.events import EventType, announce, request_sync
from postwise.kit.crypto import Keyring
from postwise.mail.blobs import BlobStore
from postwise.mail.ingest import IncomingMessage, StoredBatch, store_batch
from postwise.mail.models import Folder
from postwise.worker.registry import JobContext

log = structlog.get_logger(__name__)

SENT_COPY_JOB: Final = "compose.sent_copy"
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_SENT_FLAGS = (b"\\Seen",)
_DRAFT_FLAGS = (b"\\Draft", b"\\Seen")
# A failing Sent copy is tried again after these pauses, then given up (sent_copy = failed).
_RETRY_PAUSES = (2.0, 10.0)
_IMAP_ERRORS = (ConnectionProblem, imaplib.IMAP4.error, OSError, DecryptionError)


@dataclass(frozen=True, slots=True)
class MirrorCopy:
    """One message on the server: its folder, the folder's UIDVALIDITY and its UID."""

    folder: str
    uidvalidity: int
    uid: int


# --- IMAP (blocking: each runs in a worker thread) ----------------------------------------------


def _login(account: MailAccount, keyring: Keyring) -> ImapLogin:
    return ImapLogin(
        endpoint=ServerEndpoint(
            host=account.imap_host,
            port=account.imap_port,
            security=Security(account.imap_security),
        ),
        username=account.username,
        password=open_password(keyring, account.credentials or ""),
    )


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()


def _find(client: IMAPClient, folder: str, message_id: str) -> MirrorCopy | None:
    """The newest message in `folder` with this Message-ID (copies keep their draft's id)."""
    info = client.select_folder(folder, readonly=True)
    uids = client.search(["HEADER", "Message-ID", f"<{message_id}>"])
    if not uids:
        return None
    return MirrorCopy(folder, int(info[b"UIDVALIDITY"]), max(int(uid) for uid in uids))


def _append(
    client: IMAPClient,
    folder: str,
    raw: bytes,
    *,
    flags: Sequence[bytes],
    when: datetime,
    message_id: str,
) -> MirrorCopy | None:
    """APPEND; the new copy as APPENDUID names it, else as a search finds it."""
    response = client.append(folder, raw, flags=flags, msg_time=when)
    found = _APPENDUID.search(response if isinstance(response, bytes) else b"")
    if found is not None:
        return MirrorCopy(folder, int(found[1]), int(found[2]))
    return _find(client, folder, message_id)


def _remove(client: IMAPClient, copy: MirrorCopy) -> bool:
    """Delete one message; False when its folder was renumbered (the UID means another)."""
    info = client.select_folder(copy.folder)
    if int(info[b"UIDVALIDITY"]) != copy.uidvalidity:
        return False
    client.delete_messages([copy.uid])
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([copy.uid])
    # Without UIDPLUS an EXPUNGE would also remove whatever else the user marked deleted:
    # the copy stays marked until the user's client (or the server) expunges.
    return True


# IMAP sessions the copy jobs (Sent copies, Drafts mirrors) open at once per mailbox in one
# process. Unbounded, the in-process broker started one per job: 500 drafts saved together
# opened hundreds of sessions and Dovecot refused tens of them (bench.compose). Servers
# commonly allow about ten connections per user, and the sync engine holds one or two.
IMAP_SESSIONS_PER_MAILBOX = 2
_session_limits: weakref.WeakValueDictionary[
    tuple[asyncio.AbstractEventLoop, uuid.UUID], asyncio.Semaphore
] = weakref.WeakValueDictionary()


def _session_limit(account_id: uuid.UUID) -> asyncio.Semaphore:
    key = (asyncio.get_running_loop(), account_id)
    limit = _session_limits.get(key)
    if limit is None:
        limit = asyncio.Semaphore(IMAP_SESSIONS_PER_MAILBOX)
        _session_limits[key] = limit
    return limit


@asynccontextmanager
async def _imap(ctx: JobContext, account: MailAccount) -> AsyncIterator[IMAPClient]:
    settings = ctx.settings
    login = _login(account, Keyring(settings.secret(), settings.previous_secrets()))
    async with _session_limit(account.id):
        client = await asyncio.to_thread(
            connect_imap,
            login,
            timeout=settings.mail_connect_timeout,
            ssl_context=tls_context(settings.mail_ca_file),
            policy=settings.mail_host_policy,
        )
        try:
            yield client
        finally:
            await asyncio.to_thread(_logout, client)


async def _folder_with_role(db: AsyncSession, account_id: uuid.UUID, role: str) -> Folder | None:
    return await db.scalar(
        select(Folder)
        .where(Folder.account_id == account_id, Folder.role == role, Folder.selectable)
        .order_by(Folder.name)
        .limit(1)
    )


# --- the Sent copy -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SentPlan:
    user_id: uuid.UUID
    account: MailAccount
    raw: bytes | None  # None: no copy to file (Gmail, no Sent folder)
    sent_folder: Folder | None
    sent_at: datetime
    message_id: str
    mirror: MirrorCopy | None


async def _sent_plan(ctx: JobContext, draft_id: uuid.UUID) -> _SentPlan | None:
    async with ctx.sessionmaker() as db:
        draft = await db.get(Draft, draft_id)
        if draft is None or draft.status != DraftStatus.SENT:
            return None
        if draft.sent_copy != SentCopy.PENDING or draft.raw_sha256 is None:
            return None
        account = await db.get(MailAccount, draft.account_id)
        if account is None or account.kind != AccountKind.IMAP:
            return None
        folder = await _folder_with_role(db, account.id, "sent")
    files_itself = "X-GM-EXT-1" in account.capabilities.upper().split()
    raw = None
    if folder is not None and not files_itself:
        blobs = BlobStore(ctx.settings.effective_blob_dir)
        delivered = await asyncio.to_thread(blobs.get, draft.raw_sha256)
        raw = with_bcc_header(delivered, draft.bcc)
    mirror = None
    if draft.mirror_folder and draft.mirror_uidvalidity and draft.mirror_uid:
        mirror = MirrorCopy(draft.mirror_folder, draft.mirror_uidvalidity, draft.mirror_uid)
    return _SentPlan(
        user_id=draft.user_id,
        account=account,
        raw=raw,
        sent_folder=folder if raw is not None else None,
        sent_at=draft.sent_at or utcnow(),
        message_id=draft.message_id,
        mirror=mirror,
    )


def _sent_session(
    client: IMAPClient, plan: _SentPlan, *, recheck: bool
) -> tuple[MirrorCopy | None, bool]:
    """File the copy (unless a recheck finds it filed) and delete the draft's mirror copy.
    Returns the copy and whether it was filed."""
    copy = None
    if plan.raw is not None and plan.sent_folder is not None:
        folder = plan.sent_folder.name
        copy = _find(client, folder, plan.message_id) if recheck else None
        if copy is None:
            copy = _append(
                client,
                folder,
                plan.raw,
                flags=_SENT_FLAGS,
                when=plan.sent_at,
                message_id=plan.message_id,
            )
    if plan.mirror is not None:
        _remove(client, plan.mirror)
    return copy, plan.raw is not None


async def file_sent_copy(
    ctx: JobContext, draft_id: uuid.UUID, *, recheck: bool = False
) -> SentCopy | None:
    """Returns the entry's new `sent_copy` state; None when there was nothing to do."""
    plan = await _sent_plan(ctx, draft_id)
    if plan is None:
        return None
    if plan.raw is None and plan.mirror is None:
        await _settle_sent(ctx, draft_id, plan, SentCopy.SKIPPED, copy=None)
        return SentCopy.SKIPPED
    for pause in (*_RETRY_PAUSES, None):
        try:
            async with _imap(ctx, plan.account) as client:
                copy, filed = await asyncio.to_thread(_sent_session, client, plan, recheck=recheck)
            break
        except _IMAP_ERRORS as error:
            log.warning("sent_copy_failed", draft=str(draft_id), error=str(error))
            if pause is None:
                await _settle_sent(ctx, draft_id, plan, SentCopy.FAILED, copy=None)
                return SentCopy.FAILED
            await asyncio.sleep(pause)
            # An APPEND may have gone through before the connection broke.
            recheck = True
    state = SentCopy.DONE if filed else SentCopy.SKIPPED
    await _settle_sent(ctx, draft_id, plan, state, copy=copy)
    return state


async def _store_locally(
    db: AsyncSession, plan: _SentPlan, copy: MirrorCopy, blobs: BlobStore
) -> tuple[Folder, StoredBatch] | None:
    """The copy as a local message in Sent, under the UID the server gave it, unless that
    folder was renumbered since the last sync (the sync then fetches it)."""
    assert plan.sent_folder is not None
    assert plan.raw is not None
    folder = await db.get(Folder, plan.sent_folder.id)
    if folder is None or folder.uidvalidity != copy.uidvalidity:
        return None
    incoming = IncomingMessage(
        uid=copy.uid, raw=plan.raw, flags=("\\Seen",), internal_date=plan.sent_at
    )
    stored = await store_batch(db, folder=folder, incoming=[incoming], blobs=blobs, executor=None)
    return folder, stored


async def _mark_copy(
    db: AsyncSession, draft_id: uuid.UUID, state: SentCopy, *, mirror_gone: bool
) -> None:
    values: dict[str, object] = {"sent_copy": state}
    if mirror_gone:
        values.update(mirror_folder=None, mirror_uidvalidity=None, mirror_uid=None)
    await db.execute(
        update(Draft)
        .where(Draft.id == draft_id, Draft.status == DraftStatus.SENT)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _settle_sent(
    ctx: JobContext,
    draft_id: uuid.UUID,
    plan: _SentPlan,
    state: SentCopy,
    *,
    copy: MirrorCopy | None,
) -> None:
    blobs = BlobStore(ctx.settings.effective_blob_dir)
    mirror_gone = state is not SentCopy.FAILED
    stored: tuple[Folder, StoredBatch] | None = None
    try:
        async with ctx.transaction() as db:
            if copy is not None:
                stored = await _store_locally(db, plan, copy, blobs)
            await _mark_copy(db, draft_id, state, mirror_gone=mirror_gone)
            if state is SentCopy.DONE or plan.mirror is not None:
                request_sync(db, plan.account.id)
    except IntegrityError:
        # The sync stored that UID at the same moment: the message is there either way.
        stored = None
        async with ctx.transaction() as db:
            await _mark_copy(db, draft_id, state, mirror_gone=mirror_gone)
            request_sync(db, plan.account.id)
    if stored is not None:
        await _announce_stored(ctx, plan, *stored)


async def _announce_stored(
    ctx: JobContext, plan: _SentPlan, folder: Folder, stored: StoredBatch
) -> None:
    """The same events as a sync that fetched the copy."""
    if not stored.message_ids:
        return
    ids = {"account_id": str(plan.account.id), "folder_id": str(folder.id)}
    await announce(
        ctx.store,
        plan.user_id,
        EventType.MESSAGE_CREATED,
        {**ids, "message_ids": stored.message_ids},
    )
    await announce(
        ctx.store,
        plan.user_id,
        EventType.THREAD_UPDATED,
        {"thread_ids": sorted(str(t) for t in stored.thread_ids)},
    )
    counts = {"folder_id": str(folder.id), "total": folder.total_count}
    counts["unread"] = folder.unread_count
    await announce(ctx.store, plan.user_id, EventType.FOLDER_COUNTS, counts)


# --- the Drafts mirror --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MirrorPlan:
    account: MailAccount
    folder: str
    raw: bytes
    message_id: str
    previous: MirrorCopy | None


async def _mirror_plan(ctx: JobContext, draft_id: uuid.UUID, version: int) -> _MirrorPlan | str:
    """What to APPEND, or why nothing is (a word for the log)."""
    async with ctx.sessionmaker() as db:
        draft = await db.get(Draft, draft_id)
        if draft is None or draft.status != DraftStatus.DRAFT or draft.version != version:
            return "stale"
        account = await db.get(MailAccount, draft.account_id)
        if account is None or account.kind != AccountKind.IMAP:
            return "local"
        folder = await _folder_with_role(db, account.id, "drafts")
        if folder is None:
            return "no_drafts_folder"
        attachments = list(
            await db.scalars(select(DraftAttachment).where(DraftAttachment.draft_id == draft_id))
        )
    blobs = BlobStore(ctx.settings.effective_blob_dir)
    try:
        built = await asyncio.to_thread(
            build_message, draft, attachments, account, read_blob=blobs.get, draft_copy=True
        )
    except BuildError as error:
        log.info("draft_mirror_unbuildable", draft=str(draft_id), error=str(error))
        return "unbuildable"
    previous = None
    if draft.mirror_folder and draft.mirror_uidvalidity and draft.mirror_uid:
        previous = MirrorCopy(draft.mirror_folder, draft.mirror_uidvalidity, draft.mirror_uid)
    return _MirrorPlan(account, folder.name, built.raw, draft.message_id, previous)


def _same_copy(copy: MirrorCopy | None) -> ColumnElement[bool]:
    if copy is None:
        return Draft.mirror_uid.is_(None)
    return (
        (Draft.mirror_folder == copy.folder)
        & (Draft.mirror_uidvalidity == copy.uidvalidity)
        & (Draft.mirror_uid == copy.uid)
    )


async def _record_mirror(
    ctx: JobContext, draft_id: uuid.UUID, plan: _MirrorPlan, copy: MirrorCopy, version: int
) -> bool:
    """Make `copy` the draft's mirror if the draft still names the copy this job replaces."""
    async with ctx.transaction() as db:
        result = await db.execute(
            update(Draft)
            .where(
                Draft.id == draft_id,
                Draft.status == DraftStatus.DRAFT,
                _same_copy(plan.previous),
            )
            .values(
                mirror_folder=copy.folder,
                mirror_uidvalidity=copy.uidvalidity,
                mirror_uid=copy.uid,
                mirrored_version=version,
                # Not an edit: the draft's own time stays.
                updated_at=Draft.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
        return affected_rows(result) == 1


async def mirror_draft(ctx: JobContext, draft_id: uuid.UUID, version: int) -> str:
    """Replace the draft's copy in the server's Drafts folder with `version` of it; returns
    what happened (for the log and tests)."""
    plan = await _mirror_plan(ctx, draft_id, version)
    if isinstance(plan, str):
        return plan
    try:
        async with _imap(ctx, plan.account) as client:
            copy = await asyncio.to_thread(
                _append,
                client,
                plan.folder,
                plan.raw,
                flags=_DRAFT_FLAGS,
                when=utcnow(),
                message_id=plan.message_id,
            )
            if copy is None:
                log.warning("draft_mirror_not_found", draft=str(draft_id))
                return "untracked"
            recorded = await _record_mirror(ctx, draft_id, plan, copy, version)
            stale = plan.previous if recorded else copy
            if stale is not None:
                await asyncio.to_thread(_remove, client, stale)
    except _IMAP_ERRORS as error:
        # The next autosave mirrors again; a copy left behind is replaced then.
        log.warning("draft_mirror_failed", draft=str(draft_id), error=str(error))
        return "failed"
    return "mirrored" if recorded else "superseded"


async def remove_mirror(ctx: JobContext, account_id: uuid.UUID, copy: MirrorCopy) -> bool:
    """Delete a discarded draft's copy; False when it could not be (or was renumbered)."""
    async with ctx.sessionmaker() as db:
        account = await db.get(MailAccount, account_id)
    if account is None or account.kind != AccountKind.IMAP:
        return False
    try:
        async with _imap(ctx, account) as client:
            removed = await asyncio.to_thread(_remove, client, copy)
    except _IMAP_ERRORS as error:
        log.warning("draft_mirror_remove_failed", account=str(account_id), error=str(error))
        return False
    if removed:
        async with ctx.transaction() as db:
            request_sync(db, account_id)
    return removed
