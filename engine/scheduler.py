"""APScheduler wiring: one background scheduler per process, started exactly once."""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler

from engine.runtime import Runtime

log = logging.getLogger(__name__)
_lock = threading.Lock()
_scheduler: BackgroundScheduler | None = None


def start(runtime: Runtime) -> BackgroundScheduler:
    """Start the scheduler if this process has not started one yet; return it."""
    global _scheduler
    with _lock:
        if _scheduler is None:
            _scheduler = BackgroundScheduler(timezone="UTC")
            _scheduler.start()
            log.info("engine scheduler started")
        return _scheduler
