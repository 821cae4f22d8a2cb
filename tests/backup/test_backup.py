"""Backup and restore (docs/backup.md): a backup taken while mail keeps arriving restores into an
empty instance with every message, attachment byte, draft, setting and session; verification
catches a changed file; restore refuses an instance in use; the scheduled job keeps KEEP."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from postwise.backup import postgres
from postwise.backup import service as service_module
from postwise.backup.blobs import copy_referenced
from postwise.backup.manifest import blob_path, read_manifest
from postwise.backup.service import BackupError, create_backup, restore_backup, verify_backup
from postwise.backup.tasks import BACKUP_JOB, run_scheduled_backup, scheduled_backups
from postwise.cli import cli
from postwise.config import Settings, secret_file
from postwise.db import create_engine, utcnow
from postwise.imports.importer import ensure_local_account, import_messages
from postwise.imports.readers import MboxSource
from postwise.mail.blobs import BlobStore
from postwise.mail.models import Attachment, Message
from postwise.migrations.runner import alembic_config, downgrade_database, upgrade_database
from postwise.observability.metrics import Metrics
from postwise.users.models import User
from postwise.worker.registry import JobContext, load_jobs
from tests import services
from tests.accounts.conftest import API, USER_PASSWORD, Harness, running
from tests.conftest import (
    BACKEND,
    _admin_execute,
    _settings,
    create_postgres_database,
    drop_postgres_database,
)

pytestmark = pytest.mark.backend

MakeInstance = Callable[..., Awaitable[Settings]]


# --- instances -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database that each instance starts as a copy of (migrating takes seconds)."""
    folder = tmp_path_factory.mktemp("backup-template")
    if BACKEND == "postgres":
        admin = services.require_postgres()
        url = asyncio.run(create_postgres_database(admin))
        upgrade_database(_settings(folder), url=url)
        yield url
        asyncio.run(drop_postgres_database(admin, url))
        return
    url = f"sqlite+aiosqlite:///{folder / 'template.db'}"
    upgrade_database(_settings(folder), url=url)
    yield url


@pytest.fixture
async def new_instance(
    template_url: str, store_url: str | None, tmp_path: Path
) -> AsyncIterator[MakeInstance]:
    """`await new_instance("name")`: an empty instance with a data folder of its own and a
    migrated database (migrated=False: a blank one)."""
    created: list[str] = []
    admin = services.require_postgres() if BACKEND == "postgres" else ""

    async def make(name: str, *, migrated: bool = True, **overrides: object) -> Settings:
        data_dir = tmp_path / name
        data_dir.mkdir()
        if BACKEND == "postgres":
            if migrated:
                database = f"postwise_test_{uuid.uuid4().hex[:12]}"
                template = make_url(template_url).database
                await _admin_execute(admin, f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
                url = make_url(admin).set(database=database).render_as_string(hide_password=False)
            else:
                url = await create_postgres_database(admin)
            created.append(url)
        else:
            path = data_dir / "postwise.db"
            url = f"sqlite+aiosqlite:///{path}"
            if migrated:
                source = sqlite3.connect(make_url(template_url).database or "")
                with sqlite3.connect(path) as target:
                    source.backup(target)
                source.close()
        # A Redis prefix of its own, as the suite's make_settings gives each test.
        prefix = f"test-{uuid.uuid4().hex[:10]}:"
        return _settings(
            data_dir, database_url=url, redis_url=store_url, store_prefix=prefix, **overrides
        )

    yield make
    # At once: each DROP DATABASE waits for a checkpoint, which concurrent drops share.
    await asyncio.gather(*(drop_postgres_database(admin, url) for url in created))


# --- data --------------------------------------------------------------------------------------


def _attachment(n: int) -> bytes:
    # Bytes that survive no re-encoding by accident: every value, in a per-message order.
    return hashlib.sha256(f"attachment {n}".encode()).digest() * 64 + bytes(range(256))


def _mail(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Sender {n} <sender{n}@example.com>"
    message["To"] = "Reader <reader@example.com>"
    message["Subject"] = f"Backup topic {n}"
    message["Date"] = "Tue, 05 Mar 2024 09:30:00 +0000"
    message["Message-ID"] = f"<backup-{n}@example.com>"
    message.set_content(f"Body of message {n}.\n")
    message.add_attachment(
        _attachment(n), maintype="application", subtype="octet-stream", filename=f"file-{n}.bin"
    )
    return bytes(message)


def _mbox(path: Path, numbers: range) -> MboxSource:
    out = bytearray()
    for n in numbers:
        out += b"From sender@example.com Tue Mar  5 09:30:00 2024\n" + _mail(n) + b"\n"
    path.write_bytes(bytes(out))
    return MboxSource(path)


class Owner:
    """A user with a signed-in session and a local mailbox, in the instance `h` runs."""

    def __init__(self, h: Harness, email: str) -> None:
        self.h = h
        self.email = email
        self.account_id = uuid.UUID(int=0)
        self.tokens: dict[str, str] = {}

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}", **API}

    async def create(self) -> None:
        async with self.h.services.sessionmaker() as db:
            user = User(
                email=self.email,
                name="Backed Up",
                password_hash=await self.h.auth.hasher.hash(USER_PASSWORD),
                email_verified_at=utcnow(),
            )
            db.add(user)
            await db.flush()
            account = await ensure_local_account(db, user_id=user.id, email=self.email)
            await db.commit()
            self.account_id = account.id
        response = await self.h.http.post(
            "/api/auth/login", json={"email": self.email, "password": USER_PASSWORD}, headers=API
        )
        assert response.status_code == 200, response.text
        self.tokens = response.json()

    async def import_mail(self, folder: Path, numbers: range) -> None:
        result = await import_messages(
            self.h.services.sessionmaker,
            account_id=self.account_id,
            source=_mbox(folder / f"mail-{numbers.start}.mbox", numbers),
            blobs=BlobStore(self.h.settings.effective_blob_dir, fsync=False),
            executor=None,
        )
        assert (result.imported, result.errors) == (len(numbers), 0)

    async def add_draft(self, subject: str) -> str:
        response = await self.h.http.post(
            "/api/drafts",
            json={"account_id": str(self.account_id), "subject": subject, "text": subject},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


async def _message_ids(h: Harness) -> set[str]:
    async with h.services.sessionmaker() as db:
        return set((await db.scalars(select(Message.message_id))).all())


# --- the round trip ------------------------------------------------------------------------------


async def test_backup_while_writing_then_restore_into_empty_instance(
    new_instance: MakeInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = await new_instance("source")
    # A dev secret in the data folder travels with the backup (this instance's tokens are
    # signed with POSTWISE_SECRET_KEY, which the restored instance is given too).
    secret_file(source.data_dir).write_text("dev-secret-" + "s" * 40)
    backup = tmp_path / "backups" / "one"
    drafts: dict[str, str] = {}
    async with running(source) as h:
        owner = Owner(h, "owner@example.com")
        await owner.create()
        await owner.import_mail(tmp_path, range(0, 6))
        draft_id = await owner.add_draft("Kept draft")
        upload = await h.http.post(
            f"/api/drafts/{draft_id}/attachments",
            files={"file": ("plan.pdf", b"%PDF-1.7 plan" * 50, "application/pdf")},
            headers=owner.headers,
        )
        assert upload.status_code == 201, upload.text
        ai = await h.http.patch(
            "/api/ai/settings",
            json={"daily_budget_usd": 0.25, "redact": True},
            headers=owner.headers,
        )
        assert ai.status_code == 200, ai.text
        before = await _message_ids(h)

        # Mail and drafts keep arriving while the backup runs. To be sure some arrive between
        # the database snapshot and the copying of blobs (new blobs in the store that the
        # snapshot does not name), the copy waits for one write that started after the
        # snapshot was taken.
        stop = asyncio.Event()
        first_write = asyncio.Event()
        snapshot_taken = threading.Event()
        written_after_snapshot = threading.Event()
        late: set[str] = set()  # Message-IDs of mail written wholly after the snapshot
        written = 0

        def copy_after_a_write(*args: object) -> object:
            snapshot_taken.set()
            assert written_after_snapshot.wait(30)
            return copy_referenced(*args)

        monkeypatch.setattr(service_module, "copy_referenced", copy_after_a_write)

        async def keep_writing() -> None:
            nonlocal written
            while not stop.is_set() or written < 2:
                after_snapshot = snapshot_taken.is_set()
                n = 100 + written
                await owner.import_mail(tmp_path, range(n, n + 1))
                drafts[await owner.add_draft(f"Concurrent {n}")] = f"Concurrent {n}"
                written += 1
                first_write.set()
                if after_snapshot:
                    late.add(f"backup-{n}@example.com")
                    written_after_snapshot.set()

        writer = asyncio.create_task(keep_writing())
        await first_write.wait()
        try:
            manifest = await create_backup(source, backup)
        finally:
            stop.set()
            await writer
        after = await _message_ids(h)
        assert late and late <= after

    report = await verify_backup(backup)
    assert report.ok, report.problems
    assert manifest.backend == ("postgresql" if BACKEND == "postgres" else "sqlite")
    assert manifest.schema_revision is not None and not manifest.missing_blobs
    assert {entry.path for entry in manifest.files} >= {manifest.database, "data/secret_key"}

    # The instance is gone; a new, empty one gets the backup.
    target = await new_instance("target")
    result = await restore_backup(target, backup)
    assert result.warnings == []
    assert secret_file(target.data_dir).read_text() == "dev-secret-" + "s" * 40

    async with running(target) as h2:
        restored = await _message_ids(h2)
        # The snapshot: everything written before it, nothing that was never written.
        assert before <= restored <= after
        assert not late & restored
        store = BlobStore(target.effective_blob_dir)
        async with h2.services.sessionmaker() as db:
            messages = (await db.scalars(select(Message))).all()
            attachments = (await db.scalars(select(Attachment))).all()
        for message in messages:
            raw = store.get(message.raw_sha256)
            assert hashlib.sha256(raw).hexdigest() == message.raw_sha256
        assert len(attachments) == len(restored)
        for attachment in attachments:
            n = int(attachment.filename.removeprefix("file-").removesuffix(".bin"))
            assert store.get(attachment.sha256) == _attachment(n)

        # The session: the refresh token still refreshes, the access token still works.
        refreshed = await h2.http.post(
            "/api/auth/refresh", json={"refresh_token": owner.tokens["refresh_token"]}, headers=API
        )
        assert refreshed.status_code == 200, refreshed.text
        owner.h = h2
        me = await h2.http.get("/api/users/me", headers=owner.headers)
        assert me.json()["email"] == "owner@example.com"

        listed = await h2.http.get("/api/drafts", headers=owner.headers)
        subjects = {d["subject"] for d in listed.json()["items"]}
        assert "Kept draft" in subjects
        kept = await h2.http.get(f"/api/drafts/{draft_id}", headers=owner.headers)
        [attached] = kept.json()["attachments"]
        content = await h2.http.get(
            f"/api/drafts/{draft_id}/attachments/{attached['position']}", headers=owner.headers
        )
        assert content.content == b"%PDF-1.7 plan" * 50
        # Concurrent drafts: those in the snapshot came back whole.
        assert subjects - {"Kept draft"} <= set(drafts.values())

        ai = await h2.http.get("/api/ai/settings", headers=owner.headers)
        assert (ai.json()["daily_budget_usd"], ai.json()["redact"]) == (0.25, True)


# --- verification and refusals -------------------------------------------------------------------


async def test_restore_refuses_an_instance_in_use_and_a_changed_backup(
    new_instance: MakeInstance, tmp_path: Path
) -> None:
    source = await new_instance("small")
    async with running(source) as h:
        owner = Owner(h, "small@example.com")
        await owner.create()
        await owner.import_mail(tmp_path, range(0, 2))
    path = tmp_path / "small-backup"
    await create_backup(source, path)
    with pytest.raises(BackupError, match="already exists"):
        await create_backup(source, path)

    with pytest.raises(BackupError, match="already has users"):
        await restore_backup(source, path)
    # A blank database (never migrated) is an empty instance, once its blob folder is empty.
    blank = await new_instance("blank", migrated=False)
    leftover = blank.effective_blob_dir / "ab" / "cd"
    leftover.mkdir(parents=True)
    (leftover / ("abcd" + "0" * 60)).write_bytes(b"x")
    with pytest.raises(BackupError, match="is not empty"):
        await restore_backup(blank, path)
    (leftover / ("abcd" + "0" * 60)).unlink()
    await restore_backup(blank, path)
    engine = create_engine(blank)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(Message)) == 2
    finally:
        await engine.dispose()

    # A blob with other bytes of the same size, and a file the backup never had.
    manifest = read_manifest(path)
    blob = path / blob_path(manifest.blobs[0][0])
    original = blob.read_bytes()
    blob.write_bytes(original[:10] + bytes([original[10] ^ 0xFF]) + original[11:])
    (path / "stray.txt").write_text("not from the backup")
    report = await verify_backup(path)
    assert not report.ok
    assert any(blob_path(manifest.blobs[0][0]) in p and "SHA-256" in p for p in report.problems)
    assert any("stray.txt" in p for p in report.problems)
    # The command runs its own event loop: in a thread, as from a shell.
    outcome = await asyncio.to_thread(CliRunner().invoke, cli, ["backup", "--verify", str(path)])
    assert outcome.exit_code == 1
    assert "verification FAILED" in outcome.output
    # Verification comes first: nothing is restored from a backup that fails it.
    with pytest.raises(BackupError, match="fails verification"):
        await restore_backup(source, path)

    # A damaged dump is caught by opening it, not only by its checksum.
    blob.write_bytes(original)
    (path / "stray.txt").unlink()
    assert (await verify_backup(path)).ok
    dump = path / manifest.database
    dump.write_bytes(b"\0" * dump.stat().st_size)
    report = await verify_backup(path)
    assert any(manifest.database in p and "SHA-256" in p for p in report.problems)
    assert len(report.problems) == 2, report.problems  # the checksum and the failed open


async def test_scheduled_backups_keep_the_newest_and_old_schemas_are_migrated(
    new_instance: MakeInstance, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    settings = await new_instance("scheduled", backup_dir=folder, backup_keep=2)
    # What else is in the folder is not the job's to delete.
    (folder / "postwise-by-hand").mkdir(parents=True)
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    written = []
    for hours in (0, 1, 24, 48):
        path = await run_scheduled_backup(settings, now=start + timedelta(hours=hours))
        written.append(path is not None)
    # Due once a day (24 h, the default interval): the runs an hour after one do nothing.
    assert written == [True, False, True, True]
    kept = [when for when, _path in scheduled_backups(folder)]
    assert kept == [start + timedelta(hours=24), start + timedelta(hours=48)]
    assert sorted(os.listdir(folder)) == [
        "postwise-20260102T030000Z",
        "postwise-20260103T030000Z",
        "postwise-by-hand",
    ]

    # A backup of an older schema is migrated to this version's head once restored.
    script = ScriptDirectory.from_config(alembic_config(settings))
    head = script.get_revision(script.get_current_head())
    assert head is not None and isinstance(head.down_revision, str)
    older = await new_instance("older")
    await asyncio.to_thread(downgrade_database, older, revision=head.down_revision)
    await create_backup(older, tmp_path / "older-backup")
    assert read_manifest(tmp_path / "older-backup").schema_revision == head.down_revision
    upgraded = await new_instance("upgraded", migrated=False)
    result = await restore_backup(upgraded, tmp_path / "older-backup")
    assert result.migrated_from == head.down_revision
    await create_backup(upgraded, tmp_path / "upgraded-backup")
    assert read_manifest(tmp_path / "upgraded-backup").schema_revision == head.revision

    # The job as the worker runs it: due now, it writes one, prunes, and records the success.
    job = load_jobs().jobs[BACKUP_JOB]
    assert job.schedule is not None
    metrics = Metrics()
    context = JobContext(settings, None, None, None, None, metrics=metrics)  # type: ignore[arg-type]
    outcome = await job.func(context)
    assert outcome["written"] and len(scheduled_backups(folder)) == 2
    stamp = metrics.registry.get_sample_value("postwise_backup_last_success_timestamp_seconds")
    assert stamp is not None and stamp > start.timestamp()
    # A restarted worker (fresh metrics) whose check finds nothing due still reports the
    # newest backup's time, read from the folder, not a zero until its own next backup.
    restarted = Metrics()
    context = JobContext(settings, None, None, None, None, metrics=restarted)  # type: ignore[arg-type]
    assert (await job.func(context))["written"] is None
    newest = scheduled_backups(folder)[-1][0].timestamp()
    name = "postwise_backup_last_success_timestamp_seconds"
    assert restarted.registry.get_sample_value(name) == newest

    off = _settings(tmp_path / "off", backup_dir="")  # POSTWISE_BACKUP_DIR= : off
    assert off.backup_dir is None
    assert await run_scheduled_backup(off) is None


def test_libpq_url_from_the_app_url() -> None:
    target = postgres.libpq_target(
        "postgresql+asyncpg://app:s%40cret@db.internal:5433/postwise?ssl=require&prepared_statement_cache_size=0"
    )
    assert target.url == "postgresql://app@db.internal:5433/postwise?sslmode=require"
    assert target.password == "s@cret"
