"""The candle pyramid: coarser levels rolled up from finer ones on ingest, aggregated in SQL.

Each level is rebuilt from the level just below it (5m from 1m, 15m from 5m, ..., 1w from 1d) by
one `INSERT ... SELECT ... GROUP BY bucket ... ON CONFLICT DO UPDATE` per level, over the buckets a
write touched only. The same SQL runs on SQLite and PostgreSQL: buckets by integer division, open
and close by joining each bucket's first and last source time back to the source rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from db.bulk import VALUE_COLUMNS, upsert_candles
from engine.common.timeframes import bucket_offset, levels_above, tf_ms
from engine.market.inventory import track_level

# Grouped source rows of one series level in [lo, hi), by bucket; open and close are looked up by
# each bucket's first and last ts. Correlated subqueries rather than joins: they are always index
# probes, whatever the planner believes about the table's size (a join planned on stale statistics
# degenerated to a nested loop of full scans). :step and :off are cast so that PostgreSQL divides
# bigints (integer division, like SQLite).
AGGREGATE_SQL = """
SELECT g.bucket AS ts,
       (SELECT o.open FROM candles o WHERE o.series_id = :sid AND o.tf_ms = :src AND o.ts = g.first_ts) AS open,
       g.high AS high, g.low AS low,
       (SELECT c.close FROM candles c WHERE c.series_id = :sid AND c.tf_ms = :src AND c.ts = g.last_ts) AS close,
       g.volume AS volume
FROM (
    SELECT (ts - CAST(:off AS BIGINT)) / CAST(:step AS BIGINT) * CAST(:step AS BIGINT) + CAST(:off AS BIGINT)
               AS bucket,
           MIN(ts) AS first_ts, MAX(ts) AS last_ts, MAX(high) AS high, MIN(low) AS low, SUM(volume) AS volume
    FROM candles
    WHERE series_id = :sid AND tf_ms = :src AND ts >= :lo AND ts < :hi
    GROUP BY bucket
) g
"""

_COLS = ", ".join(VALUE_COLUMNS)
# WHERE true: SQLite needs it to parse an upsert after a SELECT with joins.
_REFRESH_SQL = f"""
INSERT INTO candles (series_id, tf_ms, ts, {_COLS})
SELECT :sid, :dst, a.ts, a.open, a.high, a.low, a.close, a.volume FROM ({AGGREGATE_SQL}) a WHERE true
ON CONFLICT (series_id, tf_ms, ts) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in VALUE_COLUMNS)}
WHERE {" OR ".join(f"candles.{c} IS DISTINCT FROM excluded.{c}" for c in VALUE_COLUMNS)}
"""


def bucket_bounds(start_ts: int, end_ts: int, timeframe: str) -> tuple[int, int]:
    """[first bucket start, last bucket end) of `timeframe` covering [start_ts, end_ts)."""
    step, offset = tf_ms(timeframe), bucket_offset(timeframe)
    lo = (start_ts - offset) // step * step + offset
    hi = (end_ts - 1 - offset) // step * step + offset + step
    return lo, hi


def refresh_rollups(conn: Connection, series_id: int, timeframe: str, start_ts: int, end_ts: int) -> None:
    """Recompute every pyramid level above `timeframe` for the buckets overlapping [start_ts, end_ts).

    Cascades upwards, each level from the one below, in the caller's transaction. A bucket whose
    source rows are partial (the latest one, say) is stored partial and recomputed by the next call.
    """
    if end_ts <= start_ts:
        return
    source = timeframe
    for level in levels_above(timeframe):
        lo, hi = bucket_bounds(start_ts, end_ts, level)
        with track_level(conn, series_id, tf_ms(level), lo, hi):
            conn.execute(
                text(_REFRESH_SQL),
                {
                    "sid": series_id,
                    "src": tf_ms(source),
                    "dst": tf_ms(level),
                    "step": tf_ms(level),
                    "off": bucket_offset(level),
                    "lo": lo,
                    "hi": hi,
                },
            )
        source = level


def ingest_candles(conn: Connection, series_id: int, timeframe: str, rows: Sequence[Sequence[Any]] | np.ndarray) -> int:
    """Store clean rows at the series' own level and refresh the pyramid over their time range.

    Returns how many rows were inserted or changed; when none were, the rollups are left alone.
    Every level's summary (engine.market.inventory) is kept on the way.
    """
    if len(rows) == 0:
        return 0
    if isinstance(rows, np.ndarray):
        first, last = int(rows[:, 0].min()), int(rows[:, 0].max())
    else:
        first, last = int(min(r[0] for r in rows)), int(max(r[0] for r in rows))
    end = last + tf_ms(timeframe)
    with track_level(conn, series_id, tf_ms(timeframe), first, end):
        changed = upsert_candles(conn, series_id, tf_ms(timeframe), rows)
    if changed:
        refresh_rollups(conn, series_id, timeframe, first, end)
    return changed
