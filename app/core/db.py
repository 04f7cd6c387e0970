"""Engine and session plumbing for SQLite (embedded default) and PostgreSQL."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings

# Execution option that makes a SQLite transaction take the write lock at BEGIN.
# Without it, two requests that both read and then write race to upgrade their
# shared lock and one fails at once with "database is locked".
WRITE_INTENT = "admission_write_intent"


def normalise_url(url: str) -> str:
    """Map the user-facing URL forms onto the drivers this service ships with."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url.render_as_string(hide_password=False), settings)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={settings.sqlite_busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE_INTENT, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def writer_bind(engine: Engine) -> Engine:
    """The engine to use for a unit of work that will write."""
    return engine.execution_options(**{WRITE_INTENT: True})


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = Session(bind=writer_bind(engine) if write else engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Key, in an ASGI scope's "state", of a write transaction held open for the request.
HELD_TRANSACTION = "held_transaction"


class HeldTransaction:
    """A request's write transaction that the request itself must not commit.

    The idempotency layer opens one when a POST carries an `Idempotency-Key`: the endpoint
    writes through it as usual, then the layer stores the response in the same
    transaction and commits both, so the key is complete exactly when the change is.
    """

    def __init__(self, engine: Engine) -> None:
        self.session = Session(bind=writer_bind(engine), expire_on_commit=False)

    def close(self) -> None:
        self.session.close()


@contextmanager
def request_unit_of_work(
    state: Mapping[str, Any], engine: Engine, *, write: bool = True
) -> Iterator[Session]:
    """The request's one transaction: a held one if the request has it, else a fresh unit
    of work. A held transaction is committed or rolled back by whoever holds it."""
    held: HeldTransaction | None = state.get(HELD_TRANSACTION)
    if held is not None and write:
        yield held.session
        return
    with unit_of_work(engine, write=write) as session:
        yield session
