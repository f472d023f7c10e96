"""The process-wide wiring: settings, database, session factory. Built once by app.py or the CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db import migrate
from db.session import make_engine, make_session_factory
from engine.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    # Market-data sources by exchange name, built on first use (engine.jobs.source); tests put
    # their own (a demo feed on a fixed clock) here.
    sources: dict[str, Any] = field(default_factory=dict)


def build_runtime(settings: Settings, upgrade_schema: bool = True) -> Runtime:
    """Connect to the database and, unless told not to, apply pending migrations."""
    db = make_engine(settings.database_url)
    if upgrade_schema:
        migrate.upgrade(db)
        log.info("database schema is at head (%s)", db.url.render_as_string(hide_password=True))
    return Runtime(settings=settings, db=db, sessions=make_session_factory(db))


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # ccxt logs request bodies at DEBUG, which would include signed (secret-bearing) requests.
    logging.getLogger("ccxt").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # APScheduler logs every run of the per-minute fetch at INFO; keep its warnings and errors.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(level)))
