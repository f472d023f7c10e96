"""Candles for notebooks: one function that returns a stored series as a pandas DataFrame, needing
nothing but the database the app uses (DATABASE_URL, or the default SQLite file).

    from engine.market.api import candles_frame
    df = candles_frame("demo", "BTC/USDT", "1h", start="2024-01-01")

Also the one rule of which stored series gives a timeframe (`base_series`): the series itself, or
the finest stored series of that market whose pyramid holds it (a 1m series gives 1h candles).
"""

from __future__ import annotations

import os
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from db.models import Series
from db.session import make_engine
from engine.common.timeframes import levels_above, tf_ms
from engine.config import database_url_from

_QUERY = text(
    "SELECT ts, open, high, low, close, volume FROM candles "
    "WHERE series_id = :sid AND tf_ms = :tf AND ts >= :start AND ts < :end ORDER BY ts"
)
TimeLike = datetime | pd.Timestamp | str | int | None


def base_series(session: Session, exchange: str, symbol: str, timeframe: str) -> Series | None:
    """The stored series holding `timeframe` candles of (exchange, symbol), or None."""
    tf_ms(timeframe)  # validates it
    stored = session.scalars(select(Series).where(Series.exchange == exchange, Series.symbol == symbol)).all()
    candidates = [s for s in stored if timeframe in (s.timeframe, *levels_above(s.timeframe))]
    return min(candidates, key=lambda s: tf_ms(s.timeframe)) if candidates else None


def to_ms(value: TimeLike) -> int | None:
    """A time as epoch milliseconds: ints are taken as milliseconds, naive times as UTC."""
    if value is None or isinstance(value, int):
        return value
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000_000)


def read_frame(
    conn: Connection, series_id: int, timeframe: str, start_ms: int | None, end_ms: int | None
) -> pd.DataFrame:
    params = {"sid": series_id, "tf": tf_ms(timeframe), "start": start_ms or 0, "end": end_ms or 2**62}
    frame = pd.read_sql(_QUERY, conn, params=params)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("ts"), unit="ms", utc=True), name="time")
    return frame.astype("float64")


def candles_frame(
    exchange: str,
    symbol: str,
    timeframe: str,
    start: TimeLike = None,
    end: TimeLike = None,
    database_url: str | None = None,
) -> pd.DataFrame:
    """The stored candles of (exchange, symbol) at `timeframe` (the series' own timeframe or any
    pyramid level above it), [start, end), oldest first.

    Index: a UTC DatetimeIndex of the candles' open times, named `time`. Columns open, high, low,
    close, volume as float64: candles are stored as doubles (market data read by the million; money
    in accounts is the Decimal side), so floats are exactly what is stored, and numpy, pandas and
    plotting libraries want them. `start`/`end`: datetimes, pandas Timestamps, ISO strings (naive
    means UTC) or epoch milliseconds. `database_url` defaults to what the app uses. LookupError when
    no stored series gives that timeframe.
    """
    engine = make_engine(database_url or database_url_from(os.environ))
    try:
        with Session(engine) as session:
            series = base_series(session, exchange, symbol, timeframe)
            if series is None:
                raise LookupError(f"no stored series of {exchange} {symbol} gives {timeframe} candles")
            return read_frame(session.connection(), series.id, timeframe, to_ms(start), to_ms(end))
    finally:
        engine.dispose()
