"""What the conditions look at: the last price and the closed candles of the stored pyramid.

The last price is the newest stored close of the condition's watched series (fetched every minute
by the scheduler), else the sync tick's TradingState.last_prices. Not the other way round: the
sync tick refreshes a symbol's last price only while a block on it is live, so after the block
ends its entry there is stale, while a watched series keeps being fetched. `market_price` is the
same reading for a market (price alerts, engine.alerts, use it: one price source for both), and
`highs_lows` the highs and lows of a watched series' candles since a time (an alert fires on a
wick that came and went between two checks)."""

from __future__ import annotations

from decimal import Decimal

from db.models import BlockCondition
from engine.common.precision import to_decimal
from engine.common.timeframes import tf_ms
from engine.market import api as market
from engine.runtime import Runtime

# The candles read back per check: more than a restart or a slow exchange leaves unread.
LOOKBACK = 500


def _stored_end(runtime: Runtime, user_id: int, series_id: int) -> tuple[str, int] | None:
    """(the series' timeframe, the end of its newest stored candle), or None."""
    try:
        entry = market.watched(runtime, user_id, series_id)
        window = market.stored_window(runtime, user_id, series_id)
    except market.NotWatchedError:
        return None
    return None if window is None else (entry.timeframe, window.end_ms)


def last_price(runtime: Runtime, user_id: int, c: BlockCondition) -> Decimal | None:
    return market_price(runtime, user_id, c.series_id, c.exchange, c.symbol)


def market_price(
    runtime: Runtime, user_id: int, series_id: int | None, exchange: str | None, symbol: str | None
) -> Decimal | None:
    """The last price of a market: the newest stored close of the user's watched `series_id`, else
    the sync tick's last price of (exchange, symbol); None when neither is known. Price alerts
    (engine.alerts) read it too."""
    stored = _stored_end(runtime, user_id, series_id) if series_id is not None else None
    if series_id is not None and stored is not None:
        timeframe, end = stored
        with runtime.db.connect() as conn:
            newest = market.read_candles(conn, series_id, timeframe, end - tf_ms(timeframe), end, 2)
        if newest.close:
            return to_decimal(newest.close[-1])
    if exchange is None or symbol is None:
        return None
    return runtime.trading.last_prices.get((exchange, symbol))


def closes_since(runtime: Runtime, user_id: int, c: BlockCondition) -> list[Decimal]:
    """Closes of the candles at the condition's timeframe that closed after it was armed: a candle
    is closed once the series holds its last base candle (the stored pyramid's forming bucket is
    never read)."""
    if c.series_id is None or c.timeframe is None or (stored := _stored_end(runtime, user_id, c.series_id)) is None:
        return []
    _own, end = stored
    step = tf_ms(c.timeframe)
    start = max((c.armed_at_ms or 0) - step + 1, end - LOOKBACK * step)
    with runtime.db.connect() as conn:
        read = market.read_candles(conn, c.series_id, c.timeframe, start, end, LOOKBACK + 1)
    if read.timeframe != c.timeframe:
        return []
    armed = c.armed_at_ms or 0
    return [
        to_decimal(close)
        for ts, close in zip(read.ts, read.close, strict=True)
        if ts + step <= end and ts + step > armed
    ]


def candles_end(runtime: Runtime, user_id: int, series_id: int | None) -> int | None:
    """The end of the newest stored candle of the user's watched `series_id` (the open time of the
    next one), or None: a candle opening then or later opened after this moment's reading."""
    stored = _stored_end(runtime, user_id, series_id) if series_id is not None else None
    return None if stored is None else stored[1]


def highs_lows(runtime: Runtime, user_id: int, series_id: int, from_ms: int) -> list[tuple[int, Decimal, Decimal]]:
    """(open time, high, low) of the watched series' candles opened at `from_ms` or later, the
    newest LOOKBACK of them (the checks run every few seconds: older ones were read before); empty
    when there are none or the series is no longer watched."""
    if (stored := _stored_end(runtime, user_id, series_id)) is None:
        return []
    timeframe, end = stored
    start = max(from_ms, end - LOOKBACK * tf_ms(timeframe))
    if start >= end:
        return []
    with runtime.db.connect() as conn:
        read = market.read_candles(conn, series_id, timeframe, start, end, LOOKBACK + 1)
    if read.timeframe != timeframe:
        return []
    rows = zip(read.ts, read.high, read.low, strict=True)
    return [(ts, to_decimal(h), to_decimal(lo)) for ts, h, lo in rows if ts >= from_ms]
