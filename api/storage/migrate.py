"""Upgrade the copilot's database to the newest Alembic revision, and tell whether it is there.

A new revision: `command.revision(alembic_config(), "message", autogenerate=True)` with
`config.attributes["connection"]` set to a connection on a database at head.
"""

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from api.storage.db import create_db_engine
from billing.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger("fovea.storage")


def alembic_config() -> Config:
    """An Alembic config built in code, so migrations run without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate_engine(engine: Engine) -> None:
    """Upgrade the database behind `engine` to head (idempotent)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    log.info("database at head", extra={"revision": ",".join(sorted(head_revisions()))})


def migrate(settings: Settings) -> None:
    """Upgrade the database at settings.resolved_database_url to head (idempotent)."""
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate_engine(engine)
    finally:
        engine.dispose()


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def is_at_head(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()
