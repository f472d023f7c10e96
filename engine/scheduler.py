"""APScheduler wiring: one background scheduler per process, started exactly once.

Jobs: fetch every watched series right after each minute closes (every timeframe closes on a
minute boundary), repair gaps every six hours, and one-off backfills submitted by the pages or at
start-up (resuming any that a restart interrupted).
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from engine import jobs
from engine.runtime import Runtime

log = logging.getLogger(__name__)
_lock = threading.Lock()
_scheduler: BackgroundScheduler | None = None


def start(runtime: Runtime) -> BackgroundScheduler:
    """Start the scheduler if this process has not started one yet; return it."""
    global _scheduler
    with _lock:
        if _scheduler is not None:
            return _scheduler
        scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        scheduler.add_job(_startup, id="startup", args=[runtime])
        # Two seconds past the minute: the candle has closed and the exchange has published it.
        scheduler.add_job(jobs.fetch_due, CronTrigger(second=2), id="fetch-due", args=[runtime])
        scheduler.add_job(jobs.repair_all, IntervalTrigger(hours=6), id="repair-gaps", args=[runtime])
        scheduler.start()
        atexit.register(stop)
        _scheduler = scheduler
        log.info("engine scheduler started")
        return scheduler


def stop() -> None:
    global _scheduler
    with _lock:
        if _scheduler is not None:
            _scheduler.shutdown(wait=False)
            _scheduler = None
            log.info("engine scheduler stopped")


def running() -> bool:
    return _scheduler is not None


def submit(job_id: str, func: Callable[..., Any], *args: Any) -> bool:
    """Run `func(*args)` now in the scheduler's pool (once per id); False when no scheduler runs."""
    if _scheduler is None:
        return False
    _scheduler.add_job(func, id=job_id, args=list(args), replace_existing=True)
    return True


def _startup(runtime: Runtime) -> None:
    for exchange in runtime.settings.exchanges:
        try:
            jobs.ensure_markets(runtime, exchange)
        except Exception as exc:
            log.error("%s: markets could not be loaded: %s", exchange, exc)
    jobs.bootstrap(runtime)
    for series in jobs.unfinished_backfills(runtime):
        submit(f"backfill-{series.id}", jobs.backfill_recent, runtime, series)
    jobs.fetch_due(runtime)
