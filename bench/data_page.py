"""Bench: the data page's inventory of 1,000 series (300 1m candles each, with their pyramid and a
gap apiece), against the naive way: GROUP BY over the candles for first/last/rows per level plus
a gap scan (engine.market.gaps) of every series.

Ours: `engine.market.api.inventory`, three queries over the summary tables kept on ingest. The
last line is baseline p95 / ours p95.

    .venv/bin/python -m bench.data_page [--quick]      (--quick: 200 series)
"""

from __future__ import annotations

import sys

from sqlalchemy import text

from bench._common import (
    database_label,
    make_series,
    parse_args,
    percentiles,
    print_ratio,
    scratch_engine,
    synthetic_candles,
)
from engine.market.api import find_gaps, ingest_candles, inventory

TARGET_MS = 300.0
CANDLES = 300
_NAIVE = text("SELECT series_id, tf_ms, MIN(ts), MAX(ts), COUNT(*) FROM candles GROUP BY series_id, tf_ms")


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    count = 200 if args.quick else 1_000
    with scratch_engine() as engine:
        # The series first: make_series writes on its own connection, which SQLite would lock out.
        ids = [make_series(engine, symbol=f"S{n:04d}/USDT") for n in range(count)]
        keep = [i for i in range(CANDLES) if not 100 <= i < 110]  # a 10-candle hole in each
        with engine.begin() as conn:
            for n, sid in enumerate(ids):
                ingest_candles(conn, sid, "1m", synthetic_candles(CANDLES, seed=n)[keep])

        def ours() -> object:
            with engine.connect() as conn:
                return inventory(conn)

        def naive() -> object:
            with engine.connect() as conn:
                levels = conn.execute(_NAIVE).all()
                gaps = [find_gaps(conn, sid, "1m") for sid in ids]
            return levels, gaps

        assert len(ours()) == count
        assert all(s.own is not None and s.own.missing == 10 for s in ours())  # type: ignore[attr-defined]
        repeat = 10 if args.quick else 20
        ours_p50, ours_p95 = percentiles(ours, repeat)
        base_p50, base_p95 = percentiles(naive, 3 if args.quick else 5)
        print(f"database: {database_label(engine)}; {count} series x {CANDLES} candles (+ pyramid)")
        print(
            f"inventory (summary): p50 {ours_p50 * 1000:.1f} ms, p95 {ours_p95 * 1000:.1f} ms (target {TARGET_MS:.0f})"
        )
        print(f"baseline (GROUP BY + gap scan): p50 {base_p50 * 1000:.1f} ms, p95 {base_p95 * 1000:.1f} ms")
        print_ratio(base_p95, ours_p95)
        return 0 if ours_p95 * 1000 <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
