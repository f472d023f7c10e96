"""Bench: gap detection (engine.market.gaps, one window query) over a 1m series with 100 random holes,
against loading every ts into pandas and diffing in Python. Both must find exactly the holes; the
bench exits non-zero otherwise. The last line is the speed-up (baseline p50 / ours p50).

    .venv/bin/python -m bench.gaps [--quick]
"""

from __future__ import annotations

import sys

import numpy as np
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
from db.bulk import upsert_candles
from engine.market.api import find_gaps

HOLES = 100
TARGET_S = 1.0


def random_holes(count: int, seed: int = 9) -> list[tuple[int, int]]:
    """HOLES non-adjacent [start, end) index intervals of 1..30 candles, inside (0, count)."""
    rng = np.random.default_rng(seed)
    slot = count // HOLES
    holes = []
    for i in range(HOLES):
        length = int(rng.integers(1, 31))
        start = i * slot + 1 + int(rng.integers(0, slot - length - 2))
        holes.append((start, start + length))
    return holes


def pandas_gaps(engine: Engine, series_id: int) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        ts = pd.read_sql(
            text("SELECT ts FROM candles WHERE series_id = :sid AND tf_ms = :tf ORDER BY ts"),
            conn,
            params={"sid": series_id, "tf": MINUTE},
        )["ts"].to_numpy()
    jumps = np.flatnonzero(np.diff(ts) > MINUTE)
    return [(int(ts[i]) + MINUTE, int(ts[i + 1])) for i in jumps]


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    count = 100_000 if args.quick else 1_000_000
    holes = random_holes(count)
    expected = [(T0 + a * MINUTE, T0 + b * MINUTE) for a, b in holes]
    with scratch_engine() as engine:
        print(f"database: {database_label(engine)}")
        series_id = make_series(engine)
        arr = synthetic_candles(count)
        keep = np.ones(count, dtype=bool)
        for a, b in holes:
            keep[a:b] = False
        with engine.begin() as conn:
            upsert_candles(conn, series_id, MINUTE, arr[keep])
        with engine.begin() as conn:
            conn.execute(text("ANALYZE candles" if engine.dialect.name == "postgresql" else "ANALYZE"))
        print(f"stored {int(keep.sum()):,} 1m candles with {HOLES} holes ({count - int(keep.sum()):,} missing)")

        def ours() -> list[tuple[int, int]]:
            with engine.connect() as conn:
                return [(g.start_ts, g.end_ts) for g in find_gaps(conn, series_id, "1m")]

        ok = ours() == expected and pandas_gaps(engine, series_id) == expected
        first_call = timed(ours)
        p50, p95 = percentiles(ours, 10)
        b50, b95 = percentiles(lambda: pandas_gaps(engine, series_id), 5)
        print(f"find_gaps: first {first_call * 1e3:.0f} ms, p50 {p50 * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms")
        print(f"pandas baseline:          p50 {b50 * 1e3:.0f} ms, p95 {b95 * 1e3:.0f} ms")
        print(f"exactly the {HOLES} holes found: {ok}; target p95 < {TARGET_S:.0f} s met: {p95 < TARGET_S}")
        print_ratio(b50, p50)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
