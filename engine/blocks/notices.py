"""The blocks engine's one hook into notifications: a `before_flush` listener that books an outbox
row (engine.notify) for every order or block state transition worth telling, in the very flush that
writes the transition, so the event commits or rolls back with it (a crash loses none and books none
twice: a filled or rejected order and a closed block are terminal, so each transition happens once).

Told: an order FILLED (entry, target, stop, exit) or an entry canceled after a partial fill, an
order REJECTED by the venue, an order still
not placed after MAX_ATTEMPTS sends (engine.blocks.executor._failed notes it on that attempt), a
block CLOSED. Every order and block transition is written through the ORM (states.transition_order,
store.write_settlement), which is why one listener sees them all. Booking never breaks the flush:
a failure is logged and the state change goes on without its notification.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from db.enums import BlockStatus, OrderRole, OrderStatus, TradeStatus
from db.models import Block, ExchangeAccount, Market, Order, Trade
from engine.blocks.detail import block_funding
from engine.blocks.executor import MAX_ATTEMPTS
from engine.notify import api as notify

log = logging.getLogger(__name__)


def _changed(obj: object, name: str) -> bool:
    history = inspect(obj).attrs[name].history
    return history.has_changes() and list(history.deleted) != list(history.added)


def _facts(s: Session, block: Block) -> notify.BlockFacts:
    exchange = s.scalar(select(ExchangeAccount.exchange).where(ExchangeAccount.id == block.account_id))
    ticks = s.execute(
        select(Market.price_tick, Market.amount_tick).where(Market.exchange == exchange, Market.symbol == block.symbol)
    ).first()
    price_tick, amount_tick = ticks if ticks is not None else (None, None)
    return notify.BlockFacts(block.id, block.symbol, block.side.value, price_tick, amount_tick)


def _order_message(s: Session, order: Order) -> notify.Message | None:
    status_moved = _changed(order, "status")
    # An entry canceled part-filled (its timeout) opened a position all the same: told as a fill.
    part_filled_entry = order.status is OrderStatus.CANCELED and order.role is OrderRole.ENTRY and order.filled > 0
    if status_moved and (order.status is OrderStatus.FILLED or part_filled_entry):
        block, trade = s.get(Block, order.block_id), s.get(Trade, order.trade_id)
        assert block is not None
        assert trade is not None
        price = order.average or order.price or order.stop_price or Decimal(0)
        return notify.order_filled(_facts(s, block), order.role.value, trade.index, order.side, order.filled, price)
    if status_moved and order.status is OrderStatus.REJECTED:
        block = s.get(Block, order.block_id)
        assert block is not None
        return notify.order_refused(_facts(s, block), order.role.value, order.last_error or "no reason given")
    if order.status is OrderStatus.SUBMITTED and order.attempts == MAX_ATTEMPTS and order.last_error:
        # Only executor._failed writes a still-SUBMITTED order (its error), once per attempt.
        block = s.get(Block, order.block_id)
        assert block is not None
        return notify.order_failed(_facts(s, block), order.role.value, order.attempts, order.last_error)
    return None


def _block_message(s: Session, block: Block) -> notify.Message | None:
    if not (_changed(block, "status") and block.status is BlockStatus.CLOSED):
        return None
    # The trades as this flush is about to write them (identity map, not re-read from the table).
    trades = [t for t in s.scalars(select(Trade).where(Trade.block_id == block.id)) if t.status is TradeStatus.CLOSED]
    pnl = sum((t.realized_pnl or Decimal(0) for t in trades), Decimal(0))
    funding = block_funding(s, [block.id]).get(block.id, Decimal(0))
    return notify.block_done(_facts(s, block), len(trades), pnl, funding)


def _messages(s: Session) -> list[tuple[int, notify.Message]]:
    out = []
    for obj in list(s.dirty):
        if isinstance(obj, Order):
            message = _order_message(s, obj)
            user_of = obj.block_id
        elif isinstance(obj, Block):
            message, user_of = _block_message(s, obj), obj.id
        else:
            continue
        if message is not None:
            block = s.get(Block, user_of)
            assert block is not None
            out.append((block.user_id, message))
    return out


@event.listens_for(Session, "before_flush")
def book_notices(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """Book the notifications of the transitions this flush writes (module docstring)."""
    try:
        with session.no_autoflush:
            for user_id, message in _messages(session):
                notify.book(session, user_id, message)
    except Exception:  # a notification must never cost the engine its state change
        log.exception("notifications of this change not booked")
