"""Candles for notebooks: one function that returns a stored series as a pandas DataFrame, needing
nothing but the database the app uses (DATABASE_URL, or the default SQLite file).

    from engine.market.api import candles_frame
    df = candles_frame("demo", "BTC/USDT", "1h", start="2024-01-01")

Also the one rule of which stored series gives a timeframe (`base_series`): the series itself, or
the finest stored series of that market whose pyramid holds it (a 1m series gives 1h candles).
"""

from __future__ import annotations

import os
import re
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from db.models import Series
from db.session import make_engine
from engine.common.timeframes import levels_above, tf_ms
from engine.config import database_url_from
from engine.runtime import Runtime

_QUERY = text(
    "SELECT ts, open, high, low, close, volume FROM candles "
    "WHERE series_id = :sid AND tf_ms = :tf AND ts >= :start AND ts < :end ORDER BY ts"
)
_PAGE = 50_000  # rows per fetch of stored_candles
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


def stored_candles(
    runtime: Runtime, exchange: str, symbol: str, timeframe: str, start_ms: int, end_ms: int
) -> np.ndarray:
    """The stored candles of (exchange, symbol) at `timeframe` with start <= open time < end, as an
    (n, 6) float array [ts, open, high, low, close, volume], oldest first (a replay's bars: read by
    the hundred thousand, so in pages from the driver's own cursor straight into numpy: a year of
    1m rows as SQLAlchemy Rows, then tuples, took 300 MB and 2 s). LookupError when no stored
    series gives that timeframe."""
    with runtime.sessions() as session:
        series = base_series(session, exchange, symbol, timeframe)
        if series is None:
            raise LookupError(f"no stored series of {exchange} {symbol} gives {timeframe} candles")
        params = {"sid": series.id, "tf": tf_ms(timeframe), "start": start_ms, "end": end_ms}
        sql = str(_QUERY)
        if session.get_bind().dialect.name != "sqlite":  # psycopg's named style; sqlite3 reads :name
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
        cursor = session.connection().connection.cursor()
        try:
            cursor.execute(sql, params)
            pages = []
            while page := cursor.fetchmany(_PAGE):
                pages.append(np.array(page, dtype=np.float64))
        finally:
            cursor.close()
    return np.concatenate(pages) if pages else np.empty((0, 6))


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
