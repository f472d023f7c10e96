"""Helpers shared by the candle store tests (bulk, rollups, chart reads, gaps)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine, text

from db.models import Series
from engine.runtime import Runtime

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
# 2024-01-03 00:00 UTC, a Wednesday: a weekly bucket starts inside the data, not at its first row.
T0 = 1_704_240_000_000


def new_series(runtime: Runtime, symbol: str = "BTC/USDT", timeframe: str = "1m") -> int:
    with runtime.sessions.begin() as session:
        series = Series(exchange="demo", symbol=symbol, timeframe=timeframe)
        session.add(series)
        session.flush()
        return series.id


def candles(count: int, start: int = T0, step: int = MIN, seed: int = 3) -> list[tuple]:
    """Plausible OHLCV rows (tuples with an int ts) on the grid."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.002, count)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.001, count)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.001, count)))
    volume = rng.gamma(2.0, 3.0, count)
    return [
        (start + i * step, float(o), float(h), float(lo), float(c), float(v))
        for i, (o, h, lo, c, v) in enumerate(zip(open_, high, low, close, volume, strict=True))
    ]


def stored(db: Engine, series_id: int, tf_ms: int) -> list[tuple]:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ts, open, high, low, close, volume FROM candles "
                "WHERE series_id = :sid AND tf_ms = :tf ORDER BY ts"
            ),
            {"sid": series_id, "tf": tf_ms},
        ).all()
    return [tuple(r) for r in rows]
