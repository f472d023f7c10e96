"""engine.market.gaps: exact gaps from one window query, leading/trailing gaps, known holes subtracted."""

from __future__ import annotations

import numpy as np
import pytest

from db.bulk import upsert_candles
from engine.market.gaps import Gap, find_gaps, known_holes, record_hole, subtract
from engine.runtime import Runtime
from tests.helpers.candles import MIN, T0, candles, new_series


@pytest.fixture
def holed(runtime: Runtime) -> int:
    """1000 1m candles with [100, 110) and [500, 501) missing."""
    sid = new_series(runtime)
    rows = [r for i, r in enumerate(candles(1_000)) if not (100 <= i < 110 or i == 500)]
    with runtime.db.begin() as conn:
        upsert_candles(conn, sid, MIN, rows)
    return sid


def at(i: int) -> int:
    return T0 + i * MIN


def test_interior_gaps_are_found_exactly(runtime: Runtime, holed: int) -> None:
    with runtime.db.connect() as conn:
        assert find_gaps(conn, holed, "1m") == [Gap(at(100), at(110), 10), Gap(at(500), at(501), 1)]


def test_leading_and_trailing_gaps_when_bounds_are_given(runtime: Runtime, holed: int) -> None:
    with runtime.db.connect() as conn:
        gaps = find_gaps(conn, holed, "1m", at(-5), at(1_003))
        assert gaps == [
            Gap(at(-5), at(0), 5),
            Gap(at(100), at(110), 10),
            Gap(at(500), at(501), 1),
            Gap(at(1_000), at(1_003), 3),
        ]
        # Bounds inside the data only look at that range; an unaligned start rounds up to the grid.
        assert find_gaps(conn, holed, "1m", at(105) - 1, at(400)) == [Gap(at(105), at(110), 5)]
        assert find_gaps(conn, holed, "1m", at(200), at(300)) == []
        assert find_gaps(conn, holed, "1m", start_ts=at(495)) == [Gap(at(500), at(501), 1)]


def test_a_range_with_nothing_stored_is_one_gap(runtime: Runtime, holed: int) -> None:
    with runtime.db.connect() as conn:
        assert find_gaps(conn, holed, "1m", at(2_000), at(2_010)) == [Gap(at(2_000), at(2_010), 10)]
        assert find_gaps(conn, holed, "1m", at(102), at(108)) == [Gap(at(102), at(108), 6)]
        assert find_gaps(conn, holed, "5m") == []  # nothing stored at this level, no bounds: nothing to say


def test_known_holes_are_subtracted_including_partial_overlaps(runtime: Runtime, holed: int) -> None:
    with runtime.db.begin() as conn:
        record_hole(conn, holed, at(103), at(106))  # splits the 10-candle gap in two
        record_hole(conn, holed, at(500), at(501))  # covers the other exactly
        record_hole(conn, holed, at(990), at(1_010))  # overlaps the trailing gap
    with runtime.db.connect() as conn:
        assert find_gaps(conn, holed, "1m", end_ts=at(1_005)) == [Gap(at(100), at(103), 3), Gap(at(106), at(110), 4)]
        assert len(find_gaps(conn, holed, "1m", skip_known_holes=False)) == 2


def test_record_hole_is_idempotent_and_keeps_the_longer_end(runtime: Runtime) -> None:
    sid = new_series(runtime)
    with runtime.db.begin() as conn:
        record_hole(conn, sid, at(10), at(20))
        record_hole(conn, sid, at(10), at(20))
        record_hole(conn, sid, at(10), at(15))
        record_hole(conn, sid, at(30), at(30))  # empty: ignored
    with runtime.db.begin() as conn:
        record_hole(conn, sid, at(10), at(25))
        record_hole(conn, sid, at(1), at(2))
        assert known_holes(conn, sid) == [(at(1), at(2)), (at(10), at(25))]


def test_gaps_of_a_coarser_series_and_other_series_are_separate(runtime: Runtime) -> None:
    a, b = new_series(runtime, "A/USDT", "1h"), new_series(runtime, "B/USDT", "1h")
    hour = 60 * MIN
    rows = candles(48, step=hour)
    with runtime.db.begin() as conn:
        upsert_candles(conn, a, hour, rows[:10] + rows[12:])
        upsert_candles(conn, b, hour, rows)
        record_hole(conn, b, rows[10][0], rows[12][0])  # b's hole does not hide a's gap
    with runtime.db.connect() as conn:
        assert find_gaps(conn, a, "1h") == [Gap(rows[10][0], rows[12][0], 2)]
        assert find_gaps(conn, b, "1h") == []


def test_many_random_holes_are_all_found(runtime: Runtime) -> None:
    sid = new_series(runtime)
    rng = np.random.default_rng(11)
    missing = set(rng.choice(np.arange(1, 19_999), 50, replace=False).tolist())
    rows = [r for i, r in enumerate(candles(20_000)) if i not in missing]
    with runtime.db.begin() as conn:
        upsert_candles(conn, sid, MIN, rows)
    with runtime.db.connect() as conn:
        gaps = find_gaps(conn, sid, "1m")
    found = {(g.start_ts - T0) // MIN + k for g in gaps for k in range(g.missing)}
    assert found == missing


def test_subtract() -> None:
    assert subtract([(0, 10)], [(2, 4), (6, 7)]) == [(0, 2), (4, 6), (7, 10)]
    assert subtract([(0, 10), (20, 30)], [(-5, 1), (9, 21), (29, 40)]) == [(1, 9), (21, 29)]
    assert subtract([(0, 10)], [(0, 10)]) == []
    assert subtract([(0, 10)], []) == [(0, 10)]
