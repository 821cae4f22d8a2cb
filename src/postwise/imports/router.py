"""Importing an mbox file (Google Takeout, Thunderbird, mutt) over HTTP, and the job that runs it.

`POST /api/accounts/import` takes the file itself as the request body (not a multipart form: a
Takeout file can be gigabytes, and a raw body streams straight to disk without a form parser).
The upload lands in `<data_dir>/imports/`, the request answers 202 at once, and the
`accounts.import_mbox` job imports it into a local mailbox; its progress lives in the Store,
where `GET /api/accounts/import/{import_id}` reads it. The data folder must be shared with the
workers, as it already is for the attachment blobs.

`POST /api/accounts/demo` gives the signed-in user the demo mailbox (`imports.demo`), filled by
the `accounts.load_demo` job, which announces the mail as it lands like any import.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

import structlog
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from postwise.accounts import service as accounts_service
from postwise.accounts.models import MailAccount, SyncState
from postwise.accounts.schemas import AccountOut
from postwise.auth.deps import SignedIn
from postwise.auth.throttle import DEMO, IMPORT, throttled
from postwise.config import Settings
from postwise.deps import ServicesDep, SessionDep
from postwise.events import EventType, announce
from postwise.imports.demo import DemoSource, demo_account, demo_messages
from postwise.imports.importer import (
    IMPORT_ACCOUNT_EMAIL,
    AccountConflictError,
    ImportProgress,
    MailboxDeletedError,
    ensure_local_account,
    find_local_account,
    import_messages,
)
from postwise.imports.readers import MboxSource, looks_like_mbox
from postwise.kit.errors import ProblemError, problem_responses
from postwise.kit.text import NO_NUL
from postwise.mail.blobs import BlobStore
from postwise.mail.parsing import parse_pool
from postwise.notifications.tasks import import_finished
from postwise.store import Store
from postwise.worker.queue import enqueue_job
from postwise.worker.registry import JobContext, job

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/accounts", tags=["accounts"], responses=problem_responses(401, 422))

IMPORT_JOB = "accounts.import_mbox"
DEMO_JOB = "accounts.load_demo"
# Progress stays readable for a week after the last change; the lock outlives a stuck job by
# at most this long (every progress report renews it).
RECORD_TTL = 7 * 24 * 3600
LOCK_TTL = 15 * 60
ACCEPTED_TYPES = frozenset({"application/mbox", "application/octet-stream", "text/plain", ""})
HEAD_BYTES = 64 * 1024
WRITE_CHUNK = 1 << 20
INTERRUPTED = "The import was interrupted. Upload the file again to finish it: messages already "
INTERRUPTED += "imported are recognised and skipped."
MAILBOX_DELETED = "The mailbox was deleted while the import ran."


class ImportStarted(BaseModel):
    import_id: str
    account_id: uuid.UUID
    status: Literal["importing"] = "importing"


class ImportStatus(BaseModel):
    import_id: str
    account_id: uuid.UUID
    status: Literal["importing", "done", "failed"]
    # Messages read so far, and bytes of the file they came from.
    messages: int
    bytes_read: int
    bytes_total: int
    imported: int
    # Already in the mailbox (same Message-ID and content): a re-import skips them.
    skipped: int
    # Unreadable or unparsable messages (unparsable ones are still stored, raw).
    errors: int
    error: str | None = None


def _record_key(import_id: str) -> str:
    return f"imports:{import_id}"


def _lock_key(user_id: uuid.UUID, email: str) -> str:
    return f"imports:running:{user_id}:{email}"


def upload_path(settings: Settings, import_id: str) -> Path:
    # import_id is always a uuid4 hex made here, never client input: no path traversal.
    return settings.data_dir / "imports" / f"{import_id}.mbox"


async def _save(store: Store, import_id: str, record: dict[str, Any]) -> None:
    await store.set(_record_key(import_id), json.dumps(record), ttl=RECORD_TTL)


async def load_record(store: Store, import_id: str) -> dict[str, Any] | None:
    value = await store.get(_record_key(import_id))
    return json.loads(value) if value else None


def _counts(progress: ImportProgress) -> dict[str, int]:
    return {
        "messages": progress.messages,
        "bytes_read": progress.bytes_read,
        "bytes_total": progress.bytes_total,
        "imported": progress.imported,
        "skipped": progress.skipped,
        "errors": progress.errors,
    }


# --- the upload --------------------------------------------------------------------------------


def _check_head(head: bytes) -> None:
    if not head.strip():
        raise ProblemError(422, "empty_upload", "The uploaded file is empty.")
    if not looks_like_mbox(head):
        raise ProblemError(
            422, "not_mbox", "This is not an mbox file: it must start with a 'From ' line."
        )


async def _receive(request: Request, path: Path) -> int:
    """Stream the body to `path` in 1 MiB writes (off the event loop); the first bytes are
    checked before anything is written, so a wrong file is refused without storing it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle: BinaryIO = await asyncio.to_thread(path.open, "wb")
    size, head, buffer, checked = 0, b"", bytearray(), False
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if checked:
                buffer += chunk
            else:
                head += chunk
                if len(head) < HEAD_BYTES and b"\n" not in head.lstrip(b"\r\n"):
                    continue  # not a whole first line yet
                _check_head(head)
                checked, buffer = True, bytearray(head)
            if len(buffer) >= WRITE_CHUNK:
                await asyncio.to_thread(handle.write, bytes(buffer))
                buffer.clear()
        if not checked:
            _check_head(head)
            buffer = bytearray(head)
        await asyncio.to_thread(handle.write, bytes(buffer))
    finally:
        await asyncio.to_thread(handle.close)
    return size


_MBOX_SCHEMA = {"type": "string", "format": "binary"}
_MBOX_BODY = {
    "required": True,
    "content": {
        "application/mbox": {"schema": _MBOX_SCHEMA},
        "application/octet-stream": {"schema": _MBOX_SCHEMA},
    },
}


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise ProblemError(
            415,
            "unsupported_media_type",
            "Send the mbox file itself as the request body (Content-Type: application/mbox).",
        )


@router.post(
    "/import",
    status_code=202,
    response_model=ImportStarted,
    responses=problem_responses(409, 413, 415, 429),
    dependencies=[throttled(IMPORT)],
    # The route reads the raw body itself (no form parser), so FastAPI cannot see it: declared
    # here so clients and the schema know a body is required.
    openapi_extra={"requestBody": _MBOX_BODY},
    summary="Import an mbox file",
    description="The body is the mbox file itself (Content-Type application/mbox or "
    "application/octet-stream), e.g. a Google Takeout export. The mail goes to a local "
    "mailbox (`account_email`, default imported@postwise.local), created when missing; "
    "Gmail labels choose the folders. Answers 202 and imports in the background: poll "
    "`GET /api/accounts/import/{import_id}`. Codes: empty_upload, not_mbox (422), "
    "account_not_local, import_running (409), payload_too_large (413: "
    "POSTWISE_MAX_IMPORT_BYTES; import bigger files with `postwise import`), rate_limited "
    "(429: more than 20 uploads an hour per user, 60 per client address).",
)
async def import_upload(
    request: Request,
    user: SignedIn,
    db: SessionDep,
    services: ServicesDep,
    account_email: Annotated[
        str | None,
        Query(max_length=320, pattern=NO_NUL, description="The local mailbox to import into."),
    ] = None,
    folder: Annotated[
        str | None,
        Query(max_length=200, pattern=NO_NUL, description="Put every message in this folder."),
    ] = None,
) -> ImportStarted:
    _check_content_type(request)
    email = (account_email or IMPORT_ACCOUNT_EMAIL).strip().lower()
    if "@" not in email:
        raise ProblemError(422, "invalid_account_email", "account_email must be an address.")
    try:
        await find_local_account(db, user_id=user.id, email=email)
    except AccountConflictError as error:
        raise ProblemError(409, "account_not_local", str(error)) from error
    user_id = user.id
    # The upload can take minutes: end the read transaction now rather than hold a pooled
    # connection (and, on SQLite, the WAL snapshot) open for the whole transfer.
    await db.commit()
    import_id = uuid.uuid4().hex
    lock, store = _lock_key(user_id, email), services.store
    if not await store.set(lock, import_id, ttl=LOCK_TTL, only_if_absent=True):
        raise ProblemError(409, "import_running", "An import into this mailbox is still running.")
    path = upload_path(services.settings, import_id)
    try:
        size = await _receive(request, path)
        account = await ensure_local_account(db, user_id=user_id, email=email)
        record: dict[str, Any] = {
            "user_id": str(user_id),
            "account_id": str(account.id),
            "status": "importing",
        }
        record.update(_counts(ImportProgress(bytes_total=size)))
        await _save(store, import_id, record)
        enqueue_job(
            db,
            IMPORT_JOB,
            import_id=import_id,
            account_id=str(account.id),
            lock=lock,
            folder=folder,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        await store.delete_if_equal(lock, import_id)
        raise
    log.info("mail_import_uploaded", import_id=import_id, bytes=size)
    return ImportStarted(import_id=import_id, account_id=account.id)


@router.get(
    "/import/{import_id}",
    response_model=ImportStatus,
    responses=problem_responses(404),
    summary="Progress of an import",
)
async def import_status(import_id: str, user: SignedIn, services: ServicesDep) -> ImportStatus:
    record = await load_record(services.store, import_id) if len(import_id) <= 64 else None
    # Someone else's import is as unknown as a missing one.
    if record is None or record.get("user_id") != str(user.id):
        raise ProblemError(404, "not_found", "No such import (or it finished over a week ago).")
    return ImportStatus.model_validate({**record, "import_id": import_id})


# --- the demo mailbox --------------------------------------------------------------------------


def _demo_lock(account_id: uuid.UUID | str) -> str:
    return f"imports:demo:{account_id}"


async def _existing_demo(db: AsyncSession, user_id: uuid.UUID) -> MailAccount | None:
    return await db.scalar(
        select(MailAccount).where(MailAccount.user_id == user_id, MailAccount.is_demo.is_(True))
    )


@router.post(
    "/demo",
    status_code=201,
    response_model=AccountOut,
    responses={
        200: {"model": AccountOut, "description": "The demo mailbox was already there."},
        **problem_responses(409, 429),
    },
    dependencies=[throttled(DEMO)],
    summary="Load the demo mailbox",
    description="Adds the demo mailbox (about 150 generated messages over the last 60 days, "
    "at demo.user@example.com) to the signed-in user's mailboxes: 201 with the new local "
    "mailbox, filled in the background (the usual `message.created`, `thread.updated` and "
    "`folder.counts` events as it lands, `sync.status` when it is full). Asked again, it "
    "answers 200 with the same mailbox and adds nothing. 409 `account_not_local` when that "
    "address is one of the user's connected mailboxes.",
)
async def load_demo(
    response: Response, user: SignedIn, db: SessionDep, services: ServicesDep
) -> AccountOut:
    account = await _existing_demo(db, user.id)
    created = account is None
    if account is None:
        try:
            # A savepoint: a second click racing this one inserts the same address first.
            async with db.begin_nested():
                account = await demo_account(db, user_id=user.id, reset=False)
        except AccountConflictError as error:
            raise ProblemError(409, "account_not_local", str(error)) from error
        except IntegrityError:
            account = await _existing_demo(db, user.id)
            created = False
            if account is None:
                raise
    if created or (
        account.last_synced_at is None and await services.store.get(_demo_lock(account.id)) is None
    ):
        # Filled by a job, not in the request: it parses and threads ~150 messages. A mailbox
        # whose filling never started (a worker was down) is filled by asking again.
        enqueue_job(db, DEMO_JOB, account_id=str(account.id))
    if not created:
        response.status_code = 200
    return await accounts_service.account_out(db, account)


@job(DEMO_JOB)
async def load_demo_mail(ctx: JobContext, *, account_id: str) -> None:
    """Fill the demo mailbox. Run twice, the importer's duplicate check skips what is there."""
    lock = _demo_lock(account_id)
    if not await ctx.store.set(lock, "1", ttl=LOCK_TTL, only_if_absent=True):
        return  # another worker is filling it
    try:
        async with ctx.sessionmaker() as db:
            account = await db.get(MailAccount, uuid.UUID(account_id))
            if account is None:
                return
            user_id, anchor = account.user_id, account.created_at

        async def renew(_progress: ImportProgress) -> None:
            await ctx.store.expire(lock, LOCK_TTL)

        # Generating the mail is CPU work (a second or so): off the event loop, which in the
        # embedded setup also answers requests.
        source = DemoSource(await asyncio.to_thread(demo_messages, anchor))
        progress = await import_messages(
            ctx.sessionmaker,
            account_id=uuid.UUID(account_id),
            source=source,
            blobs=BlobStore(ctx.settings.effective_blob_dir),
            # ~150 messages: a worker thread parses them sooner than a process pool starts.
            executor=None,
            on_progress=renew,
            store=ctx.store,
            jobs=ctx.jobs,
        )
        log.info("demo_mailbox_loaded", account_id=account_id, imported=progress.imported)
        data = {"account_id": account_id, "state": SyncState.IDLE.value, "error": None}
        await announce(ctx.store, user_id, EventType.SYNC_STATUS, data)
    except MailboxDeletedError:
        log.info("demo_mailbox_deleted_while_loading", account_id=account_id)
    finally:
        await ctx.store.delete_if_equal(lock, "1")


# --- the job -----------------------------------------------------------------------------------


@job(IMPORT_JOB)
async def import_mbox(
    ctx: JobContext, *, import_id: str, account_id: str, lock: str, folder: str | None
) -> None:
    """Import the uploaded file, reporting progress after every batch; the upload is deleted
    afterwards whatever happened (a failed import is finished by uploading again)."""
    path = upload_path(ctx.settings, import_id)
    record = await load_record(ctx.store, import_id) or {"account_id": account_id}

    async def report(progress: ImportProgress) -> None:
        record.update(_counts(progress))
        await _save(ctx.store, import_id, record)
        await ctx.store.expire(lock, LOCK_TTL)

    try:
        with parse_pool(ctx.settings) as executor:
            progress = await import_messages(
                ctx.sessionmaker,
                account_id=uuid.UUID(account_id),
                source=MboxSource(path, folder=folder),
                blobs=BlobStore(ctx.settings.effective_blob_dir),
                executor=executor,
                on_progress=report,
                store=ctx.store,
                jobs=ctx.jobs,
            )
        record.update(status="done", **_counts(progress))
        log.info("mail_import_done", import_id=import_id, **_counts(progress))
    except MailboxDeletedError:
        # Not a failure to retry: what the import had stored went with the mailbox.
        log.info("mail_import_stopped_mailbox_deleted", import_id=import_id)
        record.update(status="failed", error=MAILBOX_DELETED)
    except Exception:
        log.exception("mail_import_failed", import_id=import_id)
        record.update(status="failed", error=INTERRUPTED)
    finally:
        cancelled = record.get("status") == "importing"  # the process is shutting down
        if cancelled:
            record.update(status="failed", error=INTERRUPTED)
        await _save(ctx.store, import_id, record)
        path.unlink(missing_ok=True)
        await ctx.store.delete_if_equal(lock, import_id)
        if not cancelled:
            await import_finished(
                ctx, record=record, account_id=account_id, failure=record.get("error")
            )
