"""Candle jobs: fetch the newest closed candles, backfill history, repair gaps.

Every page fetched from an exchange is cleaned (engine.market.clean) and stored with its rollups
(engine.market.rollups) in one transaction together with the series' progress, so an interrupted job
resumes from what is stored. What is stored is learnt from one range query per job, never by
counting rows per batch. The caller (engine.market.jobs) holds the series' lock
(`runtime.series_lock`), so a scheduled fetch never races a backfill of the same series.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from db.bulk import candle_range
from db.enums import BackfillStatus
from db.models import Series
from engine.common.timeframes import floor_ts, tf_ms
from engine.exchanges.api import OHLCV, MarketDataSource
from engine.market.clean import clean_candles
from engine.market.gaps import find_gaps, record_hole
from engine.market.rollups import ingest_candles

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (candles done, candles expected)


@dataclass(frozen=True)
class FetchResult:
    fetched: int = 0
    stored: int = 0
    rejected: int = 0
    requests: int = 0

    def __add__(self, other: FetchResult) -> FetchResult:
        return FetchResult(
            self.fetched + other.fetched,
            self.stored + other.stored,
            self.rejected + other.rejected,
            self.requests + other.requests,
        )


def get_or_create_series(session: Session, exchange: str, symbol: str, timeframe: str) -> Series:
    tf_ms(timeframe)  # validates the timeframe before a row is written
    series = session.scalar(
        select(Series).where(Series.exchange == exchange, Series.symbol == symbol, Series.timeframe == timeframe)
    )
    if series is None:
        series = Series(exchange=exchange, symbol=symbol, timeframe=timeframe)
        session.add(series)
        session.flush()
    return series


def closed_until(now_ms: int, timeframe: str) -> int:
    """Exclusive end of the closed candles at `now_ms`: the open time of the forming candle."""
    return floor_ts(now_ms, timeframe)


def stored_range(conn: Connection, series: Series) -> tuple[int, int] | None:
    return candle_range(conn, series.id, tf_ms(series.timeframe))


def store_page(conn: Connection, series: Series, page: list[OHLCV], now_ms: int) -> FetchResult:
    """Clean one page and store it (with rollups) in the caller's transaction."""
    result = clean_candles(page, series.timeframe, now_ms)
    if result.rows:
        ingest_candles(conn, series.id, series.timeframe, result.rows)
    rejected = sum(1 for p in result.problems if p.action == "rejected")
    return FetchResult(fetched=len(page), stored=len(result.rows), rejected=rejected, requests=1)


def _pages_forward(
    source: MarketDataSource, series: Series, start: int, end: int
) -> Iterator[tuple[int, int, list[OHLCV]]]:
    """Yield (since, covered, page) from `start` up to `end` (exclusive), oldest first.

    `covered` is how far the answer speaks for: everything in [since, covered) that the page lacks,
    the exchange does not have. Exchanges differ on an empty answer: "from since on" ones (binance)
    send the next candles after a hole, "window" ones (okx) send nothing for a window inside an
    outage. So an empty page is followed by one look at the newest candle: none at or after
    `since` means nothing more to fetch; otherwise the page vouches for one page's width only.
    """
    step, limit = tf_ms(series.timeframe), source.ohlcv_page_limit(series.symbol, series.timeframe)
    cursor = start
    while cursor < end:
        page = [c for c in source.fetch_ohlcv(series.symbol, series.timeframe, cursor, limit) if c[0] >= cursor]
        if page:
            covered = min(end, int(page[-1][0]) + step)
        elif _has_candles_from(source, series, cursor):
            covered = min(end, cursor + limit * step)
        else:
            covered = end
        yield cursor, covered, [c for c in page if c[0] < end]
        cursor = covered


def _has_candles_from(source: MarketDataSource, series: Series, since: int) -> bool:
    newest = source.fetch_ohlcv(series.symbol, series.timeframe, None, 1)
    return bool(newest) and newest[-1][0] >= since


def _save(sessions: sessionmaker[Session], series: Series, **fields: object) -> None:
    with sessions.begin() as session:
        row = session.get(Series, series.id)
        assert row is not None
        for name, value in fields.items():
            setattr(row, name, value)


def _store_with_progress(
    sessions: sessionmaker[Session], series: Series, page: list[OHLCV], now_ms: int, done: int, total: int
) -> FetchResult:
    with sessions.begin() as session:
        result = store_page(session.connection(), series, page, now_ms)
        row = session.get(Series, series.id)
        assert row is not None
        row.backfill_done, row.backfill_total = min(done + len(page), total), total
    return result


def fetch_latest(sessions: sessionmaker[Session], source: MarketDataSource, series: Series, default_days: int) -> int:
    """Fetch every closed candle after the last stored one (or `default_days` of history when the
    series is empty). Returns the number of candles stored."""
    now = source.milliseconds()
    end = closed_until(now, series.timeframe)
    with sessions() as session:
        stored = stored_range(session.connection(), series)
    start = stored[1] + tf_ms(series.timeframe) if stored else end - default_days * 86_400_000
    total = FetchResult()
    for _since, _covered, page in _pages_forward(source, series, start, end):
        if page:
            with sessions.begin() as session:
                total += store_page(session.connection(), series, page, now)
    _save(sessions, series, last_fetch_at=datetime.now(UTC), last_error=None)
    return total.stored


def backfill(
    sessions: sessionmaker[Session],
    source: MarketDataSource,
    series: Series,
    start_ms: int | None,
    progress: Progress | None = None,
) -> FetchResult:
    """Make the stored series contiguous from `start_ms` (None: the exchange's first candle) up to
    the last closed candle.

    Older history is paged backwards from the oldest stored candle and newer candles forwards from
    the newest, so what is stored always stays one contiguous run and a rerun after an interruption
    resumes where it stopped. Holes inside the stored run are `repair_gaps`'s job.
    """
    _save(sessions, series, backfill_status=BackfillStatus.RUNNING, backfill_error=None)
    try:
        result = _backfill(sessions, source, series, start_ms, progress)
    except Exception as exc:
        _save(sessions, series, backfill_status=BackfillStatus.FAILED, backfill_error=str(exc)[:2000])
        raise
    _save(sessions, series, backfill_status=BackfillStatus.DONE, last_fetch_at=datetime.now(UTC))
    return result


def _backfill(
    sessions: sessionmaker[Session],
    source: MarketDataSource,
    series: Series,
    start_ms: int | None,
    progress: Progress | None,
) -> FetchResult:
    step = tf_ms(series.timeframe)
    now = source.milliseconds()
    end = closed_until(now, series.timeframe)
    with sessions() as session:
        stored = stored_range(session.connection(), series)
        first_available = session.get(Series, series.id).first_available_ts  # type: ignore[union-attr]
    floor = max(x for x in (start_ms, first_available, 0) if x is not None)
    floor = floor_ts(floor + step - 1, series.timeframe)  # first grid point at or after the floor
    if stored is None:
        lo = hi = None
        expected = (end - floor) // step if start_ms is not None else 0
    else:
        lo, hi = stored
        expected = max(0, (lo - floor) // step) + max(0, (end - hi - step) // step)
    done, result = 0, FetchResult()

    def report(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(min(done, expected), expected)

    if lo is None:
        # Nothing stored yet: fetch forward from the floor (or the most recent page for full history).
        if start_ms is None:
            limit = source.ohlcv_page_limit(series.symbol, series.timeframe)
            page = source.fetch_ohlcv(series.symbol, series.timeframe, None, limit)
            page = [c for c in page if c[0] < end]
            if not page:
                return result
            result += _store_with_progress(sessions, series, page, now, 0, len(page))
            report(len(page))
            lo, hi = int(page[0][0]), int(page[-1][0])
        else:
            for _since, _covered, page in _pages_forward(source, series, floor, end):
                if page:
                    result += _store_with_progress(sessions, series, page, now, done, expected)
                    report(len(page))
            return result
    result += _backfill_older(sessions, source, series, floor, lo, start_ms is None, now, report, expected)
    for _since, _covered, page in _pages_forward(source, series, hi + step, end):
        if page:
            result += _store_with_progress(sessions, series, page, now, done, expected)
            report(len(page))
    return result


def _backfill_older(
    sessions: sessionmaker[Session],
    source: MarketDataSource,
    series: Series,
    floor: int,
    lo: int,
    full_history: bool,
    now: int,
    report: Callable[[int], None],
    expected: int,
) -> FetchResult:
    """Page backwards from the oldest stored candle `lo` down to `floor`."""
    step, limit = tf_ms(series.timeframe), source.ohlcv_page_limit(series.symbol, series.timeframe)
    result = FetchResult()
    while lo > floor or full_history:
        since = max(floor, lo - limit * step)
        page = [c for c in source.fetch_ohlcv(series.symbol, series.timeframe, since, limit) if since <= c[0] < lo]
        if not page:
            # The exchange has nothing before `lo`: that is where its history starts.
            if full_history or since == floor:
                _save(sessions, series, first_available_ts=lo)
            return result
        result += _store_with_progress(sessions, series, page, now, 0, expected)
        report(len(page))
        lo = int(page[0][0])
        if since == floor and not full_history:
            return result
        if full_history and since == 0:
            _save(sessions, series, first_available_ts=lo)
            return result
    return result


@dataclass(frozen=True)
class RepairResult:
    gaps: int
    filled: int
    holes_recorded: int


def missing_intervals(start: int, end: int, stored_ts: list[int], step: int) -> list[tuple[int, int]]:
    """Intervals of the grid [start, end) not covered by `stored_ts` (sorted), as [a, b) pairs."""
    holes, expected = [], start
    for ts in stored_ts:
        if ts >= end:
            break
        if ts > expected:
            holes.append((expected, ts))
        expected = max(expected, ts + step)
    if expected < end:
        holes.append((expected, end))
    return holes


def repair_gaps(
    sessions: sessionmaker[Session], source: MarketDataSource, series: Series, progress: Progress | None = None
) -> RepairResult:
    """Refetch every missing interval between stored candles. What the exchange has no (clean) data
    for is recorded as a hole, so it is not asked for again."""
    step = tf_ms(series.timeframe)
    with sessions() as session:
        gaps = find_gaps(session.connection(), series.id, series.timeframe)
    now, filled, holes = source.milliseconds(), 0, 0
    for number, gap in enumerate(gaps, start=1):
        for since, covered, page in _pages_forward(source, series, gap.start_ts, gap.end_ts):
            with sessions.begin() as session:
                conn = session.connection()
                result = clean_candles(page, series.timeframe, now)
                if result.rows:
                    ingest_candles(conn, series.id, series.timeframe, result.rows)
                    filled += len(result.rows)
                for start, end in missing_intervals(since, covered, [int(r[0]) for r in result.rows], step):
                    record_hole(conn, series.id, start, end)
                    holes += 1
        if progress:
            progress(number, len(gaps))
    return RepairResult(gaps=len(gaps), filled=filled, holes_recorded=holes)
