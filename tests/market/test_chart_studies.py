"""engine.market.chart_prefs and studies: indicators are validated once and kept per user (a
refused change writes nothing); a chart window's indicator values are those of the whole history
at the same candles (warmed up before the window), at exactly the chart's level, and a replay's
window reads nothing after its clock; the ATR of a live chart is that of its newest stored candles."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from db.enums import BackfillStatus, Role
from db.models import Series, Watch
from engine.market import api as market
from engine.market.rollups import ingest_candles
from engine.market.studies import warm_up
from engine.runtime import Runtime
from tests.helpers.candles import MIN, T0, candles, new_series
from tests.helpers.dashboard import make_user


def watched_series(runtime: Runtime, user_id: int, count: int = 600) -> int:
    sid = new_series(runtime, "ETH/USDT")
    with runtime.db.begin() as conn:
        ingest_candles(conn, sid, "1m", candles(count))
    with runtime.sessions.begin() as s:
        s.add(Watch(user_id=user_id, series_id=sid))
        s.get(Series, sid).backfill_status = BackfillStatus.DONE  # type: ignore[union-attr]
    return sid


def test_an_indicator_is_validated_with_its_defaults() -> None:
    assert market.parse_spec("sma", "") == market.IndicatorSpec("sma", 20)
    assert market.parse_spec("bb", " 30 ", "2,5") == market.IndicatorSpec("bb", 30, 2.5)
    assert market.parse_spec("bb", None, None).label == "BB 20 2"
    vwap = market.parse_spec("vwap", "14")
    assert (vwap.period, vwap.key, vwap.label, vwap.below) == (None, "vwap", "VWAP", False)
    assert market.parse_spec("rsi", "7").below
    for bad, message in [
        (("macd", "1"), "Pick an indicator"),
        (("ema", "0"), "the period is a whole number from 1 to 500"),
        (("ema", "2.5"), "the period is a whole number"),
        (("bb", "20", "0"), "the width is a number above 0"),
        (("bb", "20", "x"), "the width is a number above 0"),
    ]:
        with pytest.raises(market.ChartPrefError, match=message):
            market.parse_spec(*bad)


def test_the_studies_are_kept_per_user_and_a_refused_change_writes_nothing(runtime: Runtime) -> None:
    one, two = (make_user(runtime, name, Role.TRADER).id for name in ("one", "two"))
    assert market.chart_prefs(runtime, one) == market.ChartPrefs()
    specs = market.parse_specs([{"name": "sma", "period": 9}, {"name": "rsi"}, {"name": "sma", "period": "9"}])
    kept = market.keep_chart_prefs(runtime, one, indicators=specs)
    assert [s.label for s in kept.indicators] == ["SMA 9", "RSI 14"]  # the duplicate once
    market.keep_chart_prefs(runtime, one, show_trades=False)
    assert market.chart_prefs(runtime, one) == market.ChartPrefs(kept.indicators, False)
    assert market.chart_prefs(runtime, two) == market.ChartPrefs()
    many = [market.IndicatorSpec("ema", n) for n in range(1, market.MAX_INDICATORS + 2)]
    with pytest.raises(market.ChartPrefError, match="at most 8 indicators"):
        market.keep_chart_prefs(runtime, one, indicators=many)
    assert market.chart_prefs(runtime, one).indicators == kept.indicators


def test_a_window_shows_the_values_of_the_whole_history(runtime: Runtime) -> None:
    user = make_user(runtime, "trader", Role.TRADER).id
    sid = watched_series(runtime, user)
    specs = [market.IndicatorSpec("ema", 20), market.IndicatorSpec("bb", 10, 2.0), market.IndicatorSpec("rsi", 14)]
    start, end = T0 + 400 * MIN, T0 + 449 * MIN
    studies = market.chart_studies(runtime, user, sid, "1m", start, end, specs)
    whole = market.chart_candles(runtime, user, sid, T0, T0 + 600 * MIN, "1m")
    at = whole.ts.index(start)
    for study in studies:
        assert study.ts == whole.ts[at : at + 50]
        full = market.compute(study.spec.name, whole, study.spec.period, study.spec.width)
        for line, values in study.lines.items():
            # EMA and RSI forget their start over ten periods: equal to 1e-4 of the value
            assert values == pytest.approx(full[line][at : at + 50], rel=1e-4), (study.spec, line)
    five = market.chart_studies(runtime, user, sid, "5m", start, end, specs[:1])[0]
    assert five.ts == list(range(start, end + 1, 5 * MIN))  # the chart's level, never a coarser one


def test_a_replay_window_reads_nothing_after_its_clock(runtime: Runtime) -> None:
    user = make_user(runtime, "trader", Role.TRADER).id
    sid = watched_series(runtime, user)
    clock = T0 + 420 * MIN
    [study] = market.chart_studies(
        runtime, user, sid, "1m", T0 + 400 * MIN, T0 + 449 * MIN, [market.IndicatorSpec("sma", 5)], clock
    )
    assert study.ts[-1] == clock - MIN
    with pytest.raises(market.NotWatchedError):
        market.chart_studies(runtime, make_user(runtime, "other", Role.TRADER).id, sid, "1m", T0, T0 + MIN, [])


def test_the_warm_up_reaches_back_to_what_the_indicator_needs() -> None:
    assert warm_up(market.IndicatorSpec("sma", 20), MIN, T0) == 20
    assert warm_up(market.IndicatorSpec("atr", 14), MIN, T0) == 141
    assert warm_up(market.IndicatorSpec("ema", 500), MIN, T0) == 2_000
    assert warm_up(market.IndicatorSpec("vwap", None), MIN, T0 + 90 * MIN) == 90  # T0 is a UTC midnight


def test_the_atr_of_a_live_chart_is_that_of_its_newest_stored_candles(runtime: Runtime) -> None:
    user = make_user(runtime, "trader", Role.TRADER).id
    sid = watched_series(runtime, user, 200)
    atr = market.chart_atr(runtime, user, sid, "1m", 14)
    with runtime.sessions() as session:
        then = datetime.fromtimestamp((T0 + 200 * MIN) / 1000, UTC)
        assert atr == market.latest_atr(session, "demo", "ETH/USDT", "1m", 14, then)
    assert isinstance(atr, Decimal)
    assert market.chart_atr(runtime, user, sid, "1m", 14, until_ms=T0 + 10 * MIN) is None  # too few by then
