"""The REST API's schemas of price alerts (engine.alerts): an alert as a client sets it (loosely
typed where the engine names each problem: the price) and as it is shown."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from web.api.schemas import MAX_ID, NumberIn, Utc, _Out

Direction = Literal["above", "below", "crosses"]
State = Literal["active", "triggered", "cancelled"]


class AlertsQuery(BaseModel):
    state: Literal["active", "triggered", "cancelled", "all"] = "all"


class AlertIn(BaseModel):
    """A level on a series of your watchlist: notified once when the price crosses it. Without a
    direction: above the price now waits for a rise, below it for a fall."""

    series_id: int = Field(ge=1, le=MAX_ID, description="a series of your watchlist: the alert's market")
    price: NumberIn = Field(description="the level; rounded to the market's tick")
    direction: Direction | None = Field(None, description="above, below or crosses (either way)")
    note: str | None = Field(None, max_length=200, description="said in the notification")


class AlertOut(_Out):
    id: int
    series_id: int | None
    exchange: str
    symbol: str
    price: Decimal
    direction: Direction
    note: str | None
    state: State
    created_at: Utc
    triggered_at: Utc | None
    price_seen: Decimal | None = Field(description="the price that triggered it")
    cancelled_at: Utc | None
    text: str = Field(description='the alert in words: "BTC/USDT crosses above 70,000.00"')


class AlertList(BaseModel):
    alerts: list[AlertOut]
