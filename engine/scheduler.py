"""APScheduler wiring: one background scheduler per process, started exactly once.

Jobs: at start-up the bracket recovery tick (what a crash left in flight is resolved before
anything new is sent); then the bracket sync every few seconds; every watched series fetched right
after each minute closes (every timeframe closes on a minute boundary); gaps repaired every six
hours; balances and the day's equity snapshot every five minutes; and one-off backfills
submitted by the pages or at start-up (resuming any that a restart interrupted).

Exactly once: `start` is idempotent within a process, and across processes (gunicorn workers, a
second app on the same database) only the holder of the engine lock (engine.lock) starts
one; the others serve pages and log that another process runs the engine. `stop` waits for the
running jobs, so a SIGTERM never cuts an order intent between its two commits.
"""

from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from db.models import Series
from engine.blocks import api as blocks
from engine.lock import EngineLock
from engine.market import api as market
from engine.portfolio import api as portfolio
from engine.runtime import Runtime
from engine.users import api as users

log = logging.getLogger(__name__)
SYNC_EVERY_S = 5
PORTFOLIO_EVERY_MIN = 5


@dataclass
class _Engine:
    """This process's engine: its scheduler and the lock that lets it run."""

    scheduler: BackgroundScheduler
    lock: EngineLock


def start(runtime: Runtime) -> BackgroundScheduler | None:
    """Start the engine if no process runs it yet; return this process's scheduler, or None when
    another process holds the engine lock."""
    with runtime.engine_guard:
        if runtime.engine is not None:
            return runtime.engine.scheduler
        lock = EngineLock(runtime.db, runtime.settings.instance_dir)
        if not lock.acquire():
            log.info("another process runs the engine on this database; this one serves pages only")
            return None
        scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        scheduler.add_job(_startup, id="startup", args=[runtime, scheduler])
        scheduler.start()
        atexit.register(stop, runtime)
        runtime.engine = _Engine(scheduler, lock)
        log.info("engine scheduler started")
        return scheduler


def stop(runtime: Runtime, wait: bool = True) -> None:
    """Stop the engine: running jobs finish (`wait`), then the engine lock is released."""
    with runtime.engine_guard:
        engine, runtime.engine = runtime.engine, None
        if engine is None:
            return
        engine.scheduler.shutdown(wait=wait)
        log.info("engine scheduler stopped")
        engine.lock.release()


def running(runtime: Runtime) -> bool:
    return runtime.engine is not None


def _add_recurring_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    # Added only after the recovery tick: a periodic sync must not race the start-up one.
    scheduler.add_job(blocks.sync_tick, IntervalTrigger(seconds=SYNC_EVERY_S), id="sync-brackets", args=[runtime])
    # Two seconds past the minute: the candle has closed and the exchange has published it.
    scheduler.add_job(market.fetch_due, CronTrigger(second=2), id="fetch-due", args=[runtime])
    scheduler.add_job(market.repair_all, IntervalTrigger(hours=6), id="repair-gaps", args=[runtime])
    # First run now, not in five minutes: the calendar wants today's equity from the start.
    every = IntervalTrigger(minutes=PORTFOLIO_EVERY_MIN)
    scheduler.add_job(_portfolio, every, id="portfolio", args=[runtime], next_run_time=datetime.now(UTC))


def _portfolio(runtime: Runtime) -> None:
    # Balances first: the equity snapshot values what was just synced.
    for report in (portfolio.sync_balances(runtime), portfolio.snapshot_equity(runtime)):
        for error in report.errors:
            log.warning("portfolio: %s", error)


def _startup(runtime: Runtime, scheduler: BackgroundScheduler) -> None:
    try:
        report = blocks.recover(runtime)
        log.info("bracket recovery: %d accounts checked, %d errors", report.accounts, len(report.errors))
    except Exception:
        log.exception("bracket recovery failed; the periodic sync will retry")
    _add_recurring_jobs(scheduler, runtime)
    for exchange in runtime.settings.exchanges:
        try:
            market.ensure_markets(runtime, exchange)
        except Exception as exc:
            log.error("%s: markets could not be loaded: %s", exchange, exc)
    bootstrap(runtime)
    for series in market.unfinished_backfills(runtime):
        runtime.submit(f"backfill-{series.id}", market.backfill_recent, runtime, series)
    market.fetch_due(runtime)


def bootstrap(runtime: Runtime) -> list[Series]:
    """First start: the first admin and, for them, the default watchlist. Returns new series."""
    settings = runtime.settings
    admin = users.ensure_first_admin(
        runtime.sessions, settings.instance_dir, settings.admin_username, settings.admin_password
    )
    if admin is None:
        return []
    added = []
    for exchange, symbol, timeframe in settings.default_watchlist:
        try:
            added.append(market.watch(runtime, admin.id, exchange, symbol, timeframe))
        except Exception as exc:
            log.error("default watchlist entry %s %s %s skipped: %s", exchange, symbol, timeframe, exc)
    return added
