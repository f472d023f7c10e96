"""Candle jobs end to end on a real database: backfill, resume, live fetch, gap repair, cleaning.

The demo exchange runs on a fixed clock; the ccxt tests feed binance's real parsing code with
klines served at the HTTP layer (tests/ccxt_replay.py).
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from db.enums import BackfillStatus, Role
from db.models import Candle, DataHole, Series
from engine import scheduler
from engine.common.timeframes import tf_ms
from engine.exchanges.demo import DEMO_OUTAGES, DemoExchange
from engine.market import jobs
from engine.market.candles import backfill, fetch_latest, get_or_create_series, missing_intervals, repair_gaps
from engine.market.gaps import find_gaps
from engine.runtime import Runtime
from engine.users.passwords import create_user

MIN = 60_000
DAY = 86_400_000
# 2024-02-01 00:00 UTC: well inside the demo exchange's history.
T0 = 1_706_745_600_000


class CountingSource:
    """Wraps a real source to count requests and, optionally, fail one (a dropped connection)."""

    def __init__(self, inner: DemoExchange, fail_on_call: int | None = None) -> None:
        self.inner, self.calls, self.fail_on_call = inner, 0, fail_on_call
        self.id = inner.id

    def __getattr__(self, name: str):  # load_markets, timeframes, ... go straight through
        return getattr(self.inner, name)

    def fetch_ohlcv(self, symbol, timeframe, since, limit):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise ConnectionError("connection dropped")
        return self.inner.fetch_ohlcv(symbol, timeframe, since, limit)


def demo_at(now_ms: int) -> DemoExchange:
    return DemoExchange(seed=7, clock=lambda: now_ms)


def new_series(runtime: Runtime, symbol: str = "BTC/USDT", timeframe: str = "1m") -> Series:
    with runtime.sessions.begin() as session:
        return get_or_create_series(session, "demo", symbol, timeframe)


def stored_ts(runtime: Runtime, series: Series, timeframe: str | None = None) -> list[int]:
    level = tf_ms(timeframe or series.timeframe)
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(Candle.ts).where(Candle.series_id == series.id, Candle.tf_ms == level).order_by(Candle.ts)
            )
        )


def test_backfill_stores_every_closed_candle_with_rollups(runtime: Runtime) -> None:
    now = T0 + 2 * DAY + 30 * MIN + 17_000  # mid-candle: the forming candle must not be stored
    series, progress = new_series(runtime), []
    result = backfill(runtime.sessions, demo_at(now), series, T0, lambda d, t: progress.append((d, t)))
    ts = stored_ts(runtime, series)
    assert ts == list(range(T0, T0 + 2 * DAY + 30 * MIN, MIN))
    assert result.stored == len(ts)
    assert progress[-1] == (len(ts), len(ts))
    hours = stored_ts(runtime, series, "1h")
    assert hours[0] == T0
    assert len(hours) == 49  # 48 whole hours and the partial one being built
    with runtime.sessions() as session:
        assert session.get(Series, series.id).backfill_status is BackfillStatus.DONE


def test_backfill_resumes_after_an_interruption_without_refetching(runtime: Runtime) -> None:
    now = T0 + 3 * DAY
    series = new_series(runtime)
    broken = CountingSource(demo_at(now), fail_on_call=3)
    with pytest.raises(ConnectionError):
        backfill(runtime.sessions, broken, series, T0)
    with runtime.sessions() as session:
        row = session.get(Series, series.id)
        assert row.backfill_status is BackfillStatus.FAILED
        assert "connection dropped" in row.backfill_error
    partial = len(stored_ts(runtime, series))
    assert partial == 2 * 1000  # the two pages before the failure were kept

    again = CountingSource(demo_at(now))
    backfill(runtime.sessions, again, series, T0)
    assert stored_ts(runtime, series) == list(range(T0, T0 + 3 * DAY, MIN))
    assert again.calls == 3  # only the missing 2,320 candles: three pages of 1,000

    idle = CountingSource(demo_at(now))
    backfill(runtime.sessions, idle, series, T0)
    assert idle.calls == 0  # everything is known from one range query


def test_backfill_extends_history_backwards_and_forwards(runtime: Runtime) -> None:
    series = new_series(runtime, "ETH/USDT")
    backfill(runtime.sessions, demo_at(T0 + 2 * DAY), series, T0 + DAY)
    backfill(runtime.sessions, demo_at(T0 + 3 * DAY), series, T0)
    assert stored_ts(runtime, series) == list(range(T0, T0 + 3 * DAY, MIN))


def test_full_history_stops_where_the_exchange_starts(runtime: Runtime) -> None:
    source = demo_at(1_704_067_200_000 + 2 * DAY)  # two days after the demo's first candle (2024-01-01)
    series = new_series(runtime, "SOL/USDT", "15m")
    backfill(runtime.sessions, source, series, None)
    ts = stored_ts(runtime, series)
    assert ts[0] == 1_704_067_200_000
    assert len(ts) == 2 * 96
    with runtime.sessions() as session:
        assert session.get(Series, series.id).first_available_ts == 1_704_067_200_000


def test_fetch_latest_follows_the_clock(runtime: Runtime) -> None:
    series = new_series(runtime)
    clock = {"now": T0 + DAY}
    source = DemoExchange(seed=7, clock=lambda: clock["now"])
    assert fetch_latest(runtime.sessions, source, series, default_days=1) == 1440
    clock["now"] += 10 * MIN + 5_000
    assert fetch_latest(runtime.sessions, source, series, default_days=1) == 10
    assert stored_ts(runtime, series)[-1] == T0 + DAY + 9 * MIN


def test_gap_repair_refills_and_remembers_what_the_exchange_lacks(runtime: Runtime) -> None:
    outage_start, outage_end = DEMO_OUTAGES[0]
    start = outage_start - DAY
    series = new_series(runtime)
    source = CountingSource(demo_at(outage_end + DAY))
    backfill(runtime.sessions, source, series, start)
    with runtime.sessions.begin() as session:  # lose an hour of candles, as a crashed writer might
        session.execute(
            delete(Candle).where(
                Candle.series_id == series.id, Candle.ts >= start + 60 * MIN, Candle.ts < start + 120 * MIN
            )
        )
    with runtime.sessions() as session:
        gaps = find_gaps(session.connection(), series.id, "1m")
    assert [(g.start_ts, g.end_ts) for g in gaps] == [(start + 60 * MIN, start + 120 * MIN), (outage_start, outage_end)]

    result = repair_gaps(runtime.sessions, source, series)
    assert (result.gaps, result.filled, result.holes_recorded) == (2, 60, 1)
    with runtime.sessions() as session:
        assert find_gaps(session.connection(), series.id, "1m") == []
        hole = session.scalars(select(DataHole)).one()
    assert (hole.start_ts, hole.end_ts) == (outage_start, outage_end)

    calls = source.calls
    assert repair_gaps(runtime.sessions, source, series).gaps == 0
    assert source.calls == calls  # the hole is not asked for again


def test_dirty_candles_never_reach_the_table(runtime: Runtime) -> None:
    series = new_series(runtime)
    inner = demo_at(T0 + DAY)

    class Dirty(CountingSource):
        def fetch_ohlcv(self, symbol, timeframe, since, limit):
            page = [list(c) for c in super().fetch_ohlcv(symbol, timeframe, since, limit)]
            page[5][2] = page[5][3] - 1  # high below low
            page[6][4] = float("nan")
            return page

    result = backfill(runtime.sessions, Dirty(inner), series, T0)
    assert result.rejected >= 2
    with runtime.sessions() as session:
        bad = session.scalar(select(func.count()).select_from(Candle).where(Candle.high < Candle.low))
    assert bad == 0
    assert T0 + 5 * MIN not in stored_ts(runtime, series)


def test_missing_intervals() -> None:
    assert missing_intervals(0, 10, [0, 1, 4, 5, 9], 1) == [(2, 4), (6, 9)]
    assert missing_intervals(0, 3, [], 1) == [(0, 3)]
    assert missing_intervals(0, 3, [0, 1, 2], 1) == []


def test_watch_bootstrap_and_scheduled_fetch(runtime: Runtime) -> None:
    clock = {"now": T0 + 2 * DAY}
    runtime.sources["demo"] = DemoExchange(seed=7, clock=lambda: clock["now"])
    added = scheduler.bootstrap(runtime)
    assert [(s.symbol, s.timeframe) for s in added] == [("BTC/USDT", "1m"), ("ETH/USDT", "1m"), ("SOL/USDT", "1m")]
    assert scheduler.bootstrap(runtime) == []  # users exist: nothing more is created
    assert jobs.fetch_due(runtime) == 0  # their backfills are pending: the backfill job fills them
    for series in jobs.unfinished_backfills(runtime):
        jobs.backfill_recent(runtime, series)
    assert jobs.unfinished_backfills(runtime) == []
    clock["now"] += 3 * MIN
    assert jobs.fetch_due(runtime) == 3 * 3


def test_watch_is_validated(runtime: Runtime) -> None:
    runtime.sources["demo"] = demo_at(T0)
    with runtime.sessions.begin() as session:
        user = create_user(session, "tom", "a-long-password", Role.TRADER)
    from engine.market.watchlist import WatchError

    with pytest.raises(WatchError, match="no market"):
        jobs.watch(runtime, user.id, "demo", "DOGE/USDT", "1m")
    with pytest.raises(WatchError, match="not enabled"):
        jobs.watch(runtime, user.id, "binance", "BTC/USDT", "1m")
    with pytest.raises(WatchError, match="has no '7m' candles"):
        jobs.watch(runtime, user.id, "demo", "BTC/USDT", "7m")
    series = jobs.watch(runtime, user.id, "demo", "BTC/USDT", "1h")
    assert jobs.watch(runtime, user.id, "demo", "BTC/USDT", "1h").id == series.id
