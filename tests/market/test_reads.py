"""engine.market.reads: the level chosen for a budget, and the rows returned for it."""

from __future__ import annotations

import pytest

from engine.common.timeframes import floor_ts, tf_ms
from engine.market.reads import bucket_count, choose_level, read_candles
from engine.market.rollups import ingest_candles
from engine.runtime import Runtime
from tests.helpers.candles import DAY, MIN, T0, candles, new_series, stored

MONDAY = 1_704_067_200_000
WEEK = 7 * DAY


def test_choose_level_at_the_budget_boundary() -> None:
    assert choose_level("1m", T0, T0 + 2_000 * MIN, 2_000) == "1m"
    assert choose_level("1m", T0, T0 + 2_001 * MIN, 2_000) == "5m"
    assert choose_level("1m", T0, T0 + 10_000 * MIN, 2_000) == "5m"
    assert choose_level("1m", T0, T0 + 10_005 * MIN, 2_000) == "15m"
    assert choose_level("1m", T0, T0 + 365 * DAY, 2_000) == "12h"  # 2190 4h candles are too many
    assert choose_level("1h", T0, T0 + 30 * DAY, 1_000) == "1h"
    assert choose_level("1h", T0, T0 + 30 * DAY, 500) == "2h"
    # An unaligned range straddles one more bucket: 2000 minutes from mid-candle are 2001 candles.
    assert bucket_count("1m", T0 + 1, T0 + 2_000 * MIN + 1) == 2_001
    assert choose_level("1m", T0 + 1, T0 + 2_000 * MIN + 1, 2_000) == "5m"


def test_choose_level_beyond_the_coarsest_level_multiplies_it() -> None:
    ten_years = 3_653 * DAY
    chosen = choose_level("1m", MONDAY, MONDAY + ten_years, 100)
    assert chosen == "6w"
    assert bucket_count(chosen, MONDAY, MONDAY + ten_years) <= 100
    # No pyramid above 3d: 9d buckets would fit if aligned, but this range straddles 11 of them.
    assert choose_level("3d", T0, T0 + 30 * 3 * DAY, 10) == "12d"


def test_choose_level_rejects_a_zero_budget() -> None:
    with pytest.raises(ValueError, match="budget"):
        choose_level("1m", T0, T0 + MIN, 0)


@pytest.fixture
def ten_days(runtime: Runtime) -> int:
    sid = new_series(runtime)
    with runtime.db.begin() as conn:
        ingest_candles(conn, sid, "1m", candles(10 * 1440, start=MONDAY))
    return sid


def test_a_range_within_budget_returns_the_requested_level(runtime: Runtime, ten_days: int) -> None:
    with runtime.db.connect() as conn:
        chart = read_candles(conn, ten_days, "1m", MONDAY + 60 * MIN, MONDAY + 2_060 * MIN, budget=2_000)
    assert (chart.timeframe, chart.requested, chart.coarser) == ("1m", "1m", False)
    assert len(chart) == 2_000
    expected = stored(runtime.db, ten_days, MIN)[60:2_060]
    assert chart.ts == [r[0] for r in expected]
    assert chart.close == [r[4] for r in expected]


def test_one_more_candle_switches_to_the_next_level(runtime: Runtime, ten_days: int) -> None:
    start, end = MONDAY + 60 * MIN, MONDAY + 2_061 * MIN
    with runtime.db.connect() as conn:
        chart = read_candles(conn, ten_days, "1m", start, end, budget=2_000)
    assert (chart.timeframe, chart.coarser) == ("5m", True)
    five = [r for r in stored(runtime.db, ten_days, 5 * MIN) if start <= r[0] < end]
    assert list(zip(chart.ts, chart.open, chart.high, chart.low, chart.close, chart.volume, strict=True)) == five


def test_an_unaligned_start_includes_the_bucket_containing_it(runtime: Runtime, ten_days: int) -> None:
    start = MONDAY + DAY + 7 * MIN + 5_000
    with runtime.db.connect() as conn:
        chart = read_candles(conn, ten_days, "1m", start, start + 5 * DAY, budget=200)
    assert chart.timeframe == "1h"
    assert chart.ts[0] == floor_ts(start, "1h")
    assert len(chart) == 121


def test_beyond_the_coarsest_level_is_aggregated_in_sql(runtime: Runtime, ten_days: int) -> None:
    with runtime.db.connect() as conn:
        chart = read_candles(conn, ten_days, "1m", MONDAY, MONDAY + 10 * DAY, budget=1)
    assert chart.timeframe == "3w"  # ten days straddle two 2w buckets
    rows = stored(runtime.db, ten_days, MIN)
    assert chart.ts == [floor_ts(MONDAY, "3w")]
    assert (chart.ts[0] - MONDAY) % WEEK == 0  # multi-week buckets keep the Monday grid
    assert chart.open == [rows[0][1]]
    assert chart.close == [rows[-1][4]]
    assert chart.high == [max(r[2] for r in rows)]
    assert chart.low == [min(r[3] for r in rows)]
    assert chart.volume[0] == pytest.approx(sum(r[5] for r in rows))


def test_to_frame_and_an_empty_range(runtime: Runtime, ten_days: int) -> None:
    with runtime.db.connect() as conn:
        chart = read_candles(conn, ten_days, "1h", MONDAY, MONDAY + 3 * 3_600_000)
        empty = read_candles(conn, ten_days, "1m", MONDAY - DAY, MONDAY - DAY + MIN)
    frame = chart.to_frame()
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert str(frame.index[0]) == "2024-01-01 00:00:00+00:00"
    assert frame["close"].tolist() == chart.close
    assert len(frame) == 3
    assert (len(empty), empty.to_frame().empty) == (0, True)
    assert tf_ms(chart.timeframe) == 3_600_000


def test_until_keeps_only_the_candles_closed_by_then(runtime: Runtime, ten_days: int) -> None:
    clock = MONDAY + DAY + 10 * 60 * MIN + 32 * MIN  # a replay at Tuesday 10:32
    with runtime.db.connect() as conn:
        minutes = read_candles(conn, ten_days, "1m", MONDAY + DAY, MONDAY + 3 * DAY, until_ms=clock)
        hours = read_candles(conn, ten_days, "1h", MONDAY, MONDAY + 3 * DAY, until_ms=clock)
        ahead = read_candles(conn, ten_days, "1m", clock, clock + DAY, until_ms=clock)
    assert minutes.timeframe == "1m"
    assert minutes.ts[-1] == clock - MIN  # the 10:31 candle closed at 10:32; 10:32 is the future
    assert len(minutes) == 10 * 60 + 32
    # The 10:00 hour is still open at 10:32: its high and low would tell the future, so it is left out.
    assert hours.ts[-1] == clock - 32 * MIN - 60 * MIN
    assert all(t + 60 * MIN <= clock for t in hours.ts)
    assert len(ahead) == 0


def test_until_spends_the_budget_on_what_can_be_shown(runtime: Runtime, ten_days: int) -> None:
    clock = MONDAY + 1_000 * MIN
    with runtime.db.connect() as conn:
        # 10 days would need 5m candles; up to the clock 1,000 minutes fit the budget at 1m.
        chart = read_candles(conn, ten_days, "1m", MONDAY, MONDAY + 10 * DAY, budget=2_000, until_ms=clock)
        coarse = read_candles(conn, ten_days, "1m", MONDAY, MONDAY + 10 * DAY, budget=1, until_ms=clock + 7 * DAY)
    assert (chart.timeframe, len(chart), chart.ts[-1]) == ("1m", 1_000, clock - MIN)
    # Aggregated beyond the pyramid (2w buckets): the bucket still open at the clock is left out.
    assert coarse.timeframe.endswith("w")
    assert coarse.ts == []
