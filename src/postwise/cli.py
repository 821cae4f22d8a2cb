"""The `postwise` command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

from postwise.config import Settings
from postwise.kit.memory import tune_allocator

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from postwise.imports.demo import DemoResult
    from postwise.imports.importer import ImportProgress, ProgressCallback
    from postwise.mail.blobs import BlobStore
    from postwise.store import Store


@dataclass(frozen=True)
class MailRuntime:
    sessionmaker: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    executor: Executor | None
    store: Store


cli = typer.Typer(
    help="Postwise: a self-hosted AI email assistant.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:
        typer.echo(f"configuration error: {error}", err=True)
        raise typer.Exit(2) from error


@cli.command()
def serve(
    workers: Annotated[int, typer.Option(min=1, help="Number of API processes.")] = 1,
) -> None:
    """Serve the API and the web app on POSTWISE_HOST:POSTWISE_PORT."""
    settings = _settings()
    tune_allocator()
    from postwise.observability.logging import configure_logging
    from postwise.observability.multiproc import shared_metrics_dir

    configure_logging(settings)
    if settings.should_migrate_on_start and workers > 1:
        # Several processes racing to migrate is asking for trouble: migrate once, here.
        from postwise.migrations.runner import upgrade_database

        upgrade_database(settings)
    # Several processes: their metrics are summed through a shared directory (set before
    # uvicorn starts them, so each inherits it).
    with shared_metrics_dir(workers):
        uvicorn.run(
            "postwise.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_config=None,
            access_log=False,
            server_header=False,
            # Off: the app applies POSTWISE_TRUSTED_PROXIES itself (ClientAddressMiddleware),
            # one rule for the access log, auth and rate limits, whatever server runs it.
            proxy_headers=False,
            ws="websockets-sansio",
        )


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    downgrade: Annotated[bool, typer.Option(help="Downgrade to REVISION instead.")] = False,
) -> None:
    """Upgrade (or downgrade) the database schema."""
    settings = _settings()
    from postwise.migrations.runner import downgrade_database, upgrade_database
    from postwise.observability.logging import configure_logging

    configure_logging(settings)
    if downgrade:
        downgrade_database(settings, revision=revision)
    else:
        upgrade_database(settings, revision=revision)


@cli.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once.")] = 20,
) -> None:
    """Run background jobs and schedules (needs POSTWISE_REDIS_URL)."""
    settings = _settings()
    tune_allocator()
    # A worker is its own scrape target (POSTWISE_WORKER_METRICS_PORT): a shared directory
    # meant for the API processes (same environment file) would mix their numbers into its.
    # Dropped before prometheus-client is imported: it picks its storage at import.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from postwise.observability.logging import configure_logging
    from postwise.worker.runner import WorkerConfigError, run_worker

    configure_logging(settings)
    try:
        asyncio.run(run_worker(settings, concurrency=concurrency))
    except WorkerConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error


@cli.command()
def openapi() -> None:
    """Print the OpenAPI schema (the web app's typed client is generated from it)."""
    from postwise.app import create_app

    schema = create_app(Settings(env="dev", log_level="WARNING")).openapi()
    sys.stdout.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")


@cli.command()
def reseal() -> None:
    """Re-encrypt TOTP secrets and mailbox passwords under the current secret (the last step
    of a secret rotation, before removing POSTWISE_SECRET_KEY_PREVIOUS)."""
    settings = _settings()
    from postwise.db import create_sessionmaker, engine_scope
    from postwise.kit.crypto import Keyring
    from postwise.observability.logging import configure_logging
    from postwise.reseal import ResealReport
    from postwise.reseal import reseal as reseal_all

    configure_logging(settings)

    async def run() -> ResealReport:
        async with engine_scope(settings) as engine, create_sessionmaker(engine)() as db:
            report = await reseal_all(db, Keyring(settings.secret(), settings.previous_secrets()))
            await db.commit()
            return report

    report = asyncio.run(run())
    typer.echo(f"Resealed {report.resealed} values; {report.already_current} were already current.")
    for where in report.unreadable:
        typer.echo(f"unreadable with every known secret, left as is: {where}", err=True)
    if report.users_with_recovery_codes:
        typer.echo(
            f"{report.users_with_recovery_codes} users have unused recovery codes: those are "
            "keyed hashes and keep working only while the secret they were made with is "
            "listed (see docs/security.md)."
        )
    if report.unreadable:
        raise typer.Exit(1)


# --- mail import and the demo mailbox ----------------------------------------------------------

# A progress line every this many messages: often enough to see it move on a big Takeout file.
PROGRESS_EVERY = 1000


class _CommandError(Exception):
    """A problem the user can fix, printed without a traceback (exit status 1)."""


@asynccontextmanager
async def _mail_runtime(settings: Settings) -> AsyncIterator[MailRuntime]:
    """What the import loop needs, opened from Settings; refuses an unmigrated database."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import OperationalError

    from postwise import db
    from postwise.mail.blobs import BlobStore
    from postwise.mail.parsing import parse_pool
    from postwise.store import create_store

    engine = db.create_engine(settings)
    store = create_store(settings.redis_url, prefix=settings.store_prefix)
    try:
        try:
            async with engine.connect() as connection:
                ready = await connection.run_sync(lambda c: inspect(c).has_table("mail_accounts"))
        except OperationalError as error:
            raise _CommandError(f"cannot open the database: {error.orig}") from error
        if not ready:
            raise _CommandError("the database is not migrated: run `postwise migrate` first")
        with parse_pool(settings) as executor:
            yield MailRuntime(
                sessionmaker=db.create_sessionmaker(engine),
                blobs=BlobStore(settings.effective_blob_dir),
                executor=executor,
                store=store,
            )
    finally:
        await store.close()
        await engine.dispose()


def _size(value: int) -> str:
    return f"{value / 1_000_000:,.1f} MB"


def _progress_printer() -> ProgressCallback:
    shown: int | None = None

    async def show(progress: ImportProgress) -> None:
        nonlocal shown
        finished = progress.bytes_read >= progress.bytes_total
        if progress.messages == shown:
            return  # the last batch and the end report the same figures
        if progress.messages - (shown or 0) < PROGRESS_EVERY and not finished:
            return
        shown = progress.messages
        percent = 100 * progress.bytes_read // max(progress.bytes_total, 1)
        typer.echo(
            f"  {progress.messages:>9,} messages  {_size(progress.bytes_read)} of "
            f"{_size(progress.bytes_total)} ({percent}%)",
            err=True,
        )

    return show


async def _import(
    settings: Settings, *, path: Path, user: str, folder: str | None, account_email: str | None
) -> tuple[ImportProgress, str]:
    from sqlalchemy import select

    from postwise.imports.importer import (
        IMPORT_ACCOUNT_EMAIL,
        AccountConflictError,
        ensure_local_account,
        import_messages,
    )
    from postwise.imports.readers import NotMailError, open_source
    from postwise.users.models import User

    try:
        source = open_source(path, folder=folder)
    except NotMailError as error:
        raise _CommandError(str(error)) from error
    async with _mail_runtime(settings) as runtime, runtime.sessionmaker() as db:
        owner = await db.scalar(select(User).where(User.email == user.strip().lower()))
        if owner is None:
            raise _CommandError(f"no Postwise user with the email {user}")
        email = account_email or IMPORT_ACCOUNT_EMAIL
        try:
            account = await ensure_local_account(db, user_id=owner.id, email=email)
        except AccountConflictError as error:
            raise _CommandError(f"{error} (choose one with --account-email)") from error
        label = f"{account.display_name} <{account.email}>"
        await db.commit()
        typer.echo(f"Importing {source.kind} {path} into {label}", err=True)
        progress = await import_messages(
            runtime.sessionmaker,
            account_id=account.id,
            source=source,
            blobs=runtime.blobs,
            executor=runtime.executor,
            on_progress=_progress_printer(),
            store=runtime.store,
        )
    return progress, label


@cli.command("import")
def import_mail(
    path: Annotated[Path, typer.Argument(help="An mbox file (Google Takeout too) or a Maildir.")],
    user: Annotated[str, typer.Option(help="Email of the Postwise user who gets the mail.")],
    folder: Annotated[
        str | None,
        typer.Option(help="Put every message in this folder [default: INBOX or Gmail labels]."),
    ] = None,
    account_email: Annotated[
        str | None,
        typer.Option(help="The local mailbox to fill (created if missing).", show_default=False),
    ] = None,
) -> None:
    """Import mail from an mbox file or a Maildir into a local mailbox (re-runs skip what is
    already there)."""
    settings = _settings()
    from postwise.observability.logging import configure_logging

    configure_logging(settings)
    started = time.monotonic()
    try:
        progress, label = asyncio.run(
            _import(settings, path=path, user=user, folder=folder, account_email=account_email)
        )
    except _CommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    elapsed = time.monotonic() - started
    typer.echo(
        f"Imported {progress.imported:,} messages into {label} in {elapsed:,.1f} s: "
        f"{progress.skipped:,} skipped as already there, {progress.errors:,} with errors."
    )
    for name, count in sorted(progress.folders.items()):
        typer.echo(f"  {name}: {count:,}")


@cli.command()
def demo(
    email: Annotated[str, typer.Option(help="The demo user's email.")] = "demo@postwise.local",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="POSTWISE_DEMO_PASSWORD",
            help="Set this password [default: a random one when the user is created].",
            show_default=False,
        ),
    ] = None,
    reset_password: Annotated[
        bool,
        typer.Option(
            help="Give an existing demo user a new random password (printed once) and sign "
            "out its sessions."
        ),
    ] = False,
    reset: Annotated[
        bool, typer.Option(help="Build the demo mailbox again, with dates up to today.")
    ] = False,
) -> None:
    """Create a demo user with a mailbox of realistic generated mail (running it again adds
    nothing)."""
    settings = _settings()
    from postwise.imports.demo import DemoError, create_demo
    from postwise.observability.logging import configure_logging

    configure_logging(settings)

    async def run() -> DemoResult:
        async with _mail_runtime(settings) as runtime:
            return await create_demo(
                runtime.sessionmaker,
                settings=settings,
                blobs=runtime.blobs,
                executor=runtime.executor,
                email=email,
                password=password,
                reset_password=reset_password,
                reset=reset,
                store=runtime.store,
            )

    try:
        result = asyncio.run(run())
    except (_CommandError, DemoError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    progress = result.progress
    if result.user_created:
        typer.echo(f"Demo user:    {result.user_email} (created)")
    else:
        typer.echo(f"Demo user:    {result.user_email} (already there)")
    if result.password is not None:
        typer.echo(f"Password:     {result.password}  (shown once)")
        if result.sessions_revoked:
            typer.echo(f"              {result.sessions_revoked} signed-in session(s) ended")
    else:
        # Only its hash is stored, so the password cannot be shown again: offer a new one.
        typer.echo("Password:     unchanged; `postwise demo --reset-password` sets a new one")
    typer.echo(
        f"Demo mailbox: {progress.imported + progress.skipped} messages "
        f"({progress.imported} new, {progress.skipped} already there)"
    )
    typer.echo(f"Sign in at {settings.public_url}")


# --- backup and restore (docs/backup.md) --------------------------------------------------


@cli.command()
def backup(
    path: Annotated[Path, typer.Argument(help="A new folder to write the backup into.")],
    verify: Annotated[
        bool, typer.Option("--verify", help="Check the backup at PATH instead of writing one.")
    ] = False,
) -> None:
    """Back up the database, the blobs and the data folder's secret into a new folder, with a
    manifest of checksums; --verify re-checks one."""
    from postwise.backup.service import BackupError, create_backup, verify_backup

    if verify:
        report = asyncio.run(verify_backup(path))
        for warning in report.warnings:
            typer.echo(f"warning: {warning}", err=True)
        for problem in report.problems:
            typer.echo(f"error: {problem}", err=True)
        if not report.ok:
            typer.echo(f"{path}: verification FAILED ({len(report.problems)} problems)", err=True)
            raise typer.Exit(1)
        assert report.manifest is not None
        typer.echo(
            f"{path}: OK ({report.manifest.backend}, {len(report.manifest.blobs):,} blobs, "
            f"made {report.manifest.created_at} by Postwise {report.manifest.version})"
        )
        return
    settings = _settings()
    from postwise.observability.logging import configure_logging

    configure_logging(settings)
    try:
        manifest = asyncio.run(create_backup(settings, path))
    except BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    if manifest.missing_blobs:
        typer.echo(
            f"warning: {len(manifest.missing_blobs)} blobs the database names were not in the "
            "blob store (listed in manifest.json, missing_blobs)",
            err=True,
        )
    typer.echo(
        f"Backed up to {path}: {len(manifest.blobs):,} blobs, revision "
        f"{manifest.schema_revision}. It holds secrets: keep it private."
    )


@cli.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A folder `postwise backup` wrote.")],
) -> None:
    """Restore a backup into this (empty) instance: verified first, migrated after if older.
    Stop the app and workers while it runs."""
    settings = _settings()
    from postwise.backup.service import BackupError, restore_backup
    from postwise.observability.logging import configure_logging

    configure_logging(settings)
    try:
        result = asyncio.run(restore_backup(settings, path))
    except BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"Restored {path} ({len(result.manifest.blobs):,} blobs).")
    if result.migrated_from is not None:
        typer.echo(f"Migrated the schema from {result.migrated_from} to the current head.")


# --- evaluation ---------------------------------------------------------------------------


@cli.command("eval")
def eval_command(
    task: Annotated[str, typer.Argument(help="needs_reply, category or summary.")],
    dataset: Annotated[
        Path,
        typer.Argument(help='JSON lines: {"id", "message": "<RFC 822 text>", "expect": {...}}.'),
    ],
    train: Annotated[
        Path | None,
        typer.Option(help="First fit the local category model on this file (any labels)."),
    ] = None,
    provider: Annotated[str, typer.Option(help="local or openai.")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run an AI task on a labelled dataset and print its figures (accuracy, precision, recall
    and F1 per class, or ROUGE next to a first-sentence baseline)."""
    from postwise.ai.eval import EvalError, evaluate, render

    settings = _settings() if provider == "openai" else None
    try:
        report = evaluate(task, dataset, train=train, provider=provider, settings=settings)
    except EvalError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(json.dumps(report, ensure_ascii=False) if as_json else render(report))


def main() -> None:
    cli()
