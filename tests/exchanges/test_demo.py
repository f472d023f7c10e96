"""The demo exchange: deterministic, page-independent, consistent OHLC, exact rollups, a fixed outage."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from engine.common.timeframes import PYRAMID, floor_ts, tf_ms
from engine.exchanges.base import ExchangeError
from engine.exchanges.demo import DEMO_OUTAGES, PAGE_LIMIT, DemoExchange, aggregate

MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
ANCHOR = 1_704_067_200_000  # 2024-01-01 00:00 UTC
NOW = ANCHOR + 120 * DAY + 7 * HOUR + 23 * MIN + 41_000  # 2024-04-30 07:23:41, mid-candle for every level
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "BTC/USDT:USDT")


def demo(seed: int = 42, now: int = NOW) -> DemoExchange:
    return DemoExchange(seed=seed, clock=lambda: now)


def test_markets() -> None:
    markets = {m.symbol: m for m in demo().load_markets()}
    assert set(markets) == set(SYMBOLS)
    btc = markets["BTC/USDT"]
    assert (btc.type, btc.can_short, btc.base, btc.quote) == ("spot", False, "BTC", "USDT")
    assert (btc.price_tick, btc.amount_tick, btc.min_amount, btc.min_cost) == (
        Decimal("0.01"),
        Decimal("0.00001"),
        Decimal("0.00001"),
        Decimal("5"),
    )
    assert (markets["ETH/USDT"].price_tick, markets["ETH/USDT"].amount_tick) == (Decimal("0.01"), Decimal("0.0001"))
    assert (markets["SOL/USDT"].price_tick, markets["SOL/USDT"].amount_tick) == (Decimal("0.01"), Decimal("0.001"))
    perp = markets["BTC/USDT:USDT"]
    assert (perp.type, perp.can_short) == ("swap", True)
    assert all(m.maker_fee == m.taker_fee == Decimal("0.001") and m.exchange == "demo" for m in markets.values())
    assert demo().timeframes() == PYRAMID
    assert demo().ohlcv_page_limit("BTC/USDT", "1m") == PAGE_LIMIT == 1000


def test_same_seed_same_market_other_seed_other_market() -> None:
    since = ANCHOR + 30 * DAY
    first = demo(7).fetch_ohlcv("ETH/USDT", "1m", since, 500)
    assert demo(7).fetch_ohlcv("ETH/USDT", "1m", since, 500) == first
    assert demo(8).fetch_ohlcv("ETH/USDT", "1m", since, 500) != first


def test_candles_do_not_depend_on_what_was_fetched_before() -> None:
    since = ANCHOR + 40 * DAY + 13 * MIN
    whole = demo().fetch_ohlcv("BTC/USDT", "1m", since, 1000)
    paged, cursor, ex = [], since, demo()
    ex.fetch_ohlcv("BTC/USDT", "1d", None, 50)  # warm other caches first
    for size in (1, 99, 400, 500):
        page = ex.fetch_ohlcv("BTC/USDT", "1m", cursor, size)
        paged += page
        cursor = page[-1][0] + MIN
    assert paged == whole
    # A far later day generated first (a different order of work) changes nothing either.
    late_first = demo()
    late_first.fetch_ohlcv("BTC/USDT", "1h", ANCHOR + 100 * DAY, 10)
    assert late_first.fetch_ohlcv("BTC/USDT", "1m", since, 1000) == whole


def test_page_shape_and_bounds() -> None:
    ex = demo()
    page = ex.fetch_ohlcv("SOL/USDT", "5m", ANCHOR + DAY + 1, None)  # since between candles
    assert len(page) == PAGE_LIMIT
    assert page[0][0] == ANCHOR + DAY + 5 * MIN
    assert [c[0] for c in page] == list(range(page[0][0], page[0][0] + PAGE_LIMIT * 5 * MIN, 5 * MIN))
    assert all(isinstance(c[0], int) and len(c) == 6 for c in page)
    assert len(ex.fetch_ohlcv("SOL/USDT", "5m", ANCHOR, 5_000)) == PAGE_LIMIT  # capped like a real venue
    assert ex.fetch_ohlcv("BTC/USDT", "1h", ANCHOR - 10 * DAY, 3)[0][0] == ANCHOR  # history starts at the anchor
    assert ex.fetch_ohlcv("BTC/USDT", "1m", NOW + DAY, 10) == []
    latest = ex.fetch_ohlcv("BTC/USDT", "15m", None, 4)
    assert [c[0] for c in latest] == [floor_ts(NOW, "15m") - i * 15 * MIN for i in (3, 2, 1, 0)]
    assert demo(now=ANCHOR - 1).fetch_ohlcv("BTC/USDT", "1m", None, 10) == []


def assert_consistent(rows: np.ndarray) -> None:
    ts, o, h, l, c, v = rows.T  # noqa: E741
    assert np.all(l <= np.minimum(o, c))
    assert np.all(h >= np.maximum(o, c))
    assert np.all(l > 0)
    assert np.all(v >= 0)
    assert np.all(np.isfinite(rows))
    assert np.all(np.diff(ts) > 0)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_ohlc_is_consistent_and_on_the_tick(symbol: str) -> None:
    ex = demo()
    rows = ex.candles(symbol, "1m", ANCHOR, NOW)
    assert len(rows) == (floor_ts(NOW, "1m") - ANCHOR) // MIN + 1 - 3 * 60  # every minute but the outage
    assert_consistent(rows)
    tick = float(next(m.price_tick for m in ex.load_markets() if m.symbol == symbol))
    steps = rows[:, 1:5] / tick
    assert np.allclose(steps, np.round(steps), atol=1e-6)
    for tf in PYRAMID[1:]:
        assert_consistent(ex.candles(symbol, tf, ANCHOR, NOW))


def test_plausible_prices_and_volume_follows_moves() -> None:
    ex = demo()
    first_days = {s: ex.fetch_ohlcv(s, "1d", ANCHOR, 1)[0] for s in SYMBOLS}
    assert 35_000 < first_days["BTC/USDT"][1] < 45_000
    assert 2_000 < first_days["ETH/USDT"][1] < 2_600
    assert 80 < first_days["SOL/USDT"][1] < 120
    assert first_days["BTC/USDT:USDT"][1] == pytest.approx(first_days["BTC/USDT"][1], rel=0.005)
    rows = ex.candles("BTC/USDT", "1m", ANCHOR, ANCHOR + 30 * DAY)
    moves = np.abs(np.log(rows[:, 4] / rows[:, 1]))
    assert np.corrcoef(moves, rows[:, 5])[0, 1] > 0.3
    daily = np.diff(np.log(ex.candles("BTC/USDT", "1d", ANCHOR, NOW)[:, 4]))
    assert 0.01 < daily.std() < 0.06  # crypto-like daily volatility


@pytest.mark.parametrize("timeframe", PYRAMID[1:])
def test_every_level_is_the_exact_rollup_of_one_minute(timeframe: str) -> None:
    ex = demo()
    start, end = ANCHOR + 63 * DAY, ANCHOR + 77 * DAY  # two weeks around the outage (2024-03-10)
    minutes = ex.candles("ETH/USDT", "1m", start, end)
    level = ex.candles("ETH/USDT", timeframe, start, end)
    expected = aggregate(minutes, timeframe)
    np.testing.assert_array_equal(level[:, :5], expected[:, :5])
    np.testing.assert_allclose(level[:, 5], expected[:, 5], rtol=1e-9)
    # Through the paging interface too, with the forming candle built from the minutes up to now.
    tail_start = floor_ts(NOW, timeframe)
    tail = ex.fetch_ohlcv("ETH/USDT", timeframe, tail_start, 5)
    from_minutes = aggregate(ex.candles("ETH/USDT", "1m", tail_start, NOW + 1), timeframe)
    assert [c[:5] for c in tail] == from_minutes[:, :5].tolist()


def test_weeks_open_on_monday() -> None:
    weeks = demo().fetch_ohlcv("BTC/USDT", "1w", ANCHOR, 100)
    assert len(weeks) == (NOW - ANCHOR) // (7 * DAY) + 1
    assert all(datetime.fromtimestamp(c[0] / 1000, UTC).weekday() == 0 for c in weeks)
    assert all(c[0] % tf_ms("1d") == 0 for c in weeks)


def test_the_outage_has_no_candles_and_pages_skip_it() -> None:
    start, end = DEMO_OUTAGES[0]
    assert datetime.fromtimestamp(start / 1000, UTC) == datetime(2024, 3, 10, 2, tzinfo=UTC)
    assert datetime.fromtimestamp(end / 1000, UTC) == datetime(2024, 3, 10, 5, tzinfo=UTC)
    ex = demo()
    for symbol in SYMBOLS:
        for tf in ("1m", "5m", "1h"):
            ts = [c[0] for c in ex.fetch_ohlcv(symbol, tf, start - 2 * HOUR, 1000)]
            assert not [t for t in ts if start <= t < end], (symbol, tf)
    page = ex.fetch_ohlcv("BTC/USDT", "1m", start, 100)
    assert page[0][0] == end
    assert len(page) == 100
    before = ex.fetch_ohlcv("BTC/USDT", "1m", start - 10 * MIN, 20)
    assert [c[0] for c in before] == [start - (10 - i) * MIN for i in range(10)] + [end + i * MIN for i in range(10)]
    four_hours = ex.fetch_ohlcv("BTC/USDT", "4h", start - 2 * HOUR, 2)  # the 00:00 and 04:00 candles stay, thinner
    assert [c[0] for c in four_hours] == [start - 2 * HOUR, start + 2 * HOUR]
    # Newest-first paging steps back over the hole and still fills the page.
    tail = demo(now=end + 5 * MIN).fetch_ohlcv("BTC/USDT", "1m", None, 20)
    assert len(tail) == 20
    assert tail[-1][0] == end + 5 * MIN
    assert tail[-7][0] == start - MIN


def test_forming_candle_grows_and_closed_candles_never_change() -> None:
    clock = {"now": NOW}
    ex = DemoExchange(seed=42, clock=lambda: clock["now"])
    views = []
    for _ in range(6):
        views.append(ex.fetch_ohlcv("BTC/USDT", "1h", None, 3))
        clock["now"] += 8 * MIN + 3_000  # five looks inside the hour, the sixth after it
    for view in views[:-1]:
        assert view[-1][0] == views[0][-1][0]  # still the same forming hour
    forming = [v[-1] for v in views[:-1]]
    assert len({tuple(c) for c in forming}) == len(forming)  # it changes as the clock moves
    assert all(later[5] >= earlier[5] for earlier, later in itertools.pairwise(forming))
    assert all(v[:-1] == views[0][:-1] for v in views[:-1])  # the closed hours never change
    # Once closed, the hour is what a fresh exchange (asked long after) says it is.
    hour = views[0][-1][0]
    assert views[-1][-2][0] == hour
    assert demo(now=NOW + 30 * DAY).fetch_ohlcv("BTC/USDT", "1h", hour, 1)[0] == views[-1][-2]

    # Within a minute: the forming 1m candle grows towards its final shape.
    minute = floor_ts(NOW, "1m")
    partial = [demo(now=minute + s * 1000).fetch_ohlcv("BTC/USDT", "1m", minute, 1)[0] for s in (0, 20, 40)]
    final = demo(now=minute + MIN).fetch_ohlcv("BTC/USDT", "1m", minute, 1)[0]
    assert partial[0][1:5] == [final[1]] * 4
    assert partial[0][5] == 0
    for c in [*partial, final]:
        assert c[1] == final[1]
        assert final[3] <= c[3] <= min(c[1], c[4])
        assert max(c[1], c[4]) <= c[2] <= final[2]
    assert partial[1][5] < partial[2][5] < final[5]


def test_ticker_is_the_price_now() -> None:
    ex = demo()
    ticker = ex.fetch_ticker("SOL/USDT")
    assert ticker.ts == NOW == ex.milliseconds()
    assert ticker.last == ex.fetch_ohlcv("SOL/USDT", "1m", None, 1)[0][4]
    assert ticker.bid <= ticker.last < ticker.ask
    inside = demo(now=DEMO_OUTAGES[0][0] + 30 * MIN).fetch_ticker("BTC/USDT")  # a price even without candles
    assert inside.last > 0


def test_unknown_symbol_and_timeframe() -> None:
    ex = demo()
    with pytest.raises(ExchangeError, match="no market 'DOGE/USDT'"):
        ex.fetch_ohlcv("DOGE/USDT", "1m", None, 10)
    with pytest.raises(ExchangeError, match="no market"):
        ex.fetch_ticker("DOGE/USDT")
    with pytest.raises(ExchangeError, match="no '7m' candles"):
        ex.fetch_ohlcv("BTC/USDT", "7m", None, 10)


def test_speed() -> None:
    ex = demo(now=ANCHOR + 400 * DAY)
    t = time.perf_counter()
    ex.fetch_ohlcv("BTC/USDT", "1m", ANCHOR + 200 * DAY, 1000)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    ex.fetch_ohlcv("BTC/USDT", "1m", ANCHOR + 300 * DAY, 1000)
    page = time.perf_counter() - t
    t = time.perf_counter()
    year = ex.candles("ETH/USDT", "1m", ANCHOR, ANCHOR + 365 * DAY)
    year_s = time.perf_counter() - t
    print(f"\ndemo: first 1m page {cold * 1e3:.1f} ms, next page {page * 1e3:.1f} ms, a year of 1m {year_s:.2f} s")
    assert len(year) == 365 * 1440 - 3 * 60
