"""engine.market.rollups: every pyramid level equals an aggregation of the 1m rows, kept in step on ingest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.common.timeframes import PYRAMID, floor_ts, levels_above, tf_ms
from engine.market.rollups import bucket_bounds, ingest_candles, refresh_rollups
from engine.runtime import Runtime
from tests.helpers.candles import DAY, MIN, T0, candles, new_series, stored

MONDAY = 1_704_067_200_000  # 2024-01-01 00:00 UTC, the Monday before T0


def expected_level(rows: list[tuple], level: str) -> list[tuple]:
    """The level computed by hand from the 1m rows: first open, max high, min low, last close, sum."""
    frame = pd.DataFrame(rows, columns=["ts", "open", "high", "low", "close", "volume"]).sort_values("ts")
    frame["bucket"] = [floor_ts(int(t), level) for t in frame["ts"]]
    grouped = frame.groupby("bucket").agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
    )
    return [(int(b), *map(float, r)) for b, r in zip(grouped.index, grouped.to_numpy(), strict=True)]


def assert_same(actual: list[tuple], expected: list[tuple]) -> None:
    assert [r[0] for r in actual] == [r[0] for r in expected]
    np.testing.assert_allclose(np.array(actual)[:, 1:], np.array(expected)[:, 1:], rtol=1e-12)


@pytest.fixture
def fifteen_days(runtime: Runtime) -> tuple[int, list[tuple]]:
    """15 days of 1m candles from a Wednesday, with 2% of them missing (at random), ingested in
    three uneven batches."""
    sid = new_series(runtime)
    rows = candles(15 * 1440)
    keep = np.random.default_rng(5).random(len(rows)) > 0.02
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    for part in (rows[:7_000], rows[7_000:7_001], rows[7_001:]):
        with runtime.db.begin() as conn:
            ingest_candles(conn, sid, "1m", part)
    return sid, rows


def test_every_level_equals_the_aggregation_of_the_1m_rows(runtime: Runtime, fifteen_days) -> None:
    sid, rows = fifteen_days
    for level in levels_above("1m"):
        assert_same(stored(runtime.db, sid, tf_ms(level)), expected_level(rows, level))


def test_weekly_buckets_start_on_monday_and_partial_buckets_are_stored(runtime: Runtime, fifteen_days) -> None:
    sid, rows = fifteen_days
    weeks = stored(runtime.db, sid, tf_ms("1w"))
    assert [w[0] for w in weeks] == [MONDAY, MONDAY + 7 * DAY, MONDAY + 14 * DAY]
    # The first week holds only Wednesday onwards: its open is the first 1m candle's open.
    assert weeks[0][1] == rows[0][1]
    assert weeks[-1][4] == rows[-1][4]
    assert weeks[-1][5] == pytest.approx(sum(r[5] for r in rows if r[0] >= MONDAY + 14 * DAY))


def test_changing_one_candle_updates_every_level_above(runtime: Runtime, fifteen_days) -> None:
    sid, rows = fifteen_days
    i = len(rows) // 2
    ts, o, h, lo, c, v = rows[i]
    spike = (ts, o, h * 3, lo, c, v + 1_000.0)
    with runtime.db.begin() as conn:
        assert ingest_candles(conn, sid, "1m", [spike]) == 1
    rows[i] = spike
    for level in levels_above("1m"):
        level_rows = stored(runtime.db, sid, tf_ms(level))
        assert_same(level_rows, expected_level(rows, level))
        bucket = next(r for r in level_rows if r[0] == floor_ts(ts, level))
        assert bucket[2] == h * 3
    # Ingesting the same rows again changes nothing and reports so.
    with runtime.db.begin() as conn:
        assert ingest_candles(conn, sid, "1m", rows[i - 5 : i + 5]) == 0


def test_a_later_ingest_completes_a_partial_bucket(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = candles(120)
    with runtime.db.begin() as conn:
        ingest_candles(conn, sid, "1m", rows[:37])
    assert stored(runtime.db, sid, tf_ms("1h"))[0][5] == pytest.approx(sum(r[5] for r in rows[:37]))
    with runtime.db.begin() as conn:
        ingest_candles(conn, sid, "1m", rows[37:])
    for level in ("5m", "15m", "1h", "1d"):
        assert_same(stored(runtime.db, sid, tf_ms(level)), expected_level(rows, level))


def test_a_coarser_series_rolls_up_only_to_its_multiples(runtime: Runtime) -> None:
    sid = new_series(runtime, timeframe="4h")
    rows = candles(6 * 20, step=tf_ms("4h"))  # 20 days of 4h candles
    with runtime.db.begin() as conn:
        ingest_candles(conn, sid, "4h", rows)
    for level in PYRAMID:
        level_rows = stored(runtime.db, sid, tf_ms(level))
        if level in ("12h", "1d", "1w"):
            assert_same(level_rows, expected_level(rows, level))
        elif level != "4h":
            assert level_rows == []


def test_refresh_rebuilds_a_range_from_the_stored_rows(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rows = candles(3 * 1440)
    with runtime.db.begin() as conn:
        ingest_candles(conn, sid, "1m", rows)
        conn.exec_driver_sql(f"DELETE FROM candles WHERE series_id = {sid} AND tf_ms <> {MIN}")
        refresh_rollups(conn, sid, "1m", T0 + DAY, T0 + DAY + 1)  # one minute: its buckets only
    assert [r[0] for r in stored(runtime.db, sid, tf_ms("1d"))] == [T0 + DAY]
    assert [r[0] for r in stored(runtime.db, sid, tf_ms("5m"))] == [T0 + DAY]
    with runtime.db.begin() as conn:
        refresh_rollups(conn, sid, "1m", T0, T0 + 3 * DAY)
    for level in levels_above("1m"):
        assert_same(stored(runtime.db, sid, tf_ms(level)), expected_level(rows, level))


def test_bucket_bounds() -> None:
    assert bucket_bounds(T0 + 7 * MIN, T0 + 8 * MIN, "5m") == (T0 + 5 * MIN, T0 + 10 * MIN)
    assert bucket_bounds(T0, T0 + 10 * MIN, "5m") == (T0, T0 + 10 * MIN)
    assert bucket_bounds(T0, T0 + 1, "1w") == (MONDAY, MONDAY + 7 * DAY)
