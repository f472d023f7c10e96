"""The process-wide wiring and every piece of process state: settings, database, sessions, and
what the engine keeps in memory (market-data sources, trading venues and their locks, per-series
locks, short-lived caches, this process's scheduler). Built once by app.py or the CLI; no module
of the engine keeps state of its own in globals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db import migrate
from db.session import make_engine, make_session_factory
from engine.config import Settings

log = logging.getLogger(__name__)


class KeyedLocks:
    """One lock per key (a series, an account), made on first use."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


@dataclass
class TradingState:
    """What the bracket engine keeps in memory: venues per account, their locks, retry backoff."""

    # (account id, market type or None for every type) -> TradingVenue (engine.exchanges.venues)
    venues: dict[tuple[int, str | None], Any] = field(default_factory=dict)
    account_lock: KeyedLocks = field(default_factory=KeyedLocks)
    tick: int = 0  # sync ticks run so far (backoff counts in ticks)
    retry_after: dict[int, int] = field(default_factory=dict)  # order id -> first tick it may be retried
    failures: dict[int, int] = field(default_factory=dict)  # account id -> sync ticks failed in a row
    # account id -> venue orders whose fills could not be fetched yet (recover() rescans the DB after a restart)
    fills_due: dict[int, list[Any]] = field(default_factory=dict)
    # (exchange, symbol) -> the last price a sync tick's ticker gave: open trades' unrealized P&L
    # in the blocks table without a ticker call per page refresh
    last_prices: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    # (exchange, symbol) -> (monotonic time, last price) a ticker stream pushed
    # (engine.exchanges.ticker_accounts): the sync uses it instead of a ticker request while fresh
    pushed_prices: dict[tuple[str, str], tuple[float, Decimal]] = field(default_factory=dict)
    # account id -> ms of its last funding fetch (engine.portfolio.funding): a block closed since is
    # still asked about once
    funding_fetched: dict[int, int] = field(default_factory=dict)


@dataclass
class EngineRun:
    """This process's engine while it runs (engine.scheduler): its scheduler, the lock that lets it
    run, its fencing epoch (engine_state.epoch when it took the lock) and whether it has been deposed
    (lost the lock: no order call may start any more, even from a job still running)."""

    scheduler: Any
    lock: Any
    epoch: int
    executor: Any = None  # the scheduler's job threads: stopping waits for them
    deposed: threading.Event = field(default_factory=threading.Event)
    started: bool = False  # its first job (recovery) has run


@dataclass
class Runtime:
    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    # Market-data sources by exchange name, built on first use (engine.exchanges.api.source); tests
    # put their own (a demo feed on a fixed clock) here.
    sources: dict[str, Any] = field(default_factory=dict)
    sources_lock: threading.Lock = field(default_factory=threading.Lock)
    # Replay account id -> its run's ReplayFeed (engine.exchanges.venues.install_feed).
    replay_feeds: dict[int, Any] = field(default_factory=dict)
    trading: TradingState = field(default_factory=TradingState)
    # One lock per series, so a scheduled fetch never races a backfill of the same series.
    series_lock: KeyedLocks = field(default_factory=KeyedLocks)
    # series id -> (monotonic time, forming candle): one fetch serves every viewer for a while.
    forming: dict[int, tuple[float, list[float] | None]] = field(default_factory=dict)
    forming_lock: threading.Lock = field(default_factory=threading.Lock)
    # The engine of this process (engine.scheduler) when it runs one.
    engine: EngineRun | None = None
    engine_guard: threading.Lock = field(default_factory=threading.Lock)
    # The daemon thread that keeps trying for the engine lock and checks it is still held.
    engine_watch: Any = None
    # The engine's push watchers (engine.exchanges.push.PushHub) while it runs them, and ccxt.pro
    # settings per exchange id merged into each watcher's client (tests point its urls at a local server).
    push: Any = None
    # The ticker watchers of emulated targets (engine.exchanges.push_tickers.TickerHub) while they run.
    tickers: Any = None
    push_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def submit(self, job_id: str, func: Callable[..., Any], *args: Any) -> bool:
        """Run `func(*args)` now in the engine's pool (once per id); False when this process runs
        no engine (the caller then runs it itself)."""
        engine = self.engine
        if engine is None:
            return False
        engine.scheduler.add_job(func, id=job_id, args=list(args), replace_existing=True)
        return True

    def reset_trading(self) -> None:
        """Forget venues, locks and backoff (tests reuse one runtime over emptied tables)."""
        self.trading = TradingState()


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
