"""Chart reads at another stored level of a watched series (the one-click timeframes), and the
series a bookmark opens: the user's own, of that timeframe first, else one whose pyramid holds it."""

from __future__ import annotations

import pytest

from db.enums import Role
from engine.exchanges.demo import DemoExchange
from engine.market import chart as charts
from engine.runtime import Runtime
from tests.helpers.dashboard import NOW, make_user, watch_backfilled


@pytest.fixture
def watching(runtime: Runtime) -> dict[str, int]:
    runtime.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    user = make_user(runtime, "reader", Role.ANALYST)
    other = make_user(runtime, "other", Role.ANALYST)
    series = watch_backfilled(runtime, user.id)
    return {"user": user.id, "other": other.id, "series": series.id}


def test_a_watched_series_is_read_at_any_level_it_stores_and_refused_at_others(
    runtime: Runtime, watching: dict[str, int]
) -> None:
    user, series = watching["user"], watching["series"]
    window = charts.recent_window(runtime, user, series, 10, "15m")
    assert window is not None
    assert window.end_ms - window.start_ms == 10 * 900_000
    candles = charts.chart_candles(runtime, user, series, window.start_ms, window.end_ms, "15m")
    assert candles.timeframe == "15m"
    assert 0 < len(candles) <= 11
    assert all(ts % 900_000 == 0 for ts in candles.ts)
    with pytest.raises(ValueError, match="not a stored level"):
        charts.chart_candles(runtime, user, series, window.start_ms, window.end_ms, "7m")
    with pytest.raises(charts.NotWatchedError):
        charts.chart_candles(runtime, watching["other"], series, window.start_ms, window.end_ms, "15m")


def test_a_bookmark_finds_the_users_series_that_stores_its_timeframe(
    runtime: Runtime, watching: dict[str, int]
) -> None:
    user = watching["user"]
    found = charts.find_watched(runtime, user, "demo", "BTC/USDT", "1h")
    assert found is not None
    assert (found.series_id, found.timeframe) == (watching["series"], "1m")
    assert charts.find_watched(runtime, user, "demo", "ETH/USDT", "1h") is None
    assert charts.find_watched(runtime, watching["other"], "demo", "BTC/USDT", "1m") is None
    hourly = watch_backfilled(runtime, user, timeframe="1h")
    exact = charts.find_watched(runtime, user, "demo", "BTC/USDT", "1h")
    assert exact is not None
    assert exact.series_id == hourly.id  # its own timeframe first


def test_a_markets_ticks_are_read_for_the_readout(runtime: Runtime, watching: dict[str, int]) -> None:
    ticks = charts.market_ticks(runtime, "demo", "BTC/USDT")
    assert ticks.price is not None
    assert charts.market_ticks(runtime, "demo", "NOPE/USDT") == charts.Ticks()


def test_window_candles_read_what_the_recent_window_then_the_chart_read_give(
    runtime: Runtime, watching: dict[str, int]
) -> None:
    user, series = watching["user"], watching["series"]
    window = charts.recent_window(runtime, user, series)
    assert window is not None
    assert charts.window_candles(runtime, user, series) == charts.chart_candles(
        runtime, user, series, window.start_ms, window.end_ms
    )
    start, end = window.end_ms - 600_000, window.end_ms - 120_000
    ranged = charts.window_candles(runtime, user, series, start, end)
    assert ranged == charts.chart_candles(runtime, user, series, start, end)
    assert ranged is not None
    assert len(ranged) == 8
    with pytest.raises(charts.NotWatchedError):
        charts.window_candles(runtime, watching["other"], series)
    empty = make_user(runtime, "empty", Role.ANALYST)
    unfilled = charts.jobs.watch(runtime, empty.id, "demo", "ETH/USDT", "1m")  # watched, nothing stored
    assert charts.window_candles(runtime, empty.id, unfilled.id) is None
