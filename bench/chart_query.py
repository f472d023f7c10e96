"""Bench: chart reads at a 2000-point budget (engine.market.reads) against loading the raw 1m rows
into pandas and resampling them to the same timeframe.

One year of 1m candles (quick: 60 days) is stored with its rollups, then the whole span, its last
month and its last day are read. The last line is the whole-span speed-up (baseline p50 / ours p50).

    .venv/bin/python -m bench.chart_query [--quick]
"""

from __future__ import annotations

import sys

import pandas as pd
from sqlalchemy import Engine, text

from bench._common import (
    MINUTE,
    T0,
    database_label,
    make_series,
    parse_args,
    percentiles,
    print_ratio,
    scratch_engine,
    synthetic_candles,
    timed,
)
from engine.common.timeframes import bucket_offset, tf_ms
from engine.market.api import ingest_candles, read_candles

DAY = 1_440 * MINUTE
BUDGET = 2_000
_RAW_SQL = text(
    "SELECT ts, open, high, low, close, volume FROM candles "
    "WHERE series_id = :sid AND tf_ms = :tf AND ts >= :lo AND ts < :hi ORDER BY ts"
)


def baseline(engine: Engine, series_id: int, start: int, end: int, timeframe: str) -> pd.DataFrame:
    """What a chart would do without the pyramid: every 1m row into pandas, resampled."""
    with engine.connect() as conn:
        frame = pd.read_sql(_RAW_SQL, conn, params={"sid": series_id, "tf": MINUTE, "lo": start, "hi": end})
    frame.index = pd.to_datetime(frame.pop("ts"), unit="ms", utc=True)
    origin = pd.Timestamp(bucket_offset(timeframe), unit="ms", tz="UTC")
    rule = f"{tf_ms(timeframe) // MINUTE}min"
    resampled = frame.resample(rule, origin=origin, label="left", closed="left")
    return resampled.agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    days = 60 if args.quick else 365
    repeat = 20 if args.quick else 50
    with scratch_engine() as engine:
        print(f"database: {database_label(engine)}")
        series_id = make_series(engine)
        arr = synthetic_candles(days * DAY // MINUTE)

        def store() -> None:
            with engine.begin() as conn:
                ingest_candles(conn, series_id, "1m", arr)

        print(f"stored {len(arr):,} 1m candles with rollups in {timed(store):.1f} s")
        end = T0 + days * DAY
        ranges = {f"{days} days": (T0, end), "30 days": (end - 30 * DAY, end), "1 day": (end - DAY, end)}
        ratios = {}
        for label, (start, stop) in ranges.items():

            def ours(start: int = start, stop: int = stop) -> int:
                with engine.connect() as conn:
                    return len(read_candles(conn, series_id, "1m", start, stop, BUDGET))

            with engine.connect() as conn:
                chart = read_candles(conn, series_id, "1m", start, stop, BUDGET)
            p50, p95 = percentiles(ours, repeat)
            b50, b95 = percentiles(lambda s=start, e=stop, tf=chart.timeframe: baseline(engine, series_id, s, e, tf), 5)
            ratios[label] = (b50, p50)
            print(
                f"{label:>8}: {len(chart):>5} x {chart.timeframe:<4}"
                f" ours p50 {p50 * 1e3:7.1f} ms p95 {p95 * 1e3:7.1f} ms"
                f" | pandas baseline p50 {b50 * 1e3:8.1f} ms p95 {b95 * 1e3:8.1f} ms | {b50 / p50:6.1f}x"
            )
        first = next(iter(ranges))
        print_ratio(*ratios[first])


if __name__ == "__main__":
    sys.exit(main())
