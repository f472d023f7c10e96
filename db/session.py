"""One engine and session factory per database URL, with SQLite tuned for a concurrent web app."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets chart reads go on while the engine writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


DB_FILE_MODE = 0o600
# Kept open: gunicorn's 8 threads plus the engine's jobs (sync, fetch, notify, portfolio). With the
# default 5 a busy server opened and closed an overflow connection for most checkouts (on
# PostgreSQL a new backend each time); the ceiling stays 15 connections a process.
POOL = {"pool_size": 12, "max_overflow": 3}
# A pooled PostgreSQL connection is pinged (SELECT 1) before use when it sat idle this long: a
# server restart or a dropped link is found then, as pool_pre_ping would, without pre_ping's round
# trip on every checkout (an API request checks out 2 to 14 times, milliseconds apart).
PING_AFTER_IDLE_S = 1.0


def _create_owner_only(path: Path) -> None:
    """Create the SQLite file owner-only (0600) before SQLite opens it: SQLite gives its -wal and
    -shm files the database file's mode, so all three hold no data others may read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_CREAT leaves an existing database (and the mode its owner gave it) as it is.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, DB_FILE_MODE))


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create the SQLAlchemy engine for `url` (sqlite:///path or postgresql+psycopg://...)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        on_file = bool(parsed.database and parsed.database != ":memory:")
        if on_file:
            _create_owner_only(Path(str(parsed.database)))
        pool = POOL if on_file else {}  # an in-memory database has a pool of its own kind
        engine = create_engine(url, echo=echo, connect_args={"timeout": 15}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, echo=echo, **POOL)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a connection on checkout when it was idle PING_AFTER_IDLE_S or more; a dead one is
    replaced (DisconnectionError makes the pool reconnect, up to twice)."""
    event.listen(engine.pool, "checkin", _idle_since)
    event.listen(engine.pool, "checkout", lambda conn, record, _proxy: _ping(engine, conn, record))


def _idle_since(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    record.info["idle_since"] = time.monotonic()


def _ping(engine: Engine, dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
        return  # just opened, or back in the pool a moment ago
    try:
        engine.dialect.do_ping(dbapi_connection)
    except engine.dialect.loaded_dbapi.Error as error:
        raise exc.DisconnectionError(f"connection lost while idle: {error}") from error


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits as one unit, or rolls back whole on any error."""
    with factory() as session, session.begin():
        yield session
