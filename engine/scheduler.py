"""APScheduler wiring: one background scheduler per database, with failover and fencing.

Jobs: at start-up the bracket recovery tick (what a crash left in flight is resolved before
anything new is sent); then the bracket sync every few seconds, the conditional blocks and the
price alerts checked after each; every watched series fetched right after each minute closes
(every timeframe closes on a minute boundary), the conditions and alerts checked again on the new
candles; gaps repaired every six hours; balances and the day's equity snapshot every five
minutes, and perpetual funding fetched and booked as often (engine.portfolio.funding); the
notification outbox delivered every few seconds (engine.notify: its own job, so a slow service
never delays a sync); one-off backfills submitted by the pages or at start-up
(resuming any that a restart interrupted); and, after the recovery tick, the push watchers
(engine.exchanges.push: a live account's order update syncs that account at once,
`blocks.api.sync_account`) and the ticker watchers (engine.exchanges.push_tickers: a pushed price
reaching a target the engine takes itself syncs that block at once), refreshed every PUSH_REFRESH_S.

Exactly one engine per database: only the holder of the engine lock (engine.lock) runs one. Every
process that starts the engine keeps a watch thread: without the lock it stands by and tries
again every STANDBY_RETRY_S (the holder dies -> the database or kernel frees the lock -> a standby
takes it); with it, it checks every HEARTBEAT_S on the lock's own connection that it still holds
it, and when not it is deposed at once: marked (no order call starts any more, engine.blocks.executor)
and its scheduler shut down without waiting, then it stands by again. A new holder raises the
fencing epoch (engine_state.epoch) first and runs its first job only TAKEOVER_GRACE_S later, so a
deposed engine has noticed (one heartbeat) before the new one ticks; a job of the old one still
running is fenced by the epoch. Each sync tick records engine_state.last_tick_at (only while its
epoch is current: a tick that finds a newer epoch deposes its engine) and logs one line with its
epoch and monotonic start and end. `stop` waits for the running jobs, so a SIGTERM never cuts an
order intent between its two commits.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from db.models import Series
from engine.alerts import api as alerts
from engine.blocks import api as blocks
from engine.conditions import api as conditions
from engine.exchanges import api as exchanges
from engine.lock import EngineLock, holder_name, record_tick, take_epoch
from engine.market import api as market
from engine.notify import api as notify
from engine.portfolio import api as portfolio
from engine.runtime import EngineRun, Runtime
from engine.users import api as users

log = logging.getLogger(__name__)
SYNC_EVERY_S = 5
PORTFOLIO_EVERY_MIN = 5
FUNDING_EVERY_MIN = 5  # funding is paid every 8 hours: a payment is in the P&L within minutes
PUSH_REFRESH_S = 15  # accounts switched on or off are watched or dropped within this
NOTIFY_EVERY_S = 5
JOB_THREADS = 10  # APScheduler's default pool size
STANDBY_RETRY_S = 2.0  # a process without the lock tries again this often
HEARTBEAT_S = 1.0  # the holder checks its lock this often
# A new holder's first job waits two heartbeats: a holder that lost the lock has stopped by then.
TAKEOVER_GRACE_S = 2 * HEARTBEAT_S


def start(runtime: Runtime) -> BackgroundScheduler | None:
    """Try for the engine now and keep trying (or keep checking) in a watch thread; return this
    process's scheduler, or None while another process holds the engine lock."""
    with runtime.engine_guard:
        if runtime.engine is None and not _take(runtime):
            log.info(
                "another process runs the engine on this database; this one serves pages only"
                " and stands by (retrying every %.0f s)",
                STANDBY_RETRY_S,
            )
        if runtime.engine_watch is None:
            runtime.engine_watch = _Watch(runtime)
            runtime.engine_watch.start()
            atexit.register(stop, runtime)
        return runtime.engine.scheduler if runtime.engine is not None else None


def stop(runtime: Runtime, wait: bool = True) -> None:
    """Stop standing by, then stop the engine: running jobs finish (`wait`), the lock is released."""
    watch = runtime.engine_watch
    if watch is not None:
        watch.stopping.set()
        if watch is not threading.current_thread():
            watch.join(timeout=10)
    with runtime.engine_guard:
        runtime.engine_watch = None
        run, runtime.engine = runtime.engine, None
        if run is None:
            return
        log.info("engine stopping (epoch %d)%s", run.epoch, ": running jobs finish first" if wait else "")
        exchanges.stop_push(runtime)  # first: a pushed sync in flight finishes, no new one starts
        # Not shutdown(wait=True): it waits for running jobs while holding the scheduler's job-store
        # lock, so a job still adding jobs (the start-up one, if stopped at once) would deadlock.
        run.scheduler.shutdown(wait=False)
        if wait and run.executor is not None:
            run.executor.shutdown(wait=True)
        exchanges.stop_push(runtime)  # again: a start-up job still running may have started it
        log.info("engine scheduler stopped" if run.started else "engine stopped before its first job")
        run.lock.release()


def running(runtime: Runtime) -> bool:
    return runtime.engine is not None


class _Watch(threading.Thread):
    """Stands by for the lock (every STANDBY_RETRY_S) or checks it is still held (every HEARTBEAT_S)."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(name="engine-watch", daemon=True)
        self.runtime = runtime
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(HEARTBEAT_S if self.runtime.engine is not None else STANDBY_RETRY_S):
            try:
                self.step()
            except Exception:  # the watch must outlive a database hiccup
                log.exception("engine watch failed; trying again")

    def step(self) -> None:
        run = self.runtime.engine
        if run is None:
            with self.runtime.engine_guard:
                if not self.stopping.is_set() and self.runtime.engine is None:
                    _take(self.runtime)
        elif run.deposed.is_set():
            _depose(self.runtime, run, "a newer engine epoch is in the database")
        elif not run.lock.still_held():
            _depose(self.runtime, run, "the engine lock is lost")


def _take(runtime: Runtime) -> bool:
    """Take the lock, raise the epoch and start the scheduler (its first job after the grace).
    The caller holds runtime.engine_guard."""
    lock = EngineLock(runtime.db, runtime.settings.instance_dir)
    if not lock.acquire():
        return False
    try:
        epoch = take_epoch(runtime.db, holder_name())
    except Exception as exc:  # no epoch, no engine: an unfenced engine could send beside another
        log.error("engine lock taken but the epoch could not be raised: %s", exc)
        lock.release()
        return False
    executor = ThreadPoolExecutor(JOB_THREADS)
    scheduler = BackgroundScheduler(
        timezone="UTC", executors={"default": executor}, job_defaults={"coalesce": True, "max_instances": 1}
    )
    run = EngineRun(scheduler, lock, epoch, executor)
    first = datetime.now(UTC) + timedelta(seconds=TAKEOVER_GRACE_S)
    scheduler.add_job(_startup, id="startup", args=[runtime, run], next_run_time=first)
    scheduler.start()
    runtime.engine = run
    log.info("engine lock taken: epoch %d (%s); first job in %.0f s", epoch, holder_name(), TAKEOVER_GRACE_S)
    return True


def _depose(runtime: Runtime, run: EngineRun, reason: str) -> None:
    run.deposed.set()  # first: from now on no order call starts (engine.blocks.executor)
    with runtime.engine_guard:
        if runtime.engine is not run:
            return  # stopped meanwhile
        run.scheduler.shutdown(wait=False)
        runtime.engine = None
    exchanges.stop_push(runtime)
    run.lock.release()
    log.warning("engine deposed (epoch %d): %s; scheduler stopped, standing by", run.epoch, reason)


def _sync(runtime: Runtime, run: EngineRun) -> None:
    """One bracket sync tick, only while this engine's epoch is the database's."""
    if run.deposed.is_set():
        return
    if not record_tick(runtime.db, run.epoch):
        run.deposed.set()  # the watch stops the scheduler within a heartbeat
        log.warning("engine epoch %d is no longer the database's: tick skipped", run.epoch)
        return
    began = time.monotonic()
    try:
        blocks.sync_tick(runtime)
        conditions.check_conditions(runtime)  # after the tick: it has just refreshed the last prices
        alerts.check_alerts(runtime)
    finally:
        log.info("sync tick epoch=%d mono=%.3f-%.3f", run.epoch, began, time.monotonic())


def _add_recurring_jobs(scheduler: BackgroundScheduler, runtime: Runtime, run: EngineRun) -> None:
    # Added only after the recovery tick: a periodic sync must not race the start-up one.
    scheduler.add_job(_sync, IntervalTrigger(seconds=SYNC_EVERY_S), id="sync-brackets", args=[runtime, run])
    # Two seconds past the minute: the candle has closed and the exchange has published it.
    scheduler.add_job(_fetch_due, CronTrigger(second=2), id="fetch-due", args=[runtime, run])
    scheduler.add_job(market.repair_all, IntervalTrigger(hours=6), id="repair-gaps", args=[runtime])
    scheduler.add_job(_notify, IntervalTrigger(seconds=NOTIFY_EVERY_S), id="notify", args=[runtime])
    # First run now, not in five minutes: the calendar wants today's equity from the start.
    every = IntervalTrigger(minutes=PORTFOLIO_EVERY_MIN)
    scheduler.add_job(_portfolio, every, id="portfolio", args=[runtime], next_run_time=datetime.now(UTC))
    funding = IntervalTrigger(minutes=FUNDING_EVERY_MIN)
    scheduler.add_job(_funding, funding, id="funding", args=[runtime, run], next_run_time=datetime.now(UTC))


def _start_push(runtime: Runtime, run: EngineRun) -> None:
    """The push watchers (engine.exchanges.push), after the recovery tick: each order update of a
    watched account syncs that account at once; the sync tick stays as the safety net."""
    if run.deposed.is_set() or runtime.engine is not run:
        return  # stopped or deposed during the start-up job
    try:
        exchanges.start_push(runtime, lambda account_id, gap: _push_sync(runtime, run, account_id, gap))
    except Exception:
        log.exception("push watchers could not start; the sync tick alone follows the orders")
        return
    try:
        exchanges.start_tickers(runtime, lambda account_id, ids: _target_sync(runtime, run, account_id, ids))
    except Exception:
        log.exception("ticker watchers could not start; the sync tick alone watches the targets")
    every = IntervalTrigger(seconds=PUSH_REFRESH_S)
    run.scheduler.add_job(exchanges.refresh_push, every, id="push-watchers", args=[runtime])


def _push_sync(runtime: Runtime, run: EngineRun, account_id: int, gap: bool) -> None:
    """A watcher's request: sync that account now (after a gap in its stream: every live order of it)."""
    if run.deposed.is_set():
        return
    report = blocks.sync_account(runtime, account_id)
    if gap or report.orders_updated or report.orders_placed:
        log.info(
            "push sync of account %d%s: %d orders updated, %d placed, %d fills",
            account_id,
            " after a stream gap" if gap else "",
            report.orders_updated,
            report.orders_placed,
            report.fills_recorded,
        )


def _target_sync(runtime: Runtime, run: EngineRun, account_id: int, block_ids: frozenset[int]) -> None:
    """A ticker watcher's request: a pushed price reached these blocks' targets; sync them now."""
    if run.deposed.is_set():
        return
    report = blocks.sync_account(runtime, account_id, blocks=set(block_ids))
    log.info(
        "target sync of account %d, blocks %s: %d placed, %d canceled",
        account_id,
        sorted(block_ids),
        report.orders_placed,
        report.orders_canceled,
    )


def _notify(runtime: Runtime) -> None:
    report = notify.deliver_due(runtime)
    if report.retried or report.failed or report.dropped:
        log.info("notifications: %d sent, %d to retry, %d given up, %d dropped (no URL)",
                 report.sent, report.retried, report.failed, report.dropped)  # fmt: skip


def _fetch_due(runtime: Runtime, run: EngineRun) -> None:
    """The new candles, then the conditions that wait for a candle to close and the price alerts."""
    market.fetch_due(runtime)
    if not run.deposed.is_set():
        conditions.check_conditions(runtime)
        alerts.check_alerts(runtime)


def _portfolio(runtime: Runtime) -> None:
    # Balances first: the equity snapshot values what was just synced.
    for report in (portfolio.sync_balances(runtime), portfolio.snapshot_equity(runtime)):
        for error in report.errors:
            log.warning("portfolio: %s", error)


def _funding(runtime: Runtime, run: EngineRun) -> None:
    """Perpetual funding fetched and booked (engine.portfolio.funding), while this engine runs."""
    if run.deposed.is_set():
        return
    report = portfolio.book_funding(runtime)
    if report.booked:
        log.info("funding: %d payments booked over %d accounts", report.booked, report.accounts)
    for error in report.errors:
        log.warning("funding: %s", error)


def _startup(runtime: Runtime, run: EngineRun) -> None:
    if run.deposed.is_set():
        return
    run.started = True
    log.info("engine scheduler started (epoch %d)", run.epoch)
    began = time.monotonic()
    try:
        record_tick(runtime.db, run.epoch)
        report = blocks.recover(runtime)
        log.info("bracket recovery: %d accounts checked, %d errors", report.accounts, len(report.errors))
    except Exception:
        log.exception("bracket recovery failed; the periodic sync will retry")
    log.info("sync tick epoch=%d mono=%.3f-%.3f (recovery)", run.epoch, began, time.monotonic())
    _add_recurring_jobs(run.scheduler, runtime, run)
    _start_push(runtime, run)
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
