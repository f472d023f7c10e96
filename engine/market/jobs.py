"""The engine's market-data jobs, as plain functions of the Runtime: run by the scheduler, the CLI
and the pages alike."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from db.enums import BackfillStatus
from db.models import Market, Series
from engine.common.timeframes import tf_ms
from engine.exchanges.api import source
from engine.market.candles import (
    FetchResult,
    Progress,
    RepairResult,
    backfill,
    closed_until,
    fetch_latest,
    repair_gaps,
    stored_range,
)
from engine.market.markets import sync_markets
from engine.market.watchlist import add_watch, check_enabled, check_watchable, watched_series
from engine.runtime import Runtime

log = logging.getLogger(__name__)
_BACKFILL_PENDING = (BackfillStatus.IDLE, BackfillStatus.RUNNING)


def ensure_markets(runtime: Runtime, exchange: str, max_age: timedelta = timedelta(days=1)) -> None:
    """Load the exchange's markets into the table when missing or older than `max_age`."""
    with runtime.sessions() as session:
        newest = session.scalar(select(func.max(Market.updated_at)).where(Market.exchange == exchange))
    if newest is not None and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)  # SQLite returns naive datetimes
    if newest is None or datetime.now(UTC) - newest > max_age:
        count = sync_markets(runtime.sessions, source(runtime, exchange))
        log.info("%s: %d markets synced", exchange, count)


def watch(runtime: Runtime, user_id: int, exchange: str, symbol: str, timeframe: str) -> Series:
    """Add a series to a user's watchlist (validated); the caller starts its backfill."""
    return watch_series(runtime, user_id, exchange, symbol, timeframe)[0]


def watch_series(runtime: Runtime, user_id: int, exchange: str, symbol: str, timeframe: str) -> tuple[Series, bool]:
    """`watch`, also saying whether the series is new to the user's watchlist."""
    check_enabled(exchange, runtime.settings.exchanges)
    ensure_markets(runtime, exchange)
    timeframes = tuple(source(runtime, exchange).timeframes())
    with runtime.sessions.begin() as session:
        check_watchable(session, exchange, symbol, timeframe, timeframes)
        return add_watch(session, user_id, exchange, symbol, timeframe)


def backfill_recent(runtime: Runtime, series: Series, progress: Progress | None = None) -> int:
    """Backfill the configured number of days (30 by default) up to the last closed candle."""
    src = source(runtime, series.exchange)
    start = closed_until(src.milliseconds(), series.timeframe) - runtime.settings.backfill_days * 86_400_000
    return backfill_from(runtime, series, start, progress).stored


def backfill_from(
    runtime: Runtime, series: Series, start_ms: int | None, progress: Progress | None = None
) -> FetchResult:
    """Backfill from `start_ms` (None: all the exchange has) up to the last closed candle."""
    with runtime.series_lock(series.id):
        return backfill(runtime.sessions, source(runtime, series.exchange), series, start_ms, progress)


def repair(runtime: Runtime, series: Series, progress: Progress | None = None) -> RepairResult:
    """Refetch the gaps of one series; record what the exchange has no data for."""
    with runtime.series_lock(series.id):
        return repair_gaps(runtime.sessions, source(runtime, series.exchange), series, progress)


def fetch_due(runtime: Runtime) -> int:
    """Fetch every watched series whose newest closed candle is not stored yet. Returns candles stored."""
    with runtime.sessions() as session:
        due = []
        for series in watched_series(session):
            stored = stored_range(session.connection(), series)
            last_closed = closed_until(source(runtime, series.exchange).milliseconds(), series.timeframe) - tf_ms(
                series.timeframe
            )
            if stored is None or stored[1] < last_closed:
                due.append(series)
    stored_total = 0
    for series in due:
        if series.backfill_status in _BACKFILL_PENDING or runtime.series_lock(series.id).locked():
            continue  # its backfill job fills it (and reports progress)
        try:
            with runtime.series_lock(series.id):
                feed = source(runtime, series.exchange)
                stored_total += fetch_latest(runtime.sessions, feed, series, runtime.settings.backfill_days)
        except Exception as exc:  # one failing exchange must not starve the other series
            log.error("fetching %s %s %s failed: %s", series.exchange, series.symbol, series.timeframe, exc)
            with runtime.sessions.begin() as session:
                row = session.get(Series, series.id)
                if row is not None:
                    row.last_error = str(exc)[:2000]
    return stored_total


def repair_all(runtime: Runtime) -> int:
    """Repair gaps in every watched series; returns the candles filled in."""
    with runtime.sessions() as session:
        series_list = watched_series(session)
    filled = 0
    for series in series_list:
        try:
            filled += repair(runtime, series).filled
        except Exception as exc:
            log.error("gap repair of %s %s %s failed: %s", series.exchange, series.symbol, series.timeframe, exc)
    return filled


def unfinished_backfills(runtime: Runtime) -> list[Series]:
    """Watched series whose backfill never finished (interrupted by a restart, or failed)."""
    with runtime.sessions() as session:
        return [s for s in watched_series(session) if s.backfill_status is not BackfillStatus.DONE]
