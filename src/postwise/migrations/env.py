"""Alembic environment: async engine, batch mode on SQLite, the whole model metadata."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

import postwise.models  # noqa: F401  (registers every table on Base.metadata)
from postwise.config import Settings
from postwise.db import Base, UtcDateTime, create_engine, is_sqlite
from postwise.search.index import include_object

config = context.config
settings: Settings = config.attributes.get("settings") or Settings()
url: str = config.attributes.get("url") or settings.effective_database_url


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations name plain SQLAlchemy types, never our TypeDecorators, so they do not break
    # when the application code moves on.
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=is_sqlite(url),
        compare_type=True,
        compare_server_default=True,
        render_item=_render_item,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    connection_in_config = config.attributes.get("connection")
    if connection_in_config is not None:
        _configure(connection_in_config)
        return
    engine = create_engine(settings, url=url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
