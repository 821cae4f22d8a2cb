"""Migrations upgrade, downgrade and upgrade again on both databases, and match the models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

import postwise.models  # noqa: F401
from postwise import db
from postwise.config import Settings
from postwise.migrations.runner import downgrade_database, upgrade_database
from postwise.search.index import include_object
from tests import services
from tests.conftest import create_postgres_database, drop_postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    admin = services.require_postgres()
    url = asyncio.run(create_postgres_database(admin))
    yield url
    asyncio.run(drop_postgres_database(admin, url))


def _tables(settings: Settings, url: str) -> set[str]:
    async def read() -> set[str]:
        engine = db.create_engine(settings, url=url)
        try:
            async with engine.connect() as connection:
                names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        finally:
            await engine.dispose()
        return set(names)

    return asyncio.run(read())


def _diff(settings: Settings, url: str) -> list[object]:
    def compare(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": include_object,
            },
        )
        return list(compare_metadata(context, db.Base.metadata))

    async def run() -> list[object]:
        engine = db.create_engine(settings, url=url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_downgrade_upgrade(fresh_database: str, tmp_path: Path) -> None:
    settings = Settings(env="dev", data_dir=tmp_path)
    model_tables = set(db.Base.metadata.tables)
    upgrade_database(settings, url=fresh_database)
    assert model_tables <= _tables(settings, fresh_database)
    downgrade_database(settings, url=fresh_database)
    assert _tables(settings, fresh_database) <= {"alembic_version"}
    upgrade_database(settings, url=fresh_database)
    assert model_tables <= _tables(settings, fresh_database)


def test_models_and_migrations_agree(fresh_database: str, tmp_path: Path) -> None:
    settings = Settings(env="dev", data_dir=tmp_path)
    upgrade_database(settings, url=fresh_database)
    assert _diff(settings, fresh_database) == []
