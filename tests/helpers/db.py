"""Emptying the test database between tests (fast on both databases, identity counters reset)."""

from __future__ import annotations

from sqlalchemy import text

from db.models import Base
from db.session import is_postgres
from engine.runtime import Runtime


def empty_tables(runtime: Runtime) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with runtime.db.begin() as conn:
        if is_postgres(runtime.db):
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
