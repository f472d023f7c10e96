"""A PostgreSQL pool pings a connection only after it sat idle (db.session.PING_AFTER_IDLE_S), and a
connection the server dropped meanwhile is replaced on checkout instead of failing the request."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from db import session as db_session
from db.session import make_engine
from engine.config import Settings


@pytest.fixture
def postgres_url(test_settings: Settings) -> str:
    if not test_settings.database_url.startswith("postgresql"):
        pytest.skip("the ping is PostgreSQL's (a SQLite file cannot drop its connections)")
    return test_settings.database_url


def _pings(engine: Any) -> list[int]:
    seen: list[int] = []
    original = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        seen.append(1)
        return original(dbapi_connection)

    engine.dialect.do_ping = counting
    return seen


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    pings = _pings(engine)
    try:
        for _ in range(5):
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT 1")) == 1
        assert pings == []
    finally:
        engine.dispose()


def test_an_idle_connection_dropped_by_the_server_is_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_url)
    pings = _pings(engine)
    try:
        with engine.connect() as conn:
            pid = conn.scalar(text("SELECT pg_backend_pid()"))
        other = make_engine(postgres_url)
        with other.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.dispose()
        monkeypatch.setattr(db_session, "PING_AFTER_IDLE_S", 0.0)  # as if it had sat idle
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_backend_pid()")) != pid
        assert pings == [1]
    finally:
        engine.dispose()
