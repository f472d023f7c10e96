"""The engine's side of price alerts: on each new candle (the market fetch job) and each sync tick
(engine.scheduler), every active alert is compared with its market's last price
(engine.conditions.api.market_price: the newest stored close of the alert's series, else the sync
tick's ticker), and with the highs and lows of its series' candles opened since it was set (a wick
between two checks counts, as on TradingView), and one whose level is crossed fires: its state,
`triggered_at` and `price_seen` (the price, or the candle's high or low that reached the level)
are written in the very transaction that books its notification (engine.notify), by a conditional
update on the state still being active. A crash before that commit leaves it active (the next
check fires it), after it leaves both: an alert fires, and notifies, exactly once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, update

from db.enums import AlertDirection, AlertState
from db.models import PriceAlert
from engine.alerts.levels import crossed, describe, reached
from engine.alerts.states import transition
from engine.common.precision import format_number
from engine.conditions import api as conditions
from engine.market import api as market
from engine.notify import api as notify
from engine.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class AlertReport:
    triggered: list[int] = field(default_factory=list)  # alert ids fired by this check
    errors: list[str] = field(default_factory=list)


def check_alerts(runtime: Runtime) -> AlertReport:
    """Check every active alert once; fire those whose level the price has crossed."""
    report = AlertReport()
    with runtime.sessions() as s:
        active = list(s.scalars(select(PriceAlert).where(PriceAlert.state == AlertState.ACTIVE)))
        s.expunge_all()
    prices: dict[tuple[int, int | None, str, str], Decimal | None] = {}
    candles = _Candles(runtime, active)
    for alert in active:
        try:
            key = (alert.user_id, alert.series_id, alert.exchange, alert.symbol)
            if key not in prices:  # one read per market and user, however many alerts it has
                prices[key] = conditions.market_price(runtime, *key)
            seen = _seen(runtime, alert, prices[key], candles)
            if seen is not None:
                _fire(runtime, alert, *seen, report)
        except Exception as exc:  # one bad alert must not stop the others; it is checked again
            log.exception("price alert %d could not be checked", alert.id)
            report.errors.append(f"alert {alert.id}: {exc}")
    return report


class _Candles:
    """The highs and lows of each (user, series) of the alerts, read once a check from the earliest
    of their alerts' `candles_from_ms`."""

    def __init__(self, runtime: Runtime, alerts: list[PriceAlert]) -> None:
        self.runtime = runtime
        self.since: dict[tuple[int, int], int] = {}
        for a in alerts:
            if a.series_id is not None and a.candles_from_ms is not None:
                key = (a.user_id, a.series_id)
                self.since[key] = min(self.since.get(key, a.candles_from_ms), a.candles_from_ms)
        self.read: dict[tuple[int, int], list[tuple[int, Decimal, Decimal]]] = {}

    def since_alert(self, alert: PriceAlert) -> tuple[Decimal, Decimal] | None:
        """(highest high, lowest low) of the candles opened since the alert was set, or None."""
        assert alert.series_id is not None
        assert alert.candles_from_ms is not None
        key = (alert.user_id, alert.series_id)
        if key not in self.read:
            self.read[key] = conditions.highs_lows(self.runtime, *key, self.since[key])
        rows = [(h, lo) for ts, h, lo in self.read[key] if ts >= alert.candles_from_ms]
        return (max(h for h, _ in rows), min(lo for _, lo in rows)) if rows else None


def _seen(runtime: Runtime, alert: PriceAlert, price: Decimal | None, candles: _Candles) -> tuple[Decimal, bool] | None:
    """(the price that crossed the level, whether it was a candle's high or low), or None."""
    if price is not None and _met(runtime, alert, price):
        return price, False
    if alert.series_id is None:
        return None
    if alert.candles_from_ms is None:  # set before its series had a candle: from the first one
        end = conditions.candles_end(runtime, alert.user_id, alert.series_id)
        if end is not None:
            with runtime.sessions.begin() as s:
                s.execute(update(PriceAlert).where(PriceAlert.id == alert.id).values(candles_from_ms=end))
        return None
    extremes = candles.since_alert(alert)
    hit = None if extremes is None else reached(alert.direction, alert.price, alert.reference, *extremes)
    return None if hit is None else (hit, True)


def _met(runtime: Runtime, alert: PriceAlert, price: Decimal) -> bool:
    if alert.direction is AlertDirection.CROSSES and alert.reference is None:
        # Set before any price was known: the first price seen is where it starts from.
        with runtime.sessions.begin() as s:
            s.execute(update(PriceAlert).where(PriceAlert.id == alert.id).values(reference=price))
        alert.reference = price
    return crossed(alert.direction, alert.price, alert.reference, price)


def _fire(runtime: Runtime, alert: PriceAlert, price: Decimal, wick: bool, report: AlertReport) -> None:
    tick = market.market_ticks(runtime, alert.exchange, alert.symbol).price
    with runtime.sessions.begin() as s:
        claimed = s.execute(
            update(PriceAlert)
            .where(PriceAlert.id == alert.id, PriceAlert.state == AlertState.ACTIVE)
            .values(
                state=transition(AlertState.ACTIVE, AlertState.TRIGGERED),
                triggered_at=datetime.now(UTC),
                price_seen=price,
            )
        )
        if claimed.rowcount != 1:
            return  # cancelled (or fired by the other job) meanwhile
        title, body = message(alert, price, tick, wick)
        notify.notify(s, alert.user_id, notify.PRICE_ALERT, title, body)
    log.info("price alert %d triggered at %s%s", alert.id, price, " (a candle's high or low)" if wick else "")
    report.triggered.append(alert.id)


def message(alert: PriceAlert, price: Decimal, tick: Decimal | None, wick: bool = False) -> tuple[str, str]:
    """The notification's title and body, prices at the market's tick; `wick`: `price` is the high
    or low of a candle that reached the level, not the price now."""
    title = f"Price alert: {describe(alert.symbol, alert.direction, alert.price, tick)}"
    where = "traded at" if wick else "is at"
    body = f"{alert.exchange} {alert.symbol} {where} {format_number(price, tick)}: your alert at "
    body += f"{format_number(alert.price, tick)} triggered."
    if alert.note:
        body += f" Note: {alert.note}"
    return title, body
