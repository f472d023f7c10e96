"""Emptying the test database between tests (fast on both databases, identity counters reset).

On PostgreSQL, DELETE and setval rather than TRUNCATE ... RESTART IDENTITY: a TRUNCATE of the 32
tables took 470-760 ms (it swaps every table's files), DELETE of the few rows a test wrote and a
reset of each sequence 17 ms, and every test of the PostgreSQL half pays it.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine, text

from db.models import Base
from db.session import is_postgres
from engine.runtime import Runtime


def empty_tables(runtime: Runtime) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]  # children before parents
    with runtime.db.begin() as conn:
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))
        if is_postgres(runtime.db):
            conn.execute(text(_restart_sequences(runtime.db)))


@cache
def _restart_sequences(engine: Engine) -> str:
    """One statement that sets every sequence of the schema back to 1 (the next id is 1)."""
    with engine.connect() as conn:
        names = conn.execute(
            text("SELECT schemaname || '.' || sequencename FROM pg_sequences WHERE schemaname = current_schema()")
        ).scalars()
        resets = [f"setval('{name}', 1, false)" for name in names]
    return "SELECT " + (", ".join(resets) or "1")
