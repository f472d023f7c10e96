"""An order whose market is closed waits for the open, and says so.

A venue with market hours (alpaca's US stocks) raises MarketClosed before it sends anything. The
order is then held, not failed: an intent never sent before goes back to INITIALIZED (nothing can be
on the venue under its client order id), one whose earlier send lost its answer stays SUBMITTED (the
sync looks it up as always); the attempt is not counted, so a weekend neither backs the order off
nor reports it "not placed after N attempts". The order and its block carry the note a user reads,
"waiting for the market to open: ...", until the order is sent; the next tick tries again (the
venue's clock is cached until it can change, so that asks the venue nothing).

Outside the hours the desk also takes no decision on the last price (`tradeable`): a target it
watches is not acted upon and a stop is not judged past, since nothing could trade before the open
and a price printed after hours is not one the stop would fill at; the stop keeps resting on the
venue (Alpaca triggers it in regular hours only). Both resume with the first price after the open.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderStatus
from db.models import Block, Order
from engine.blocks.states import OrderEvent, transition_order
from engine.exchanges.api import MarketClosed, VenueError

WAITING = "waiting for the market to open"


def waiting_note(role: str, client_order_id: str, opens_at_ms: int | None) -> str:
    """What the order and its block say while the market is closed."""
    when = f"at {_iso(opens_at_ms)}" if opens_at_ms is not None else "once it opens"
    return f"{WAITING}: the {role} order {client_order_id} is sent {when}"


def hold_for_open(sessions: sessionmaker[Session], order_id: int, was: OrderStatus, exc: MarketClosed) -> None:
    """Record that nothing was sent (module docstring); `was` is the order's status before this send."""
    with sessions.begin() as s:
        row = s.get(Order, order_id)
        assert row is not None
        if was is OrderStatus.INITIALIZED and row.status is OrderStatus.SUBMITTED:
            row.status = transition_order(row.status, OrderEvent.UNSENT)
        row.attempts = max(row.attempts - 1, 0)
        row.last_error = waiting_note(row.role.value, row.client_order_id, exc.opens_at_ms)
        block = s.get(Block, row.block_id)
        assert block is not None
        block.last_error = row.last_error


def sent(s: Session, row: Order) -> None:
    """The order reached the venue: the waiting note goes from the order and its block (the block is
    read only when the order had waited: every send passes here)."""
    waited = (row.last_error or "").startswith(WAITING)
    row.last_error = None
    if not waited:
        return
    block = s.get(Block, row.block_id)
    if block is not None and (block.last_error or "").startswith(WAITING):
        block.last_error = None


def tradeable(venue: object, symbol: str) -> bool:
    """False while the venue says `symbol`'s market is closed (a venue without hours: always True;
    a clock that cannot be read: True, the desk then acts as on any venue)."""
    closed = getattr(venue, "market_closed", None)
    if closed is None:
        return True
    try:
        return not closed(symbol)
    except VenueError:
        return True


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
