"""The engine's side of price alerts: on each new candle (the market fetch job) and each sync tick
(engine.scheduler), every active alert is compared with its market's last price
(engine.conditions.api.market_price: the newest stored close of the alert's series, else the sync
tick's ticker), and one whose level is crossed fires: its state, `triggered_at` and `price_seen`
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
from engine.alerts.levels import crossed, describe
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
    for alert in active:
        try:
            key = (alert.user_id, alert.series_id, alert.exchange, alert.symbol)
            if key not in prices:  # one read per market and user, however many alerts it has
                prices[key] = conditions.market_price(runtime, *key)
            price = prices[key]
            if price is not None and _met(runtime, alert, price):
                _fire(runtime, alert, price, report)
        except Exception as exc:  # one bad alert must not stop the others; it is checked again
            log.exception("price alert %d could not be checked", alert.id)
            report.errors.append(f"alert {alert.id}: {exc}")
    return report


def _met(runtime: Runtime, alert: PriceAlert, price: Decimal) -> bool:
    if alert.direction is AlertDirection.CROSSES and alert.reference is None:
        # Set before any price was known: the first price seen is where it starts from.
        with runtime.sessions.begin() as s:
            s.execute(update(PriceAlert).where(PriceAlert.id == alert.id).values(reference=price))
        alert.reference = price
    return crossed(alert.direction, alert.price, alert.reference, price)


def _fire(runtime: Runtime, alert: PriceAlert, price: Decimal, report: AlertReport) -> None:
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
        title, body = message(alert, price, tick)
        notify.notify(s, alert.user_id, notify.PRICE_ALERT, title, body)
    log.info("price alert %d triggered at %s", alert.id, price)
    report.triggered.append(alert.id)


def message(alert: PriceAlert, price: Decimal, tick: Decimal | None) -> tuple[str, str]:
    """The notification's title and body, prices at the market's tick."""
    title = f"Price alert: {describe(alert.symbol, alert.direction, alert.price, tick)}"
    body = f"{alert.exchange} {alert.symbol} is at {format_number(price, tick)}: your alert at "
    body += f"{format_number(alert.price, tick)} triggered."
    if alert.note:
        body += f" Note: {alert.note}"
    return title, body
