"""Indicators of what a chart shows: the lines of each IndicatorSpec over exactly the candles of a
chart window (same level, same open times), warmed up on the candles before it so the first value
shown is the one a longer chart would show, and the ATR a stop suggestion sizes from.

A replay's window reads `until` its clock (nothing after it); a live one adds the forming candle
the chart holds (engine.market.chart.candles_since), so a live update can send the newest values only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from engine.common.timeframes import levels_above, tf_ms
from engine.market import chart
from engine.market.chart_prefs import IndicatorSpec
from engine.market.indicators import MAX_PERIOD, Values, compute, latest_atr
from engine.market.reads import ChartCandles, bucket_count, read_candles
from engine.runtime import Runtime

DAY_MS = 86_400_000
MAX_WARM_UP = 2_000  # candles read before a window, at most


@dataclass(frozen=True)
class StudyLines:
    """One indicator over a chart window: its lines (one value per candle, None while warming up)."""

    spec: IndicatorSpec
    ts: list[int]
    lines: dict[str, Values]


def warm_up(spec: IndicatorSpec, step_ms: int, start_ms: int) -> int:
    """How many candles before the window the indicator needs to settle (Wilder's and the EMA's
    smoothing over ten periods; the VWAP back to its UTC day's start)."""
    if spec.name == "vwap":
        return (start_ms - start_ms // DAY_MS * DAY_MS) // step_ms
    period = spec.period or 1
    # An EMA's start is forgotten by (1 - 2/(n+1))^k, Wilder's by (1 - 1/n)^k: ten periods leave
    # less than 1e-4 of it (TradingView-like values from the first candle shown).
    return period if spec.name in ("sma", "bb") else min(10 * period + 1, MAX_WARM_UP)


def _merge(stored: ChartCandles, tail: ChartCandles) -> ChartCandles:
    """The stored candles and the newer ones of a live tail (the forming candle)."""
    newer = [i for i, ts in enumerate(tail.ts) if not stored.ts or ts > stored.ts[-1]]
    if not newer:
        return stored
    columns = ("ts", "open", "high", "low", "close", "volume")
    merged = {c: [*getattr(stored, c), *(getattr(tail, c)[i] for i in newer)] for c in columns}
    return ChartCandles(stored.timeframe, stored.requested, stored.coarser, **merged)


def chart_studies(
    runtime: Runtime,
    user_id: int,
    series_id: int,
    level: str,
    start_ms: int,
    end_ms: int,
    specs: Sequence[IndicatorSpec],
    until_ms: int | None = None,
) -> list[StudyLines]:
    """Each indicator over the candles at `level` opening in [start_ms, end_ms] (the chart's first
    and last candle), NotWatchedError unless the user watches the series. A level the series does
    not store (a coarse multiple the budget made up) is read as the chart read it, without warm-up."""
    entry = chart.watched(runtime, user_id, series_id)
    if not specs or end_ms < start_ms:
        return []
    step = tf_ms(level)
    stored_level = level in (entry.timeframe, *levels_above(entry.timeframe))
    warm = max(warm_up(s, step, start_ms) for s in specs) if stored_level else 0
    since = start_ms - warm * step
    with runtime.db.connect() as conn:
        if stored_level:  # a budget that fits: exactly this level, never a coarser one
            budget = bucket_count(level, since, end_ms + 1) + 1
            candles = read_candles(conn, series_id, level, since, end_ms + 1, budget, until_ms)
        else:
            candles = read_candles(
                conn, series_id, entry.timeframe, start_ms, end_ms + 1, runtime.settings.point_budget, until_ms
            )
    if until_ms is None and stored_level and (not candles.ts or candles.ts[-1] < end_ms):
        candles = _merge(candles, chart.candles_since(runtime, user_id, series_id, level, end_ms))
    first = next((i for i, ts in enumerate(candles.ts) if ts >= start_ms), len(candles.ts))
    shown = candles.ts[first:]
    out = []
    for spec in specs:
        lines = compute(spec.name, candles, spec.period, spec.width) if candles.ts else {}
        out.append(StudyLines(spec, shown, {name: values[first:] for name, values in lines.items()}))
    return out


def chart_atr(
    runtime: Runtime, user_id: int, series_id: int, timeframe: str, period: int, until_ms: int | None = None
) -> Decimal | None:
    """ATR(`period`) of the closed `timeframe` candles of a watched series' market up to its newest
    stored candle (a replay's clock when given), or None when too few are stored; ValueError for a
    period out of range."""
    entry = chart.watched(runtime, user_id, series_id)
    if not 1 <= period <= MAX_PERIOD:
        raise ValueError(f"the ATR period must be 1 to {MAX_PERIOD}")
    if until_ms is None:  # live: up to the newest stored candle (the store's clock, not the wall's)
        stored = chart.stored_window(runtime, user_id, series_id)
        if stored is None:
            return None
        until_ms = stored.end_ms
    now = datetime.fromtimestamp(until_ms / 1000, UTC)
    with runtime.sessions() as session:
        return latest_atr(session, entry.exchange, entry.symbol, timeframe, period, now)
