"""The process-wide wiring: settings, database, session factory. Built once by app.py or the CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
