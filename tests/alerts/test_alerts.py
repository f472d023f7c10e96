"""Price alerts in the engine, on the real database over a scripted price path: the direction
comes from the price when set, the level is rounded to the market's tick, bad input is refused
at its field and writes nothing; an alert fires when its level is crossed (above, below, either
way) and only then, exactly once, its notification booked with it (a crash inside that
transaction leaves it active and the next check fires it once); a cancelled alert never fires;
another user's alert cannot be seen or cancelled; the desk's toast shows each triggered alert once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from db.enums import AlertDirection, AlertState
from db.models import NotificationOutbox, PriceAlert
from engine.alerts import api as alerts
from engine.alerts import check as alert_check
from engine.alerts import store as alert_store
from engine.alerts.levels import reached
from engine.market import api as market
from engine.notify.api import save_url
from engine.runtime import Runtime
from tests.helpers.conditions import SeriesFeed, bars, watch_sol
from tests.helpers.notify_endpoint import TELEGRAM_URL
from tests.helpers.trading import add_user, setup


@pytest.fixture
def desk(runtime: Runtime) -> dict[str, Any]:
    feed = SeriesFeed("100")
    feed.flat("100", 3)
    user, _account = setup(runtime, feed)
    save_url(runtime, user, TELEGRAM_URL)
    series = watch_sol(runtime, user)
    return {"feed": feed, "user": user, "series": series.id}


def make(runtime: Runtime, desk: dict, price: str, **fields: Any) -> alerts.AlertView:
    return alerts.create_alert(runtime, desk["user"], {"series_id": desk["series"], "price": price, **fields})


def outbox(runtime: Runtime) -> list[NotificationOutbox]:
    with runtime.sessions() as s:
        return list(s.scalars(select(NotificationOutbox).where(NotificationOutbox.kind == "price_alert")))


def test_the_direction_comes_from_the_price_and_the_level_from_the_tick(runtime: Runtime, desk: dict) -> None:
    up = make(runtime, desk, "102.123456", note="  breakout \n watch ")
    down = make(runtime, desk, "98")
    assert (up.direction, down.direction) == (AlertDirection.ABOVE, AlertDirection.BELOW)
    assert up.price == Decimal("102.12")  # the demo SOL/USDT's tick is 0.01
    assert (up.text, up.price_text, up.note) == ("SOL/USDT crosses above 102.12", "102.12", "breakout watch")
    assert up.state is AlertState.ACTIVE
    assert make(runtime, desk, "105", direction="crosses").direction is AlertDirection.CROSSES


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"price": "1,000"}, "price", "positive number"),
        ({"price": "-3"}, "price", "positive number"),
        ({"price": "0.001"}, "price", "rounds to 0"),
        ({"price": "100"}, "price", "at 100.00 now"),
        ({"price": "105", "direction": "below"}, "price", "already below 105.00"),
        ({"price": "105", "direction": "sideways"}, "direction", "above, below or crosses"),
        ({"price": "105", "series_id": 999_999}, "series_id", "watchlist"),
        ({"price": "105", "series_id": "x"}, "series_id", "watchlist"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_writes_nothing(
    runtime: Runtime, desk: dict, fields: dict, field: str, words: str
) -> None:
    with pytest.raises(alerts.AlertRefused) as refused:
        alerts.create_alert(runtime, desk["user"], {"series_id": desk["series"], **fields})
    assert words in refused.value.fields[field]
    assert alerts.list_alerts(runtime, desk["user"]) == []


def test_an_alert_fires_once_when_its_level_is_crossed_and_books_its_notification(runtime: Runtime, desk: dict) -> None:
    up = make(runtime, desk, "102", note="take profit?")
    down = make(runtime, desk, "97")
    bars(runtime, desk["feed"], "101.5")
    assert alerts.check_alerts(runtime).triggered == []
    bars(runtime, desk["feed"], "102.4")
    assert alerts.check_alerts(runtime).triggered == [up.id]
    assert alerts.check_alerts(runtime).triggered == []  # fired once
    bars(runtime, desk["feed"], "96.5")
    assert alerts.check_alerts(runtime).triggered == [down.id]
    fired = alerts.get_alert(runtime, desk["user"], up.id)
    assert (fired.state, fired.price_seen, fired.seen_text) == (AlertState.TRIGGERED, Decimal("102.4"), "102.40")
    assert fired.triggered_at is not None
    (first, second) = outbox(runtime)
    assert first.title == "Price alert: SOL/USDT crosses above 102.00"
    assert first.body == "demo SOL/USDT is at 102.40: your alert at 102.00 triggered. Note: take profit?"
    assert second.title == "Price alert: SOL/USDT crosses below 97.00"


def test_a_crosses_alert_goes_from_the_first_price_seen(runtime: Runtime, desk: dict) -> None:
    either = make(runtime, desk, "99", direction="crosses")  # the price is 100: it must fall to 99
    bars(runtime, desk["feed"], "100.5")
    assert alerts.check_alerts(runtime).triggered == []
    bars(runtime, desk["feed"], "98.9")
    assert alerts.check_alerts(runtime).triggered == [either.id]


def test_the_ticker_is_read_when_the_series_is_gone(runtime: Runtime, desk: dict) -> None:
    alert = make(runtime, desk, "103")
    runtime.trading.last_prices[("demo", "SOL/USDT")] = Decimal("103.5")
    market.remove_series(runtime, desk["user"], desk["series"])
    assert alerts.check_alerts(runtime).triggered == [alert.id]


def test_a_crash_in_the_firing_transaction_leaves_it_active_and_it_fires_once_after(
    runtime: Runtime, desk: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = make(runtime, desk, "102")
    bars(runtime, desk["feed"], "103")

    def crash(*_args: Any) -> bool:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(alert_check.notify, "notify", crash)
    report = alerts.check_alerts(runtime)
    assert report.triggered == []
    assert "died" in report.errors[0]
    assert alerts.get_alert(runtime, desk["user"], alert.id).state is AlertState.ACTIVE
    assert outbox(runtime) == []
    monkeypatch.undo()
    runtime.reset_trading()  # a restart: nothing of the process before it is kept
    assert alerts.check_alerts(runtime).triggered == [alert.id]
    assert alerts.check_alerts(runtime).triggered == []
    assert len(outbox(runtime)) == 1


def test_a_cancelled_alert_never_fires_and_a_fired_one_stays_fired(runtime: Runtime, desk: dict) -> None:
    gone = make(runtime, desk, "102")
    kept = make(runtime, desk, "101")
    assert alerts.cancel_alert(runtime, desk["user"], gone.id).state is AlertState.CANCELLED
    bars(runtime, desk["feed"], "103")
    assert alerts.check_alerts(runtime).triggered == [kept.id]
    assert alerts.cancel_alert(runtime, desk["user"], kept.id).state is AlertState.TRIGGERED
    assert [a.id for a in alerts.list_alerts(runtime, desk["user"], AlertState.CANCELLED)] == [gone.id]


def wick(runtime: Runtime, desk: dict, high: str, low: str, close: str = "100") -> None:
    """One stored bar that reached `high` and `low` and closed back at `close`."""
    desk["feed"].bar("100", high, low, close)
    market.fetch_due(runtime)


def test_a_wick_between_two_checks_fires_it_at_the_candles_high_or_low(runtime: Runtime, desk: dict) -> None:
    up, down = make(runtime, desk, "102"), make(runtime, desk, "97")
    wick(runtime, desk, "101.9", "97.1")
    assert alerts.check_alerts(runtime).triggered == []  # close to both levels, neither reached
    wick(runtime, desk, "102.35", "99.5", close="100.2")
    assert alerts.check_alerts(runtime).triggered == [up.id]  # the price is back at 100.20
    wick(runtime, desk, "100.5", "96.8")
    assert alerts.check_alerts(runtime).triggered == [down.id]
    fired = alerts.get_alert(runtime, desk["user"], up.id)
    assert (fired.state, fired.price_seen) == (AlertState.TRIGGERED, Decimal("102.35"))
    assert alerts.get_alert(runtime, desk["user"], down.id).price_seen == Decimal("96.8")
    first, second = outbox(runtime)
    assert first.body == "demo SOL/USDT traded at 102.35: your alert at 102.00 triggered."
    assert second.body == "demo SOL/USDT traded at 96.80: your alert at 97.00 triggered."


def test_a_wick_before_the_alert_was_set_does_not_fire_it(runtime: Runtime, desk: dict) -> None:
    wick(runtime, desk, "103", "96")
    either = make(runtime, desk, "99", direction="crosses")  # the price is 100: it must fall to 99
    up = make(runtime, desk, "102.5")
    assert alerts.check_alerts(runtime).triggered == []
    wick(runtime, desk, "102", "99.2")
    assert alerts.check_alerts(runtime).triggered == []
    wick(runtime, desk, "100.1", "98.95")
    assert alerts.check_alerts(runtime).triggered == [either.id]
    assert alerts.get_alert(runtime, desk["user"], up.id).state is AlertState.ACTIVE


def test_an_alert_set_before_its_series_had_candles_reads_them_from_the_first(runtime: Runtime, desk: dict) -> None:
    up = make(runtime, desk, "102")
    with runtime.sessions.begin() as s:  # as if set before the backfill stored anything
        s.get(PriceAlert, up.id).candles_from_ms = None
    assert alerts.check_alerts(runtime).triggered == []  # marks where its candles start
    wick(runtime, desk, "102.1", "99")
    assert alerts.check_alerts(runtime).triggered == [up.id]


@pytest.mark.parametrize(
    ("direction", "reference", "high", "low", "seen"),
    [
        (AlertDirection.ABOVE, None, "105", "90", "105"),
        (AlertDirection.ABOVE, None, "99.99", "90", None),
        (AlertDirection.BELOW, None, "120", "100", "100"),
        (AlertDirection.BELOW, None, "120", "100.01", None),
        (AlertDirection.CROSSES, "95", "100", "90", "100"),  # from below: the high must reach it
        (AlertDirection.CROSSES, "95", "99", "80", None),
        (AlertDirection.CROSSES, "105", "120", "99", "99"),  # from above: the low must
        (AlertDirection.CROSSES, "105", "120", "101", None),
        (AlertDirection.CROSSES, None, "120", "80", None),  # no reference yet: waits for a price
    ],
)
def test_a_candle_reaches_a_level_by_its_high_or_low(
    direction: AlertDirection, reference: str | None, high: str, low: str, seen: str | None
) -> None:
    ref = None if reference is None else Decimal(reference)
    got = reached(direction, Decimal("100"), ref, Decimal(high), Decimal(low))
    assert got == (None if seen is None else Decimal(seen))


def test_prices_are_shown_plainly() -> None:
    assert str(alert_store.plain(Decimal("90000.120000000000000000"))) == "90000.12"
    assert str(alert_store.plain(Decimal("90000.000000000000000000"))) == "90000"
    assert str(alert_store.plain(Decimal("0.000010"))) == "0.00001"


def test_the_state_moves_only_from_active() -> None:
    assert alerts.transition(AlertState.ACTIVE, AlertState.TRIGGERED) is AlertState.TRIGGERED
    for done in (AlertState.TRIGGERED, AlertState.CANCELLED):
        with pytest.raises(alerts.AlertStateError):
            alerts.transition(done, AlertState.CANCELLED)
    with pytest.raises(alerts.AlertStateError):
        alerts.transition(AlertState.ACTIVE, AlertState.ACTIVE)


def test_another_users_alert_cannot_be_seen_or_cancelled(runtime: Runtime, desk: dict) -> None:
    alert = make(runtime, desk, "102")
    rival = add_user(runtime.sessions, "rival")
    with pytest.raises(alerts.AlertAccessError):
        alerts.get_alert(runtime, rival, alert.id)
    with pytest.raises(alerts.AlertAccessError):
        alerts.cancel_alert(runtime, rival, alert.id)
    assert alerts.list_alerts(runtime, rival) == []
    with pytest.raises(alerts.AlertRefused):  # nor set on their series
        alerts.create_alert(runtime, rival, {"series_id": desk["series"], "price": "102"})
    assert alerts.get_alert(runtime, desk["user"], alert.id).state is AlertState.ACTIVE


def test_the_desk_shows_each_triggered_alert_once(runtime: Runtime, desk: dict) -> None:
    alert = make(runtime, desk, "102")
    assert alerts.take_unshown(runtime, desk["user"]) == []
    bars(runtime, desk["feed"], "102")
    alerts.check_alerts(runtime)
    assert [a.id for a in alerts.take_unshown(runtime, desk["user"])] == [alert.id]
    assert alerts.take_unshown(runtime, desk["user"]) == []
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(NotificationOutbox)) == 1
