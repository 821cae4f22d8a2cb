"""Run Alembic from code: the package carries its migrations, no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from postwise.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(settings: Settings, *, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["settings"] = settings
    config.attributes["url"] = url or settings.effective_database_url
    return config


def upgrade_database(settings: Settings, *, url: str | None = None, revision: str = "head") -> None:
    """Blocking; call through asyncio.to_thread from async code (env.py runs its own loop)."""
    command.upgrade(alembic_config(settings, url=url), revision)


def downgrade_database(
    settings: Settings, *, url: str | None = None, revision: str = "base"
) -> None:
    command.downgrade(alembic_config(settings, url=url), revision)
