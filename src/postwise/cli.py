"""The `postwise` command."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
import uvicorn

from postwise.config import Settings

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
    from postwise.observability.logging import configure_logging

    configure_logging(settings)
    if settings.should_migrate_on_start and workers > 1:
        # Several processes racing to migrate is asking for trouble: migrate once, here.
        from postwise.migrations.runner import upgrade_database

        upgrade_database(settings)
    uvicorn.run(
        "postwise.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,
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


def main() -> None:
    cli()
