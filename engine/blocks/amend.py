"""Amend a live block: move its stop (or one trade's), move a target, stop to break-even, add or
remove a target, resize what is not filled yet (the checks: engine.blocks.amend_plan).

Safety, the same as a new block's: the amend is ONE transaction under the account's lock that writes
the wanted state before any venue call - the trades' new stop, target and amount, a removed trade's
close reason, and for a resize the replacement entry intents (INITIALIZED, the next seq of the
deterministic client id tb<block>-<index>-entry-<seq>) with the old entries marked PENDING_CANCEL.
The venue work is then the bracket rules' usual cancel/replace (engine.blocks.rules): an SL at
another price is canceled and, once gone, replaced with the next seq; a resting TP likewise. A crash
at any point leaves either the old state (nothing committed) or the wanted state, which the next tick
or the start-up recovery finishes. A replacement entry is never sent while an entry of its block is
still being canceled (engine.blocks.executor), so no two entries of a trade rest at once; once the
old one is gone it asks for what is left unfilled (an old entry that filled meanwhile keeps its fill).

A refused amend raises BlockRejected (one FieldError per field) and writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import CloseReason, OrderRole, OrderStatus, Side
from db.models import Block, ExchangeAccount, Order, Trade
from engine.blocks.amend_plan import AmendContext, AmendPlan, BlockAmend, plan_amend
from engine.blocks.commands import drive_account, entry_intent, traded_market
from engine.blocks.executor import fence_for
from engine.blocks.plan import BlockRejected, FieldError
from engine.blocks.queries import owned_block
from engine.blocks.states import LIVE_BLOCKS, OrderEvent, is_open, transition_order
from engine.blocks.store import load_live, seq_of
from engine.blocks.views import BlockView
from engine.common.precision import RoundMode, format_money, multiply, to_decimal
from engine.common.symbols import split_symbol
from engine.exchanges.api import MarketInfo, VenueError, VenueNotReadyError, feed_for, venue_for
from engine.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AmendOutcome:
    """What the amend changed, and the block's error note after the venue work (None: all placed)."""

    block_id: int
    trades_changed: int
    last_error: str | None


def amend_block(
    runtime: Runtime, user_id: int, block_id: int, change: BlockAmend, now_ms: int | None = None, drive: bool = True
) -> AmendOutcome:
    """Check and write the amend, then (with `drive`) do the venue's part at once.

    Raises BlockAccessError for another user's block and BlockRejected for a refused amend (nothing
    written then). `drive=False` leaves the venue's part to the next sync tick."""
    with runtime.sessions() as s:
        block = owned_block(s, user_id, block_id)
        account = s.get(ExchangeAccount, block.account_id)
        assert account is not None
        market = traded_market(s, account, block.symbol)
        entry_price = block.entry_price
    if market is None:
        raise BlockRejected([FieldError("amend", f"{block.symbol} is no longer a market of {account.exchange}.")])
    last = _last_price(runtime, account, block.symbol)
    with runtime.trading.account_lock(account.id), runtime.sessions.begin() as s:
        row = owned_block(s, user_id, block_id)
        if row.status not in LIVE_BLOCKS:
            message = f"This block is {row.status.value}: there is nothing live to change."
            raise BlockRejected([FieldError("amend", message)])
        (view,) = load_live(s, block_ids=[block_id]).blocks
        plan = plan_amend(view, change, AmendContext(market, entry_price, last))
        _check_funds(runtime, account, market, view, plan, entry_price or last)
        changed = _write(s, row, view, plan, fence_for(runtime, s).epoch)
    log.info("block %d amended: %d trades changed", block_id, changed)
    if drive:
        drive_account(runtime, account.id, block_id, now_ms, only_block=True)
    with runtime.sessions() as s:
        return AmendOutcome(block_id, changed, owned_block(s, user_id, block_id).last_error)


def _last_price(runtime: Runtime, account: ExchangeAccount, symbol: str) -> Decimal | None:
    try:
        return to_decimal(feed_for(runtime, account).fetch_ticker(symbol).last)
    except Exception as exc:  # no fresh price: the last one the sync saw, or none (the checks then skip it)
        log.warning("no price for %s on %s: %s", symbol, account.exchange, exc)
        return runtime.trading.last_prices.get((account.exchange, symbol))


def _check_funds(
    runtime: Runtime,
    account: ExchangeAccount,
    market: MarketInfo,
    view: BlockView,
    plan: AmendPlan,
    price: Decimal | None,
) -> None:
    """A bigger unfilled size needs the extra cost free on the account (engine.blocks.plan's balance rule)."""
    before = {t.id: t.amount for t in view.trades}
    extra = sum((amount - before[tid] for tid, amount in plan.amounts.items()), Decimal(0))
    if plan.new_trade is not None:
        extra += plan.new_trade[2]
    if extra <= 0 or price is None:
        return
    try:
        balances = venue_for(runtime, account, market.type).fetch_balance()
    except (VenueError, VenueNotReadyError) as exc:
        raise BlockRejected([FieldError("size", f"The account's balance could not be read: {exc}")]) from exc
    quote = split_symbol(market.symbol)[1]
    free = balances[quote].free if quote in balances else Decimal(0)
    cost = multiply(extra, price)
    if cost > free:
        why = "" if view.side is Side.LONG else " as collateral for the short"
        raise BlockRejected(
            [
                FieldError(
                    "size",
                    f"The bigger size needs {format_money(cost, RoundMode.UP)} {quote} more{why}, "
                    f"but only {format_money(free, RoundMode.DOWN)} {quote} is free.",
                )
            ]
        )


def _write(s: Session, block: Block, view: BlockView, plan: AmendPlan, epoch: int) -> int:
    """The wanted state, in the caller's transaction (module docstring); returns the trades changed."""
    trades = {t.id: t for t in s.scalars(select(Trade).where(Trade.block_id == block.id))}
    touched: set[int] = set()
    for tid, stop in plan.stops.items():
        trades[tid].stop_price = stop
        touched.add(tid)
    if plan.block_stop is not None:
        block.stop_price = plan.block_stop
    for tid, target in plan.targets.items():
        trades[tid].target_price = target
        touched.add(tid)
    if plan.remove is not None:
        trades[plan.remove].close_reason = CloseReason.CANCEL  # the rules close it (engine.blocks.rules._close)
        touched.add(plan.remove)
    for tid, amount in plan.amounts.items():
        _replace_entry(s, block, trades[tid], amount, epoch)
        touched.add(tid)
    if plan.new_trade is not None:
        index, target, amount, stop = plan.new_trade
        trade = Trade(block_id=block.id, index=index, amount=amount, target_price=target, stop_price=stop)
        s.add(trade)
        s.flush()
        s.add(entry_intent(block, trade, amount, block.entry_price, 1, epoch))
        touched.add(trade.id)
    return len(touched)


def _replace_entry(s: Session, block: Block, trade: Trade, amount: Decimal, epoch: int) -> None:
    """The trade's new size: its live entries withdrawn (never-sent ones at once), a new intent written."""
    entries = list(s.scalars(select(Order).where(Order.trade_id == trade.id, Order.role == OrderRole.ENTRY)))
    for order in entries:
        if not is_open(order.status) or order.status is OrderStatus.PENDING_CANCEL:
            continue
        event = OrderEvent.CANCEL if order.status is OrderStatus.INITIALIZED else OrderEvent.CANCEL_REQUEST
        order.status = transition_order(order.status, event)
    trade.amount = amount
    seq = 1 + max((seq_of(o.client_order_id) for o in entries), default=0)
    s.add(entry_intent(block, trade, amount, block.entry_price, seq, epoch))
