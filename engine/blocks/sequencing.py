"""Which of a block's orders may go to the venue now, and what they wait on: a trade's first stop
and target are contingent on its entry's fill (OrderRequest.contingent_on), and an amend's
replacement entry waits until the entry it replaces is canceled (engine.blocks.amend). Used by the
executor when it builds and sends an order."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from db.enums import OrderRole, OrderStatus, OrderType
from db.models import Order, Trade
from engine.blocks.states import OrderEvent, transition_order
from engine.blocks.store import seq_of


def contingent_on(s: Session, row: Order) -> str | None:
    """The client order id of the entry whose fill this stop or resting target protects, when it is
    the trade's first of its role to reach the venue: the order a venue with one-triggers-other
    orders would have held since that fill (OrderRequest.contingent_on). None for market orders, for
    replacements (a moved or resized stop, a moved target: they did not exist back then) and while
    no entry has filled. One query."""
    if row.role not in (OrderRole.SL, OrderRole.TP) or row.type is OrderType.MARKET:
        return None
    earlier = (Order.role == row.role) & (Order.id < row.id) & Order.exchange_order_id.is_not(None)
    rows = s.execute(
        select(Order.role, Order.client_order_id)
        .where(Order.trade_id == row.trade_id, Order.id != row.id)
        .where(((Order.role == OrderRole.ENTRY) & (Order.filled > 0)) | earlier)
        .order_by(Order.id.desc())
    ).all()
    if any(role == row.role for role, _cid in rows):
        return None
    return next((cid for _role, cid in rows), None)


# Built once (docs/benchmarks.md, "statements built once"): a statement built per call pays for
# its construction and cache key every time, about half of a small query's CPU.
_ENTRIES_CANCELING = (
    select(func.count())
    .select_from(Order)
    .where(Order.block_id == bindparam("block_id"), Order.role == OrderRole.ENTRY)
    .where(Order.status == OrderStatus.PENDING_CANCEL)
)


def entry_may_go(s: Session, row: Order) -> bool:
    """Whether an entry intent may be sent now. Not while an entry of its block is being canceled (an
    amend replaces it: the two must never rest together, or both could fill). A replacement (seq > 1)
    asks for what its trade has left unfilled once the old entry is gone, and is withdrawn when nothing
    is (the old one filled before its cancel landed). Changes here commit with the caller's claim."""
    busy = s.scalar(_ENTRIES_CANCELING, {"block_id": row.block_id})
    if busy:
        return False
    if seq_of(row.client_order_id) == 1:
        return True
    filled = s.scalar(
        select(func.coalesce(func.sum(Order.filled), 0)).where(
            Order.trade_id == row.trade_id, Order.role == OrderRole.ENTRY, Order.id != row.id
        )
    )
    trade = s.get(Trade, row.trade_id)
    assert trade is not None
    left = trade.amount - Decimal(filled or 0)
    if left <= 0:
        row.status = transition_order(row.status, OrderEvent.CANCEL)
        row.last_error = "not sent: the entry it replaces filled the trade"
        return False
    row.amount = min(row.amount, left)
    return True


def waiting_entries(s: Session, row: Order) -> list[int]:
    """Entry intents of the block that wait for canceled entries to be gone."""
    query = select(Order.id).where(
        Order.block_id == row.block_id, Order.role == OrderRole.ENTRY, Order.status == OrderStatus.INITIALIZED
    )
    return list(s.scalars(query.order_by(Order.id)))
