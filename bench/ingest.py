"""Bench: writing 1m candles through the bulk path (db.bulk) against the naive ORM baseline.

Measures new rows, a re-ingest of the same rows (deduplicated: nothing rewritten) and, separately,
the rollup refresh of the whole pyramid over them. The last line is the new-row speed-up.

    .venv/bin/python -m bench.ingest [--quick]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB .venv/bin/python -m bench.ingest
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import Engine

from bench._common import (
    MINUTE,
    as_rows,
    database_label,
    make_series,
    print_ratio,
    scratch_engine,
    synthetic_candles,
    timed,
)
from db.bulk import upsert_candles
from db.models import Candle
from db.session import make_session_factory
from engine.market.api import refresh_rollups


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 candles instead of 1,000,000")
    return parser.parse_args()


def report(label: str, rows: int, seconds: float) -> None:
    print(f"{label:<34} {rows:>9,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s")


def orm_baseline(engine: Engine, rows: list[tuple]) -> float:
    series_id = make_series(engine, symbol="ORM/USDT")
    factory = make_session_factory(engine)

    def write() -> None:
        with factory() as session:
            session.add_all(
                [
                    Candle(series_id=series_id, tf_ms=MINUTE, ts=ts, open=o, high=h, low=lo, close=c, volume=v)
                    for ts, o, h, lo, c, v in rows
                ]
            )
            session.commit()

    return timed(write)


def main() -> None:
    args = parse_args()
    count = 100_000 if args.quick else 1_000_000
    with scratch_engine() as engine:
        print(f"database: {database_label(engine)}")
        rows = as_rows(synthetic_candles(count))
        series_id = make_series(engine)
        first, end = rows[0][0], rows[-1][0] + MINUTE

        def upsert() -> None:
            with engine.begin() as conn:
                upsert_candles(conn, series_id, MINUTE, rows)

        def rollups() -> None:
            with engine.begin() as conn:
                refresh_rollups(conn, series_id, "1m", first, end)

        new = timed(upsert)
        report("bulk upsert, new rows", count, new)
        dedup = timed(upsert)
        report("bulk upsert, same rows again", count, dedup)
        rollup = timed(rollups)
        report("rollup refresh (9 levels) of them", count, rollup)
        baseline = orm_baseline(engine, rows)
        report("ORM add_all + commit (baseline)", count, baseline)
        print(f"speed-up, new rows: {baseline / new:.1f}x; re-ingest: {baseline / dedup:.1f}x")
        print_ratio(baseline, new)


if __name__ == "__main__":
    sys.exit(main())
