"""The chart read path: candles of a time range within a point budget, in one indexed query.

A request for more candles than the budget is answered from the finest stored pyramid level that
fits; when even the coarsest level does not fit, that level is aggregated further in SQL. The
result holds plain column lists, which is what a plotly Candlestick takes (and what a dcc.Store
serialises), with `to_frame()` for pandas.

A replay's chart reads `until` its clock: only candles that had closed by then, at whatever level
the budget picks (a coarser candle still open at the clock would show the future's high and low,
so it is left out, not cut).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, text

from engine.common.timeframes import bucket_offset, levels_above, tf_ms
from engine.market.rollups import AGGREGATE_SQL, bucket_bounds

_READ_SQL = text(
    "SELECT ts, open, high, low, close, volume FROM candles "
    "WHERE series_id = :sid AND tf_ms = :tf AND ts >= :lo AND ts < :hi ORDER BY ts"
)
_AGGREGATE_READ_SQL = text(f"SELECT ts, open, high, low, close, volume FROM ({AGGREGATE_SQL}) a ORDER BY ts")


@dataclass(frozen=True)
class ChartCandles:
    timeframe: str  # what the rows are
    requested: str
    coarser: bool
    ts: list[int] = field(default_factory=list)  # candle open times, ms UTC
    open: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    close: list[float] = field(default_factory=list)
    volume: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ts)

    def to_frame(self) -> pd.DataFrame:
        """OHLCV columns indexed by the candles' open time (UTC)."""
        index = pd.to_datetime(pd.Series(self.ts, dtype="int64"), unit="ms", utc=True).rename("time")
        columns = {"open": self.open, "high": self.high, "low": self.low, "close": self.close, "volume": self.volume}
        return pd.DataFrame(columns, index=pd.DatetimeIndex(index), dtype="float64")


def bucket_count(timeframe: str, start_ms: int, end_ms: int) -> int:
    """How many candles of `timeframe` overlap [start_ms, end_ms)."""
    if end_ms <= start_ms:
        return 0
    step, offset = tf_ms(timeframe), bucket_offset(timeframe)
    first = (start_ms - offset) // step
    last = (end_ms - 1 - offset) // step
    return last - first + 1


def _multiple(timeframe: str, factor: int) -> str:
    """`factor` times `timeframe` as a timeframe string, e.g. ("1w", 3) -> "3w"."""
    return f"{int(timeframe[:-1]) * factor}{timeframe[-1]}"


def choose_level(timeframe: str, start_ms: int, end_ms: int, budget: int) -> str:
    """The timeframe a chart of [start_ms, end_ms) at `timeframe` is drawn with, at most `budget` candles.

    The requested timeframe when it fits, else the finest pyramid level above it that fits, else a
    multiple of the coarsest level (e.g. "3w"), which read_candles aggregates in SQL.
    """
    if budget < 1:
        raise ValueError("the point budget must be at least 1")
    candidates = (timeframe, *levels_above(timeframe))
    for level in candidates:
        if bucket_count(level, start_ms, end_ms) <= budget:
            return level
    coarsest = candidates[-1]
    factor = -(-bucket_count(coarsest, start_ms, end_ms) // budget)
    while bucket_count(_multiple(coarsest, factor), start_ms, end_ms) > budget:
        factor += 1  # an unaligned range can straddle one more bucket than the division says
    return _multiple(coarsest, factor)


def _stored_source(requested: str, chosen: str) -> str:
    """The stored level a synthesised timeframe `chosen` is aggregated from."""
    stored = [level for level in (requested, *levels_above(requested)) if tf_ms(chosen) % tf_ms(level) == 0]
    return stored[-1]


def read_candles(
    conn: Connection,
    series_id: int,
    timeframe: str,
    start_ms: int,
    end_ms: int,
    budget: int = 2_000,
    until_ms: int | None = None,
) -> ChartCandles:
    """Candles of a series overlapping [start_ms, end_ms), at most `budget` of them; with
    `until_ms`, only those closed by then (open time + length <= until_ms).

    `timeframe` must be a stored level of the series: its own timeframe or a pyramid level above.
    """
    if until_ms is not None:
        end_ms = min(end_ms, until_ms)  # the budget is spent on the candles that can be shown
        if end_ms <= start_ms:
            return ChartCandles(timeframe, timeframe, False)
    chosen = choose_level(timeframe, start_ms, end_ms, budget)
    step = tf_ms(chosen)
    lo, hi = bucket_bounds(start_ms, end_ms, chosen)
    if chosen in (timeframe, *levels_above(timeframe)):
        top = end_ms if until_ms is None else min(end_ms, until_ms - step + 1)
        rows = conn.execute(_READ_SQL, {"sid": series_id, "tf": step, "lo": lo, "hi": top}).all()
    else:
        source = tf_ms(_stored_source(timeframe, chosen))
        params = {"sid": series_id, "src": source, "step": step, "off": bucket_offset(chosen)}
        rows = conn.execute(_AGGREGATE_READ_SQL, {**params, "lo": lo, "hi": hi}).all()
        if until_ms is not None:  # the last bucket may hold source rows after the clock
            rows = [r for r in rows if r[0] + step <= until_ms]
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(6)]
    return ChartCandles(chosen, timeframe, chosen != timeframe, *columns)
