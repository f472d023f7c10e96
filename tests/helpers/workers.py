"""What each pytest-xdist worker has to itself: its own PostgreSQL database and Redis dbs.

`make test` runs the suite in worker processes (`-n`, whole modules to a worker); every test empties
the tables it uses, so two workers must never share a database. SQLite needs nothing: each worker's
instance directory (and its database file) is its own temporary one.
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... or "" without xdist
MAX_WORKERS = 4  # the Makefile's --maxprocesses: the Redis dbs below stay apart up to it


def worker_index() -> int:
    return int(WORKER[2:]) if WORKER.startswith("gw") else 0


def redis_url(first_db: int) -> str:
    """The worker's own Redis db of a block of MAX_WORKERS dbs that ends at `first_db`."""
    return f"redis://127.0.0.1:6379/{first_db - worker_index()}"


def worker_database_url(url: str) -> str:
    """The worker's own PostgreSQL database next to `url`'s ("test" -> "test_gw1"), created when
    missing; any other URL (SQLite) and a run without workers are left as they are.

    Its commits do not wait for the WAL to reach the disk (synchronous_commit off, 0.6 ms a commit
    instead of 2.4 here): what a test commits is seen by every other connection at once as before,
    and only an operating-system crash could lose it, which a test database can afford."""
    if not WORKER or not url.startswith("postgresql"):
        return url
    base = make_url(url)
    name = f"{base.database}_{WORKER}"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)
