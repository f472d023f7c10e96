"""engine.market.indicators: talipp's values agree with the textbook formulas computed here
independently (pandas rolling means and standard deviations, Wilder's smoothing written out); VWAP
restarts at each UTC day; the stop-sizing ATR reads only closed stored candles."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from engine.market import api as market
from engine.market.reads import ChartCandles
from engine.market.rollups import ingest_candles
from engine.runtime import Runtime
from tests.helpers.candles import MIN, T0, candles, new_series


def columns(rows: list[tuple]) -> ChartCandles:
    ts, o, h, lo, c, v = (list(col) for col in zip(*rows, strict=True))
    return ChartCandles("1m", "1m", False, ts, o, h, lo, c, v)


def wilder(values: np.ndarray, period: int) -> list[float | None]:
    """Wilder's running mean: the first value the plain mean of `period`, then (prev*(n-1)+x)/n."""
    out: list[float | None] = [None] * (period - 1)
    mean = values[:period].mean()
    out.append(mean)
    for x in values[period:]:
        mean = (mean * (period - 1) + x) / period
        out.append(mean)
    return out


ROWS = candles(400)
BARS = columns(ROWS)
CLOSE = pd.Series(BARS.close)


def test_sma_and_bollinger_are_the_rolling_mean_and_two_population_deviations() -> None:
    sma = market.compute("sma", BARS, 20)["sma"]
    assert sma[:19] == [None] * 19
    assert np.allclose(sma[19:], CLOSE.rolling(20).mean().dropna(), rtol=0, atol=1e-9)
    bands = market.compute("bb", BARS, 20)
    width = 2 * CLOSE.rolling(20).std(ddof=0).dropna().to_numpy()
    assert np.allclose(np.array(bands["upper"][19:]) - np.array(bands["middle"][19:]), width, atol=1e-9)
    assert np.allclose(np.array(bands["middle"][19:]) - np.array(bands["lower"][19:]), width, atol=1e-9)


def test_atr_and_rsi_use_wilders_smoothing() -> None:
    high, low, close = (np.array(x) for x in (BARS.high, BARS.low, BARS.close))
    previous = np.concatenate(([close[0]], close[:-1]))
    true_range = np.maximum(high, previous) - np.minimum(low, previous)
    true_range[0] = high[0] - low[0]
    atr = market.compute("atr", BARS, 14)["atr"]
    expected = wilder(true_range, 14)
    assert atr[:13] == [None] * 13
    assert np.allclose(atr[13:], expected[13:], atol=1e-9)
    change = np.diff(close)
    gains, losses = wilder(np.maximum(change, 0), 14), wilder(np.maximum(-change, 0), 14)
    rsi = market.compute("rsi", BARS, 14)["rsi"]
    want = [100 - 100 / (1 + g / lo) for g, lo in zip(gains[13:], losses[13:], strict=True)]
    assert np.allclose(rsi[14:], want, atol=1e-9)


def test_vwap_restarts_at_each_utc_day() -> None:
    rows = candles(2 * 1440, start=T0)  # T0 is a UTC midnight
    vwap = market.compute("vwap", columns(rows))["vwap"]
    typical = [((h + lo + c) / 3, v) for _ts, _o, h, lo, c, v in rows]
    first = typical[0][0]
    assert vwap[0] == pytest.approx(first)
    assert vwap[1440] == pytest.approx(typical[1440][0])  # the second day starts afresh
    day_one = sum(p * v for p, v in typical[:1440]) / sum(v for _p, v in typical[:1440])
    assert vwap[1439] == pytest.approx(day_one)


def test_an_unknown_indicator_or_period_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown indicator 'macd'"):
        market.compute("macd", BARS)
    with pytest.raises(ValueError, match="the period must be 1 to 500"):
        market.compute("sma", BARS, 0)


def test_the_stop_sizing_atr_reads_closed_stored_candles(runtime: Runtime) -> None:
    sid = new_series(runtime, "ETH/USDT")
    rows = candles(200)
    with runtime.db.begin() as conn:
        ingest_candles(conn, sid, "1m", rows)
    now = datetime.fromtimestamp((T0 + 200 * MIN + 30_000) / 1000, UTC)  # mid-candle: the forming one is left out
    with runtime.sessions() as session:
        atr = market.latest_atr(session, "demo", "ETH/USDT", "1m", 14, now)
        assert market.latest_atr(session, "demo", "ETH/USDT", "1h", 14, now) is None  # 4 hourly candles only
        assert market.latest_atr(session, "demo", "BTC/USDT", "1m", 14, now) is None
    tail = columns(rows[-43:])  # what it reads: 3 x 14 + 1 closed candles
    assert atr == Decimal(repr(market.compute("atr", tail, 14)["atr"][-1]))
