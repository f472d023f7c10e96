"""Shared fixtures: a real database (SQLite by default, PostgreSQL when DATABASE_URL says so).

The schema is built once per run through the Alembic migrations (so the migrations are tested
too); every test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from db.session import make_engine
from engine.config import Settings, load_settings
from engine.runtime import Runtime, build_runtime
from tests.helpers.browser import CHROMIUM_ARGS, require_chromium
from tests.helpers.dashboard import dispose_built_apps
from tests.helpers.db import empty_tables
from tests.helpers.trading import PathFeed
from tests.helpers.workers import worker_database_url

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, this worker's own PostgreSQL database for everything that reads
    DATABASE_URL (the settings below, the subprocess tests, the benches' request checks)."""
    if os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = worker_database_url(os.environ["DATABASE_URL"])


def _reset_postgres_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def test_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    env = {
        "TRADEBLOCK_INSTANCE_DIR": str(instance),
        "SECRET_KEY": "test-secret-key-that-is-long-enough",
        "TRADEBLOCK_ENGINE": "off",
        "TRADEBLOCK_BACKFILL_DAYS": "2",
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    settings = load_settings(env)
    if settings.database_url.startswith("postgresql"):
        _reset_postgres_schema(settings.database_url)
    return settings


@pytest.fixture(scope="module", autouse=True)
def _close_app_pools() -> Iterator[None]:
    """The database pools of the apps a test module built are closed when it ends (torn down after
    the module's own fixtures: its servers have stopped)."""
    yield
    dispose_built_apps()


@pytest.fixture(scope="session")
def runtime_session(test_settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(test_settings, upgrade_schema=True)
    yield runtime
    runtime.db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium (Debian's, no download) for every browser test of the run."""
    executable = require_chromium()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def runtime(runtime_session: Runtime) -> Runtime:
    """The shared runtime with every table emptied before the test, and nothing an earlier test
    left in memory (venues, last prices: ids start at 1 again, so they would be taken for this
    test's own)."""
    empty_tables(runtime_session)
    runtime_session.reset_trading()
    runtime_session.sources.clear()
    runtime_session.replay_feeds.clear()
    return runtime_session


@pytest.fixture
def sessions(runtime: Runtime) -> sessionmaker[Session]:
    return runtime.sessions


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def feed() -> PathFeed:
    """The price feed the paper venue trades on (blocks and webhook tests): flat at 101."""
    f = PathFeed("101")
    f.flat("101", 2)
    return f
