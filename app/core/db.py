"""Engine and session plumbing for SQLite (embedded default) and PostgreSQL."""

import threading
from collections.abc import Callable, Iterator
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
# Execution option: how long (ms) a SQLite writer waits for its turn (default: the busy timeout).
WRITE_WAIT_MS = "admission_write_wait_ms"
# Execution option: statements that need no transaction around them (SQLite: no BEGIN).
NO_TRANSACTION = "admission_no_transaction"
# Key, in a pooled connection's `info`, telling that it holds this process's writer turn.
HOLDS_TURN = "admission_holds_writer_turn"


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
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=settings.database_pool_size,
        # Never wait for a pooled connection: reads run on the event loop (see
        # `app/core/threads.py`), which must not block; a connection is only a file handle.
        max_overflow=-1,
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
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.close()

    # SQLite has one writer at a time. Writers of this process queue for their turn here, in
    # order and without sleeping, instead of polling the file lock with the busy handler's
    # growing back-off (which gives waits of seconds under load). Writers of other processes
    # still meet the file lock and its busy timeout.
    turn = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(NO_TRANSACTION, False):
            return
        if options.get(WRITE_INTENT, False):
            wait_ms = options.get(WRITE_WAIT_MS, settings.sqlite_busy_timeout_ms)
            if turn.acquire(timeout=wait_ms / 1000):
                connection.info[HOLDS_TURN] = True
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    def _end(connection: Any) -> None:
        if connection.info.pop(HOLDS_TURN, False):
            turn.release()

    event.listen(engine, "commit", _end)
    event.listen(engine, "rollback", _end)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # A connection given back with its transaction still open (reset by the pool).
        if record is not None and record.info.pop(HOLDS_TURN, False):
            turn.release()

    return engine


def single_reads(engine: Engine) -> Engine:
    """The engine for reads of single statements that need no transaction around them (each
    statement sees the database as of its start): on SQLite no BEGIN is sent; on PostgreSQL
    the statements run in autocommit, without BEGIN and ROLLBACK round trips."""
    if is_sqlite(engine):
        return engine.execution_options(**{NO_TRANSACTION: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def writer_bind(engine: Engine, *, wait_ms: int | None = None) -> Engine:
    """The engine to use for a unit of work that will write; `wait_ms` bounds the wait for
    SQLite's writer turn in this process (the busy timeout still bounds the file lock)."""
    options: dict[str, Any] = {WRITE_INTENT: True}
    if wait_ms is not None:
        options[WRITE_WAIT_MS] = wait_ms
    return engine.execution_options(**options)


# Key, in a session's `info`, of the callbacks to run once its transaction has committed.
AFTER_COMMIT = "after_commit"


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


def commit(session: Session) -> None:
    """Commit, then run what was waiting for the commit."""
    session.commit()
    for callback in session.info.pop(AFTER_COMMIT, ()):
        callback()


def rollback(session: Session) -> None:
    session.info.pop(AFTER_COMMIT, None)
    session.rollback()


def open_session(engine: Engine, *, write: bool) -> Session:
    """A session for one transaction; a writer takes SQLite's write lock at BEGIN."""
    return Session(bind=writer_bind(engine) if write else engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = open_session(engine, write=write)
    try:
        yield session
        commit(session)
    except BaseException:
        rollback(session)
        raise
    finally:
        session.close()
