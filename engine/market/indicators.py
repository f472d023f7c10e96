"""Technical indicators of stored candles, computed by talipp (a maintained library of incremental
indicators, so a live candle can later be added without recomputing the window): SMA, EMA,
Bollinger bands, RSI, ATR and a daily-anchored VWAP, each described once in INDICATORS.

Pure functions over candle columns plus `latest_atr`, which reads the closed candles of a stored
series for the places that size a stop in ATR multiples (the webhook's templates, the form's
suggestion). ATR and RSI use Wilder's smoothing, as TradingView's defaults do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from talipp.indicators import ATR, BB, EMA, RSI, SMA, VWAP
from talipp.ohlcv import OHLCV

from engine.common.timeframes import tf_ms
from engine.market.frame import base_series
from engine.market.reads import ChartCandles, read_candles

Values = list[float | None]  # one per candle; None while the indicator warms up
Lines = Callable[[ChartCandles, int, float], dict[str, Values]]  # (candles, period, width) -> lines


def _bars(candles: ChartCandles) -> list[OHLCV]:
    columns = (candles.open, candles.high, candles.low, candles.close, candles.volume)
    return [OHLCV(o, h, lo, c, v) for o, h, lo, c, v in zip(*columns, strict=True)]


@dataclass(frozen=True)
class Indicator:
    label: str
    period: int | None  # the default period (None: none, as VWAP)
    compute: Lines


def _one(line: str, build: Callable[[ChartCandles, int], Any]) -> Lines:
    return lambda candles, period, _width: {line: _floats(build(candles, period))}


def _floats(values: Any) -> Values:
    return [None if v is None else float(v) for v in values]


def _bollinger(candles: ChartCandles, period: int, width: float) -> dict[str, Values]:
    bands = list(BB(period, width, input_values=list(candles.close)))
    return {
        "lower": [None if b is None else b.lb for b in bands],
        "middle": [None if b is None else b.cb for b in bands],
        "upper": [None if b is None else b.ub for b in bands],
    }


def _daily_vwap(candles: ChartCandles, _period: int, _width: float) -> dict[str, Values]:
    """VWAP anchored at each UTC day's start (TradingView's session VWAP for 24/7 markets)."""
    out: Values = []
    bars, day, vwap = _bars(candles), None, None
    for ts, bar in zip(candles.ts, bars, strict=True):
        if ts // 86_400_000 != day:
            day, vwap = ts // 86_400_000, VWAP()
        assert vwap is not None
        vwap.add(bar)
        out.append(None if vwap[-1] is None else float(vwap[-1]))
    return {"vwap": out}


INDICATORS: dict[str, Indicator] = {
    "sma": Indicator("SMA", 20, _one("sma", lambda c, n: SMA(n, input_values=list(c.close)))),
    "ema": Indicator("EMA", 20, _one("ema", lambda c, n: EMA(n, input_values=list(c.close)))),
    "bb": Indicator("Bollinger", 20, _bollinger),
    "vwap": Indicator("VWAP (daily)", None, _daily_vwap),
    "rsi": Indicator("RSI", 14, _one("rsi", lambda c, n: RSI(n, input_values=list(c.close)))),
    "atr": Indicator("ATR", 14, _one("atr", lambda c, n: ATR(n, input_values=_bars(c)))),
}
MAX_PERIOD = 500
BAND_WIDTH = 2.0  # Bollinger's default width in standard deviations
MAX_WIDTH = 10.0


def compute(
    name: str, candles: ChartCandles, period: int | None = None, width: float | None = None
) -> dict[str, Values]:
    """The indicator `name` over `candles` (its default period unless given; `width`: Bollinger's
    in standard deviations, 2 unless given); ValueError for an unknown name, a period out of
    1..MAX_PERIOD or a width out of (0, MAX_WIDTH]."""
    found = INDICATORS.get(name)
    if found is None:
        raise ValueError(f"unknown indicator {name!r}: one of {', '.join(INDICATORS)}")
    chosen = period if period is not None else found.period or 0
    if found.period is not None and not 1 <= chosen <= MAX_PERIOD:
        raise ValueError(f"{found.label}: the period must be 1 to {MAX_PERIOD}, not {chosen}")
    band = BAND_WIDTH if width is None else width
    if not 0 < band <= MAX_WIDTH:
        raise ValueError(f"{found.label}: the width must be above 0 and at most {MAX_WIDTH:g}, not {band:g}")
    return found.compute(candles, chosen, band)


def latest_atr(
    session: Session, exchange: str, symbol: str, timeframe: str, period: int, now: datetime | None = None
) -> Decimal | None:
    """ATR(`period`) of the last closed `timeframe` candles stored for (exchange, symbol), or None
    when fewer than period + 1 of them are stored (the caller says what to watch)."""
    series = base_series(session, exchange, symbol, timeframe)
    if series is None:
        return None
    step = tf_ms(timeframe)
    end = int((now or datetime.now(UTC)).timestamp() * 1000) // step * step  # closed candles only
    need = 3 * period + 1  # Wilder's smoothing settles over a few periods
    read = read_candles(session.connection(), series.id, timeframe, end - need * step, end, need + 1)
    if read.timeframe != timeframe or len(read.close) < period + 1:
        return None
    values = compute("atr", read, period)["atr"]
    return None if values[-1] is None else Decimal(repr(values[-1]))
