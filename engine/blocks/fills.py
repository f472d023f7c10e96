"""Venue fills into the books: each fill of our orders stored once (keyed by order and venue trade
id) with the P&L an exit fill booked, and the orders' fees taken from their fills (a venue whose
order queries carry no commission, binance spot, says what the fee took only in its fills). The
sync tick (engine.blocks.sync) calls `record_fills` after each reconciliation."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import Side
from db.models import Block, Fill, Order
from engine.blocks.answers import set_fees
from engine.blocks.pnl import FeeParts, fee_parts
from engine.blocks.states import EXIT_ROLES, is_order_terminal
from engine.blocks.store import load_live, write_settlement
from engine.blocks.views import TradeView, fill_pnl
from engine.exchanges.api import VenueTrade


def record_fills(sessions: sessionmaker[Session], trades: list[VenueTrade], now_ms: int) -> int:
    """Store venue fills of our orders, once each (keyed by order and venue trade id), with the P&L
    each exit fill booked; the orders take the fees of their fills and their blocks are settled again
    with them, all in ONE transaction (a crash in between would leave fills whose fees no later tick
    books: the fills are recorded, so nothing looks for them again). Returns how many were new."""
    cids = {t.client_order_id for t in trades}
    added = 0
    with sessions.begin() as s:
        orders = {o.client_order_id: o for o in s.scalars(select(Order).where(Order.client_order_id.in_(cids)))}
        ids = [o.id for o in orders.values()]
        seen = set(s.execute(select(Fill.order_id, Fill.exchange_trade_id).where(Fill.order_id.in_(ids))).all())
        views = _trade_views(s, {o.block_id for o in orders.values()})
        for t in trades:
            order = orders.get(t.client_order_id)
            if order is None or (order.id, t.id) in seen:
                continue
            side_view = views.get(order.trade_id)
            pnl = None
            if order.role in EXIT_ROLES and side_view is not None:
                fee = fee_parts(t.fee, t.fee_currency, t.symbol or side_view[2], t.price).quote
                pnl = fill_pnl(side_view[0], side_view[1], t.price, t.amount, fee)
            s.add(
                Fill(
                    order_id=order.id,
                    trade_id=order.trade_id,
                    exchange_trade_id=t.id,
                    role=order.role,
                    price=t.price,
                    amount=t.amount,
                    fee=t.fee,
                    fee_currency=t.fee_currency,
                    realized_pnl=pnl,
                    ts=t.ts,
                )
            )
            seen.add((order.id, t.id))
            added += 1
        s.flush()
        repriced = fees_from_fills(s, cids)
        if repriced:  # the trades' fees and P&L with the fees just learned
            s.flush()
            write_settlement(s, load_live(s, block_ids=sorted(repriced)), now_ms)
    return added


def fees_from_fills(s: Session, client_order_ids: set[str]) -> set[int]:
    """Orders take the fees of their recorded fills, each fill valued at its own price (exact): a venue
    whose order queries carry no commission (binance spot) reports a filled order with fee 0, its fills
    have the fee, in whatever currency. When the fills cover all the order filled, they are its fees;
    when some are missing still, a finished order takes their fees only where those are higher (a live
    one keeps the venue's word until they are all in). Returns the ids of the blocks whose orders
    changed (to be settled again)."""
    changed: set[int] = set()
    query = (
        select(Order, Block.symbol)
        .join(Block, Block.id == Order.block_id)
        .where(Order.client_order_id.in_(client_order_ids))
    )
    for order, symbol in s.execute(query).all():
        fills = list(s.scalars(select(Fill).where(Fill.order_id == order.id).order_by(Fill.id)))
        if not fills:
            continue
        try:
            fees = sum((fee_parts(f.fee, f.fee_currency, symbol, f.price) for f in fills), FeeParts())
        except ValueError as exc:  # unvalued fees in two third currencies: say so, change nothing
            order.last_error = f"fees not booked: {exc}"[:2000]
            continue
        complete = sum((f.amount for f in fills), Decimal(0)) == order.filled
        if not complete:
            if not is_order_terminal(order.status):
                continue  # a live order keeps the venue's word (the next lookup would undo it)
            fees = FeeParts(
                max(fees.quote, order.fee),
                max(fees.base, order.fee_base),
                fees.other if fees.other > order.fee_other else order.fee_other,
                fees.other_currency if fees.other > order.fee_other else order.fee_other_currency,
            )
        before = (order.fee, order.fee_base, order.fee_other, order.fee_other_currency)
        set_fees(order, fees)
        if before != (order.fee, order.fee_base, order.fee_other, order.fee_other_currency):
            changed.add(order.block_id)
    return changed


def _trade_views(s: Session, block_ids: set[int]) -> dict[int, tuple[Side, TradeView, str]]:
    """trade id -> (side, TradeView, symbol) for the P&L of exit fills."""
    loaded = load_live(s, block_ids=sorted(block_ids))
    out: dict[int, tuple[Side, TradeView, str]] = {}
    for block in loaded.blocks:
        for trade in block.trades:
            out[trade.id] = (block.side, trade, block.symbol)
    return out
