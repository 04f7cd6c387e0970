"""Migrated test databases of either backend."""

from pathlib import Path

import psycopg
from alembic import command
from sqlalchemy import make_url, text

from app.core.config import Settings
from app.core.db import create_db_engine
from app.core.migrations import alembic_config


def migrated(url: str, root: Path, revision: str = "head") -> Settings:
    """Settings for the database at `url`, brought to the newest migration (or `revision`)."""
    # The periodic overdue sweep and the webhook delivery loop stay off: tests run them
    # when they mean to.
    settings = Settings(
        database_url=url,
        storage_dir=root / "documents",
        overdue_sweep_seconds=0,
        webhook_delivery_in_serve=False,
        # Test receivers listen on loopback (tests/webhooks/test_destinations.py turns it off).
        webhook_allow_private_hosts=True,
        # A killed process loses no commit either way; only a power cut tells them apart, and
        # the test PostgreSQL server runs without fsync for the same reason.
        sqlite_synchronous="NORMAL",
    )
    migrate(settings, revision=revision)
    return settings


def migrate(settings: Settings, *, fresh: bool = False, revision: str = "head") -> None:
    """Bring the database of `settings` to the newest migration; with `fresh`, a PostgreSQL
    database's `public` schema is dropped and rebuilt first (the benchmarks' scratch runs)."""
    engine = create_db_engine(settings)
    with engine.begin() as connection:
        if fresh and engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def sibling_database(settings: Settings, root: Path, name: str, revision: str = "head") -> Settings:
    """A second, newly migrated database of the same backend as `settings`, called `name`
    (brought to `revision`, the newest by default)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return migrated(f"sqlite:///{root / name}.db", root, revision)
    server = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return migrated(url.set(database=name).render_as_string(hide_password=False), root, revision)
