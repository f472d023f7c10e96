"""Setting, listing and cancelling price alerts, each scoped to its user. An alert is set on a
series of the user's watchlist (its market: exchange and symbol), at a price rounded to the
market's tick; its direction is the one asked for, else decided from the last price
(engine.conditions.api.market_price, the price the checks read). A refused alert writes nothing
and says why at each field. `take_unshown` hands the desk's toast the alerts it has not shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.enums import AlertDirection, AlertState
from db.models import PriceAlert
from engine.alerts.levels import already_past, describe, direction_for
from engine.alerts.states import transition
from engine.common.precision import format_number, round_price
from engine.conditions import api as conditions
from engine.market import api as market
from engine.runtime import Runtime
from engine.users import api as users

MAX_PRICE = Decimal(10) ** 15
NOTE_MAX = 200
MAX_ACTIVE = 200  # per user: the engine checks every active alert on each tick
LIST_MAX = 500
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class AlertRefused(ValueError):  # noqa: N818 - the name says what happened to the alert
    """The alert cannot be set; `fields` maps each wrong field to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))


class AlertAccessError(LookupError):
    """No such alert of this user."""


@dataclass(frozen=True)
class AlertView:
    """An alert as the pages and the API show it; prices as Decimals, `text` and `price_text` at
    the market's tick ("BTC/USDT crosses above 70,000.00", "70,000.00")."""

    id: int
    series_id: int | None
    exchange: str
    symbol: str
    price: Decimal
    direction: AlertDirection
    note: str | None
    state: AlertState
    created_at: datetime
    triggered_at: datetime | None
    price_seen: Decimal | None
    cancelled_at: datetime | None
    text: str
    price_text: str
    seen_text: str | None


def plain(value: Decimal) -> Decimal:
    """`value` without the scale PostgreSQL's NUMERIC gives it (90000.120000... -> 90000.12), and
    without an exponent (90000, not 9E+4)."""
    shown = value.normalize()
    exponent = shown.as_tuple().exponent
    return shown.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else shown


def view_of(row: PriceAlert, tick: Decimal | None) -> AlertView:
    seen = None if row.price_seen is None else format_number(row.price_seen, tick)
    price_seen = None if row.price_seen is None else plain(row.price_seen)
    return AlertView(
        row.id, row.series_id, row.exchange, row.symbol, plain(row.price), row.direction, row.note, row.state,
        users.as_utc(row.created_at) or row.created_at, users.as_utc(row.triggered_at), price_seen,
        users.as_utc(row.cancelled_at), describe(row.symbol, row.direction, row.price, tick),
        format_number(row.price, tick), seen,
    )  # fmt: skip


def _views(runtime: Runtime, rows: list[PriceAlert]) -> list[AlertView]:
    with runtime.sessions() as s:
        shown = market.ticks(s, {(r.exchange, r.symbol) for r in rows})
    return [view_of(r, shown[r.exchange, r.symbol].price) for r in rows]


def _price(value: Any) -> Decimal | str:
    """A positive price written plainly, or why not."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        value = str(value)
    if not isinstance(value, str) or not _NUMBER.fullmatch(value.strip()):
        return "Enter the price as a positive number (a point for decimals, no separators)."
    number = Decimal(value.strip())
    if not 0 < number <= MAX_PRICE:
        return f"The price must be above 0 and at most {MAX_PRICE:,}."
    return number


def _direction(value: Any) -> tuple[AlertDirection | None, str | None]:
    """(the direction asked for, or None to decide it from the price), or why not."""
    if value is None or value == "":
        return None, None
    try:
        return AlertDirection(value), None
    except ValueError:
        return None, "The direction is above, below or crosses (or leave it out: decided from the price now)."


def _note(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:NOTE_MAX] or None


def create_alert(runtime: Runtime, user_id: int, raw: dict[str, Any]) -> AlertView:
    """Set an alert from raw fields (series_id, price, optional direction and note); AlertRefused
    with every field's problem, writing nothing."""
    fields: dict[str, str] = {}
    try:
        entry = market.watched(runtime, user_id, raw.get("series_id"))
    except (market.NotWatchedError, TypeError):
        entry = None
        fields["series_id"] = "Choose a series of your watchlist."
    price = _price(raw.get("price"))
    if isinstance(price, str):
        fields["price"] = price
    asked, wrong = _direction(raw.get("direction"))
    if wrong is not None:
        fields["direction"] = wrong
    if fields:
        raise AlertRefused(fields)
    assert entry is not None
    assert isinstance(price, Decimal)
    tick = market.market_ticks(runtime, entry.exchange, entry.symbol).price
    level = round_price(price, tick)
    if level <= 0:
        raise AlertRefused({"price": f"The price rounds to 0 at this market's tick ({tick})."})
    last = conditions.market_price(runtime, user_id, entry.series_id, entry.exchange, entry.symbol)
    direction = asked or direction_for(level, last)
    shown = format_number(level, tick)
    if direction is None:
        raise AlertRefused({"price": f"The price is at {shown} now: choose a level above or below it."})
    if already_past(direction, level, last):
        assert last is not None
        now = format_number(last, tick)
        raise AlertRefused({"price": f"The price ({now}) is already {direction.value} {shown}."})
    # Candles opening from the newest one's end came after the alert: their highs and lows count.
    candles_from = conditions.candles_end(runtime, user_id, entry.series_id)
    with runtime.sessions.begin() as s:
        if _active_count(s, user_id) >= MAX_ACTIVE:
            raise AlertRefused({"price": f"You have {MAX_ACTIVE} active alerts: cancel some first."})
        row = PriceAlert(
            user_id=user_id, series_id=entry.series_id, exchange=entry.exchange, symbol=entry.symbol,
            price=level, direction=direction, reference=last, candles_from_ms=candles_from,
            note=_note(raw.get("note")), state=AlertState.ACTIVE,
        )  # fmt: skip
        s.add(row)
        s.flush()
        s.expunge(row)
    return view_of(row, tick)


def _active_count(s: Session, user_id: int) -> int:
    query = select(PriceAlert.id).where(PriceAlert.user_id == user_id, PriceAlert.state == AlertState.ACTIVE)
    return len(s.execute(query.limit(MAX_ACTIVE)).all())


def list_alerts(
    runtime: Runtime,
    user_id: int,
    state: AlertState | None = None,
    exchange: str | None = None,
    symbol: str | None = None,
) -> list[AlertView]:
    """The user's alerts, newest first: of one state or all, of one market or all."""
    query = select(PriceAlert).where(PriceAlert.user_id == user_id)
    if state is not None:
        query = query.where(PriceAlert.state == state)
    if exchange is not None and symbol is not None:
        query = query.where(PriceAlert.exchange == exchange, PriceAlert.symbol == symbol)
    with runtime.sessions() as s:
        rows = list(s.scalars(query.order_by(PriceAlert.id.desc()).limit(LIST_MAX)))
        s.expunge_all()
    return _views(runtime, rows)


def get_alert(runtime: Runtime, user_id: int, alert_id: int) -> AlertView:
    with runtime.sessions() as s:
        row = _owned(s, user_id, alert_id)
        s.expunge(row)
    return _views(runtime, [row])[0]


def _owned(s: Session, user_id: int, alert_id: int) -> PriceAlert:
    row = s.get(PriceAlert, alert_id)
    if row is None or row.user_id != user_id:
        raise AlertAccessError(f"no alert {alert_id} of this user")
    return row


def cancel_alert(runtime: Runtime, user_id: int, alert_id: int) -> AlertView:
    """Cancel an active alert; a triggered or cancelled one is left as it is. The alert as it is now."""
    with runtime.sessions.begin() as s:
        row = _owned(s, user_id, alert_id)
        if row.state is AlertState.ACTIVE:
            s.execute(
                update(PriceAlert)
                .where(PriceAlert.id == alert_id, PriceAlert.state == AlertState.ACTIVE)
                .values(state=transition(row.state, AlertState.CANCELLED), cancelled_at=datetime.now(UTC))
            )
    return get_alert(runtime, user_id, alert_id)


def take_unshown(runtime: Runtime, user_id: int, limit: int = 5) -> list[AlertView]:
    """The user's triggered alerts the desk has not shown yet (oldest first), marked shown."""
    query = (
        select(PriceAlert)
        .where(
            PriceAlert.user_id == user_id,
            PriceAlert.state == AlertState.TRIGGERED,
            PriceAlert.shown_at.is_(None),
        )
        .order_by(PriceAlert.id)
        .limit(limit)
    )
    taken: list[PriceAlert] = []
    with runtime.sessions.begin() as s:
        for row in s.scalars(query).all():
            claimed = s.execute(
                update(PriceAlert)
                .where(PriceAlert.id == row.id, PriceAlert.shown_at.is_(None))
                .values(shown_at=datetime.now(UTC))
            )
            if claimed.rowcount == 1:  # else another tab took it meanwhile: that one shows it
                taken.append(row)
        s.flush()
        s.expunge_all()
    return _views(runtime, taken)
