"""APScheduler wiring: one background scheduler per process, started exactly once.

Jobs: at start-up the bracket recovery tick (what a crash left in flight is resolved before
anything new is sent); then the bracket sync every few seconds; every watched series fetched right
after each minute closes (every timeframe closes on a minute boundary); gaps repaired every six
hours; balances and the day's equity snapshot every five minutes; and one-off backfills
submitted by the pages or at start-up (resuming any that a restart interrupted).

Exactly once: `start` is idempotent within a process, and across processes (gunicorn workers, a
second app on the same database) only the holder of the engine lock (engine.engine_lock) starts
one; the others serve pages and log that another process runs the engine. `stop` waits for the
running jobs, so a SIGTERM never cuts an order intent between its two commits.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from engine import jobs, portfolio, sync
from engine.engine_lock import EngineLock
from engine.runtime import Runtime

log = logging.getLogger(__name__)
SYNC_EVERY_S = 5
PORTFOLIO_EVERY_MIN = 5
_lock = threading.Lock()
_scheduler: BackgroundScheduler | None = None
_engine_lock: EngineLock | None = None


def start(runtime: Runtime) -> BackgroundScheduler | None:
    """Start the engine if no process runs it yet; return this process's scheduler, or None when
    another process holds the engine lock."""
    global _scheduler, _engine_lock
    with _lock:
        if _scheduler is not None:
            return _scheduler
        lock = EngineLock(runtime.db, runtime.settings.instance_dir)
        if not lock.acquire():
            log.info("another process runs the engine on this database; this one serves pages only")
            return None
        scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        scheduler.add_job(_startup, id="startup", args=[runtime, scheduler])
        scheduler.start()
        atexit.register(stop)
        _scheduler, _engine_lock = scheduler, lock
        log.info("engine scheduler started")
        return scheduler


def stop(wait: bool = True) -> None:
    """Stop the engine: running jobs finish (`wait`), then the engine lock is released."""
    global _scheduler, _engine_lock
    with _lock:
        if _scheduler is not None:
            _scheduler.shutdown(wait=wait)
            _scheduler = None
            log.info("engine scheduler stopped")
        if _engine_lock is not None:
            _engine_lock.release()
            _engine_lock = None


def running() -> bool:
    return _scheduler is not None


def submit(job_id: str, func: Callable[..., Any], *args: Any) -> bool:
    """Run `func(*args)` now in the scheduler's pool (once per id); False when no scheduler runs."""
    if _scheduler is None:
        return False
    _scheduler.add_job(func, id=job_id, args=list(args), replace_existing=True)
    return True


def _add_recurring_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    # Added only after the recovery tick: a periodic sync must not race the start-up one.
    scheduler.add_job(sync.sync_tick, IntervalTrigger(seconds=SYNC_EVERY_S), id="sync-brackets", args=[runtime])
    # Two seconds past the minute: the candle has closed and the exchange has published it.
    scheduler.add_job(jobs.fetch_due, CronTrigger(second=2), id="fetch-due", args=[runtime])
    scheduler.add_job(jobs.repair_all, IntervalTrigger(hours=6), id="repair-gaps", args=[runtime])
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
        report = sync.recover(runtime)
        log.info("bracket recovery: %d accounts checked, %d errors", report.accounts, len(report.errors))
    except Exception:
        log.exception("bracket recovery failed; the periodic sync will retry")
    _add_recurring_jobs(scheduler, runtime)
    for exchange in runtime.settings.exchanges:
        try:
            jobs.ensure_markets(runtime, exchange)
        except Exception as exc:
            log.error("%s: markets could not be loaded: %s", exchange, exc)
    jobs.bootstrap(runtime)
    for series in jobs.unfinished_backfills(runtime):
        submit(f"backfill-{series.id}", jobs.backfill_recent, runtime, series)
    jobs.fetch_due(runtime)
