"""What the chart page reads and changes, always on behalf of one user: the symbol bar's choices,
the user's watchlist (adding a series starts its backfill), and candles of watched series only.

Every read of candles checks that the user watches the series (`NotWatchedError` otherwise), so a
crafted request for somebody else's series gets nothing.

The backfill seam: `start_backfill` hands the job to the scheduler when this process runs one,
else runs it in a plain daemon thread (web workers with TRADEBLOCK_ENGINE=off, and the tests,
which put a DemoExchange on a fixed clock in `runtime.sources`). Either way it is in the
background and reports progress on the series row.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from db.bulk import candle_range
from db.enums import BackfillStatus
from db.models import Series
from engine.common.timeframes import floor_ts, levels_above, tf_ms
from engine.exchanges.api import source
from engine.market import jobs
from engine.market.drawings import load_drawings, save_drawings
from engine.market.markets import Ticks, list_markets, ticks
from engine.market.reads import ChartCandles, read_candles
from engine.market.watchlist import NotWatchedError, WatchEntry, remove_watch, user_watchlist
from engine.runtime import Runtime

log = logging.getLogger(__name__)
FORMING_TTL_S = 3.0  # one fetch of a forming candle serves every viewer for this long


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int


def exchanges(runtime: Runtime) -> tuple[str, ...]:
    return runtime.settings.exchanges


def timeframes(runtime: Runtime, exchange: str) -> tuple[str, ...]:
    """The timeframes the exchange serves (empty when it cannot be reached)."""
    if exchange not in runtime.settings.exchanges:
        return ()
    try:
        return tuple(source(runtime, exchange).timeframes())
    except Exception as exc:
        log.warning("%s: timeframes unavailable: %s", exchange, exc)
        return ()


def search_symbols(runtime: Runtime, exchange: str, search: str | None, limit: int = 30) -> list[str]:
    """Symbols of the exchange's active markets matching `search` (loads the markets table first
    if it is empty or a day old)."""
    if exchange not in runtime.settings.exchanges:
        return []
    try:
        jobs.ensure_markets(runtime, exchange)
    except Exception as exc:  # a stale markets table still answers
        log.warning("%s: markets not refreshed: %s", exchange, exc)
    with runtime.sessions() as session:
        return [m.symbol for m in list_markets(session, exchange, search, limit=limit)]


def watchlist(runtime: Runtime, user_id: int) -> list[WatchEntry]:
    with runtime.sessions() as session:
        return user_watchlist(session, user_id)


def watched(runtime: Runtime, user_id: int, series_id: int | None) -> WatchEntry:
    """The user's watchlist entry for this series; NotWatchedError if there is none (or for an id
    that is no integer: browsers and API bodies send what they like, and PostgreSQL refuses to
    compare an integer column with text)."""
    if isinstance(series_id, int) and not isinstance(series_id, bool):  # one entry, not the whole list
        with runtime.sessions() as session:
            for entry in user_watchlist(session, user_id, series_id):
                return entry
    raise NotWatchedError(f"series {series_id} is not on this user's watchlist")


def pick_series(runtime: Runtime, user_id: int, wanted: int | None) -> WatchEntry | None:
    """`wanted` if the user watches it, else their first series, else None."""
    entries = watchlist(runtime, user_id)
    return next((e for e in entries if e.series_id == wanted), entries[0] if entries else None)


def add_series(runtime: Runtime, user_id: int, exchange: str, symbol: str, timeframe: str) -> tuple[WatchEntry, bool]:
    """Watch a series (WatchError if it cannot be) and start its backfill unless already done;
    also says whether it is new to the user's watchlist."""
    series, new = jobs.watch_series(runtime, user_id, exchange, symbol, timeframe)
    if series.backfill_status is not BackfillStatus.DONE and not runtime.series_lock(series.id).locked():
        start_backfill(runtime, series)
    return watched(runtime, user_id, series.id), new


def start_backfill(runtime: Runtime, series: Series) -> str:
    """Backfill the recent history in the background: "scheduler" or "thread" says where."""
    if runtime.submit(f"backfill-{series.id}", jobs.backfill_recent, runtime, series):
        return "scheduler"
    thread = threading.Thread(target=_backfill_logged, args=(runtime, series), name=f"backfill-{series.id}")
    thread.daemon = True
    thread.start()
    return "thread"


def _backfill_logged(runtime: Runtime, series: Series) -> None:
    try:
        jobs.backfill_recent(runtime, series)
    except Exception as exc:  # recorded on the series row (backfill_error) for the page to show
        log.error("backfill of %s %s %s failed: %s", series.exchange, series.symbol, series.timeframe, exc)


def remove_series(runtime: Runtime, user_id: int, series_id: int) -> bool:
    with runtime.sessions.begin() as session:
        return remove_watch(session, user_id, series_id)


def stored_window(runtime: Runtime, user_id: int, series_id: int) -> Window | None:
    """[first, last candle's end) of what is stored for a watched series, or None if nothing is."""
    return _stored(runtime, watched(runtime, user_id, series_id))


def _stored(runtime: Runtime, entry: WatchEntry) -> Window | None:
    step = tf_ms(entry.timeframe)
    with runtime.db.connect() as conn:
        stored = candle_range(conn, entry.series_id, step)
    return None if stored is None else Window(stored[0], stored[1] + step)


def recent_window(
    runtime: Runtime, user_id: int, series_id: int, candles: int | None = None, level: str | None = None
) -> Window | None:
    """The newest `candles` (at most the point budget) at `level` (default: the series' own timeframe)."""
    entry = watched(runtime, user_id, series_id)
    stored = _stored(runtime, entry)
    if stored is None:
        return None
    count = min(candles or runtime.settings.point_budget, runtime.settings.point_budget)
    span = count * tf_ms(level or entry.timeframe)
    return Window(max(stored.start_ms, stored.end_ms - span), stored.end_ms)


def window_candles(
    runtime: Runtime, user_id: int, series_id: int, start_ms: int | None = None, end_ms: int | None = None
) -> ChartCandles | None:
    """Candles of a watched series over [start_ms, end_ms) at its own timeframe, within the point
    budget; a bound left None is recent_window's (the newest candles). None when nothing is stored.
    What `recent_window` then `chart_candles` give, with the watchlist entry read once and the
    candles on one connection (the REST API's candles read)."""
    entry = watched(runtime, user_id, series_id)
    step, budget = tf_ms(entry.timeframe), runtime.settings.point_budget
    with runtime.db.connect() as conn:
        stored = candle_range(conn, entry.series_id, step)
        if stored is None:
            return None
        first, end = stored[0], stored[1] + step
        start = start_ms if start_ms is not None else max(first, end - budget * step)
        return read_candles(conn, series_id, entry.timeframe, start, end_ms if end_ms is not None else end, budget)


def stored_levels(timeframe: str) -> tuple[str, ...]:
    """The levels a series of `timeframe` is stored at: its own and the pyramid's above it."""
    return (timeframe, *levels_above(timeframe))


def chart_candles(
    runtime: Runtime,
    user_id: int,
    series_id: int,
    start_ms: int,
    end_ms: int,
    level: str | None = None,
    until_ms: int | None = None,
) -> ChartCandles:
    """Candles of a watched series over [start_ms, end_ms) at `level` (one of its stored levels;
    default its own timeframe), within the point budget; with `until_ms` (a replay's clock) only
    those closed by then. ValueError for a level it does not store."""
    entry = watched(runtime, user_id, series_id)
    level = level or entry.timeframe
    if level not in stored_levels(entry.timeframe):
        raise ValueError(f"{level} is not a stored level of a {entry.timeframe} series")
    with runtime.db.connect() as conn:
        return read_candles(conn, series_id, level, start_ms, end_ms, runtime.settings.point_budget, until_ms)


def market_ticks(runtime: Runtime, exchange: str, symbol: str) -> Ticks:
    """The market's price and amount ticks (Ticks() when the market is not stored)."""
    with runtime.sessions() as session:
        return ticks(session, [(exchange, symbol)])[exchange, symbol]


def find_watched(runtime: Runtime, user_id: int, exchange: str, symbol: str, level: str) -> WatchEntry | None:
    """The user's series of this market that stores `level`: the one of that timeframe, else the
    finest one whose pyramid holds it; None when they watch none (a bookmark then adds one)."""
    fits = [
        e
        for e in watchlist(runtime, user_id)
        if (e.exchange, e.symbol) == (exchange, symbol) and level in stored_levels(e.timeframe)
    ]
    exact = [e for e in fits if e.timeframe == level]
    return (exact or sorted(fits, key=lambda e: tf_ms(e.timeframe)) or [None])[0]


def candles_since(runtime: Runtime, user_id: int, series_id: int, level: str, since_ms: int) -> ChartCandles:
    """Candles at `level` opening at or after `since_ms` (the live tail of a chart), the forming
    candle included when `level` is the series' own timeframe. Empty when `level` is not a stored
    level of the series or the tail is longer than the point budget (the chart is far behind)."""
    entry = watched(runtime, user_id, series_id)
    if level not in (entry.timeframe, *levels_above(entry.timeframe)):
        return ChartCandles(level, level, False)
    now = _now(runtime, entry.exchange)
    step = tf_ms(level)
    with runtime.db.connect() as conn:
        tail = read_candles(
            conn, series_id, level, since_ms, floor_ts(now, level) + step, runtime.settings.point_budget
        )
    if tail.timeframe != level:
        return ChartCandles(level, level, False)
    forming = _forming(runtime, entry, now) if level == entry.timeframe else None
    if forming is None or forming[0] < since_ms or (tail.ts and forming[0] <= tail.ts[-1]):
        return tail
    return ChartCandles(
        level,
        level,
        False,
        [*tail.ts, int(forming[0])],
        [*tail.open, forming[1]],
        [*tail.high, forming[2]],
        [*tail.low, forming[3]],
        [*tail.close, forming[4]],
        [*tail.volume, forming[5]],
    )


def _now(runtime: Runtime, exchange: str) -> int:
    try:
        return source(runtime, exchange).milliseconds()
    except Exception:
        return time.time_ns() // 1_000_000


def _forming(runtime: Runtime, entry: WatchEntry, now: int) -> list[float] | None:
    """The candle still forming at `now`, fetched at most once per FORMING_TTL_S per series."""
    with runtime.forming_lock:
        cached = runtime.forming.get(entry.series_id)
        if cached is not None and time.monotonic() - cached[0] < FORMING_TTL_S:
            return cached[1]
    opens = floor_ts(now, entry.timeframe)
    try:
        page = source(runtime, entry.exchange).fetch_ohlcv(entry.symbol, entry.timeframe, opens, 2)
        row = next((list(map(float, c)) for c in page if int(c[0]) == opens), None)
    except Exception as exc:  # the live tail is a nicety; stored candles still arrive
        log.debug("forming candle of %s %s unavailable: %s", entry.exchange, entry.symbol, exc)
        row = None
    with runtime.forming_lock:
        runtime.forming[entry.series_id] = (time.monotonic(), row)
    return row


def drawings(runtime: Runtime, user_id: int, series_id: int) -> list[dict[str, Any]]:
    with runtime.sessions() as session:
        return load_drawings(session, user_id, series_id)


def keep_drawings(runtime: Runtime, user_id: int, series_id: int, shapes: list[dict[str, Any]]) -> list[dict]:
    """Save the drawings (engine.market.drawings checks them) and return them as stored."""
    with runtime.sessions.begin() as session:
        save_drawings(session, user_id, series_id, shapes)
    return drawings(runtime, user_id, series_id)
