"""The trading API the pages call: submit a block, cancel it, list blocks and show one.

`preview_block` runs the same checks for the form's live preview, writing nothing.
`submit_block` checks the block against the market (markets table) and the account's balance on its
venue, plans it (engine.blocks.plan), then writes the block, its trades and one ENTRY intent per trade in
ONE transaction; a refused block raises BlockRejected (field errors) and leaves no row and no order.
The entries are sent after the commit, by a sync of the account (engine.blocks.sync), which also protects
whatever fills at once. Equity, kept simple: the quote balance plus the block's base coin (its
total, negative for a margin short) valued at the last price; other coins are not counted.

The protection mode per account and market is the venue's decision (engine.exchanges.api.protection_mode).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import (
    AccountKind,
    BlockStatus,
    CloseReason,
    EntryType,
    OrderRole,
    OrderStatus,
    OrderType,
    ProtectionMode,
    Side,
    TradeStatus,
)
from db.models import Block, ExchangeAccount, Order, Trade
from engine.blocks.bounds import request_problems
from engine.blocks.executor import Fence, fence_for
from engine.blocks.plan import BlockPlan, BlockPreview, BlockRejected, BlockRequest, FieldError, plan_block, preview
from engine.blocks.queries import BlockAccessError, owned_block
from engine.blocks.resting import protection_note
from engine.blocks.states import OrderEvent, is_block_terminal, is_open, is_trade_terminal, transition_order
from engine.blocks.store import client_order_id, from_ms
from engine.blocks.sync import sync_account, sync_loaded
from engine.common.precision import multiply, to_decimal
from engine.common.symbols import split_symbol
from engine.exchanges.api import (
    DERIVATIVES,
    MarketInfo,
    TradingVenue,
    VenueError,
    VenueNotReadyError,
    engine_clock,
    feed_for,
    protection_mode,
    venue_for,
)
from engine.market.api import get_market
from engine.runtime import Runtime
from engine.users.api import get_account, is_margin

log = logging.getLogger(__name__)

__all__ = [
    "BlockAccessError",
    "can_short",
    "cancel_block",
    "preview_block",
    "submit_block",
]


def submit_block(
    runtime: Runtime,
    user_id: int,
    account_id: int,
    req: BlockRequest,
    now_ms: int | None = None,
    drive: bool = True,
    within: Callable[[Session, int], None] | None = None,
) -> int:
    """Validate, plan and store a block with its entry intents; returns the block id.

    Raises AccountAccessError (a PermissionError) for another user's account and BlockRejected with
    every field error for a block that cannot be placed; either way nothing is written or sent.
    `drive=False` leaves sending the entries to the next sync tick (bulk submits, benchmarks).
    `within(session, block_id)` runs inside the transaction that writes the block and its intents,
    so a caller's own record of it (a condition marked fired) commits with them or not at all; an
    exception it raises rolls the block back."""
    ready = _prepare(runtime, user_id, account_id, req)
    account, market, venue, req = ready.account, ready.market, ready.venue, ready.req
    now = now_ms if now_ms is not None else engine_clock(runtime, account)()
    plan = plan_block(req, market, ready.equity, ready.free)
    mode = protection_mode(venue.capabilities, market.type)
    block_id, fence = _write_block(runtime, user_id, account, req, plan, mode, now, within)
    log.info("block %d submitted: %s %s %s", block_id, plan.side.value, plan.total_amount, plan.symbol)
    if drive:  # this block's orders alone: a submit's latency does not grow with the account's other blocks
        # The account and the fence as just read: the send re-reads the database's epoch as it claims.
        drive_account(runtime, account.id, block_id, now_ms, only_block=True, loaded=(account, fence))
    return block_id


def preview_block(runtime: Runtime, user_id: int, account_id: int, req: BlockRequest) -> BlockPreview:
    """What `submit_block` would make of the request, without writing or sending anything: size,
    cost, money at risk, reward:risk per target and every field error, from the same market,
    price and balance the submit would use (engine.blocks.plan.preview runs plan_block's analysis).

    Raises AccountAccessError for another user's account; an unknown market or an unreadable
    balance comes back as the preview's errors."""
    try:
        ready = _prepare(runtime, user_id, account_id, req)
    except BlockRejected as exc:
        return BlockPreview(None, None, None, None, (), None, exc.errors)
    mode = protection_mode(ready.venue.capabilities, ready.market.type)
    note = protection_note(mode, ready.account.kind, ready.account.exchange)
    return replace(preview(ready.req, ready.market, ready.equity, ready.free), protection=note)


@dataclass(frozen=True)
class CancelOutcome:
    """What a cancel did, so the trader is told the truth: the block's status before and after,
    and how many of its trades still hold a position (kept under their stop and targets)."""

    block_id: int
    before: BlockStatus
    after: BlockStatus
    open_trades: int


def cancel_block(
    runtime: Runtime, user_id: int, block_id: int, close_positions: bool, now_ms: int | None = None
) -> CancelOutcome:
    """Cancel the block's unfilled entries. Open positions keep their protection, or with
    `close_positions` are closed at market (the stop is canceled first). The block is kept
    (archived in its final status), never deleted."""
    with runtime.sessions() as s:
        account_id = owned_block(s, user_id, block_id).account_id
    with runtime.trading.account_lock(account_id), runtime.sessions.begin() as s:
        block = owned_block(s, user_id, block_id)
        before = block.status
        if not is_block_terminal(before):
            _request_cancel(s, block, close_positions)
    if not is_block_terminal(before):
        drive_account(runtime, account_id, block_id, now_ms, only_block=True)
    with runtime.sessions() as s:
        block = owned_block(s, user_id, block_id)
        held = s.scalar(select(func.count()).where(Trade.block_id == block_id, Trade.status == TradeStatus.OPEN))
        return CancelOutcome(block_id, before, block.status, int(held or 0))


# --- helpers ---


@dataclass(frozen=True)
class _Prepared:
    """What planning a block needs: the account and its venue, the market as this account trades
    it, the request with the current price filled in, and the account's equity and free quote."""

    account: ExchangeAccount
    market: MarketInfo
    venue: TradingVenue
    req: BlockRequest
    equity: Decimal
    free: Decimal


def _prepare(runtime: Runtime, user_id: int, account_id: int, req: BlockRequest) -> _Prepared:
    if problems := request_problems(req):  # before the database sees the symbol (a NUL is refused by PostgreSQL)
        raise BlockRejected([FieldError(name, message) for name, message in problems])
    with runtime.sessions() as s:
        account = get_account(s, user_id, account_id)
        if req.exchange is not None and req.exchange != account.exchange:
            message = f"This account trades on {account.exchange}; the chart shows {req.exchange}."
            raise BlockRejected([FieldError("account", message)])
        market = traded_market(s, account, req.symbol)
    if market is None:
        raise BlockRejected([FieldError("symbol", f"{req.symbol} is not a market of {account.exchange}.")])
    try:
        venue = venue_for(runtime, account, market.type)
    except VenueNotReadyError as exc:  # live trading off or no credentials: the account cannot trade
        raise BlockRejected([FieldError("account", str(exc))]) from exc
    last = _last_price(runtime, account, req)
    equity, free = _funds(venue, market, last)
    if req.reference_price is None and last is not None:
        req = replace(req, reference_price=last)
    return _Prepared(account, market, venue, req, equity, free)


def traded_market(s: Session, account: ExchangeAccount, symbol: str) -> MarketInfo | None:
    """The market as this account trades it: a paper (or replay) account shorts a perpetual or a
    future always, and a spot market exactly when it simulates margin."""
    market = get_market(s, account.exchange, symbol)
    if market is not None and account.kind is not AccountKind.LIVE:
        market = replace(market, can_short=market.type in DERIVATIVES or is_margin(s, account))
    return market


def can_short(runtime: Runtime, user_id: int, account_id: int, symbol: str) -> bool:
    """Whether a short on `symbol` through this account is possible at all (what the form offers);
    plan_block refuses one anyway when not. Raises AccountAccessError for another user's account."""
    with runtime.sessions() as s:
        market = traded_market(s, get_account(s, user_id, account_id), symbol)
    return market is not None and market.can_short


def _last_price(runtime: Runtime, account: ExchangeAccount, req: BlockRequest) -> Decimal | None:
    if req.reference_price is not None:
        return req.reference_price
    try:
        return to_decimal(feed_for(runtime, account).fetch_ticker(req.symbol).last)
    except Exception as exc:  # no price: plan_block says so for a market entry; limits need none
        log.warning("no price for %s on %s: %s", req.symbol, account.exchange, exc)
        return None


def _funds(venue: TradingVenue, market: MarketInfo, last: Decimal | None) -> tuple[Decimal, Decimal]:
    """(equity, free quote) from the venue's balance; see the module docstring for equity."""
    try:
        balances = venue.fetch_balance()
    except VenueError as exc:
        raise BlockRejected([FieldError("account", f"The account's balance could not be read: {exc}")]) from exc
    base, quote = split_symbol(market.symbol)
    zero = Decimal(0)
    quote_bal, base_bal = balances.get(quote), balances.get(base)
    equity = quote_bal.total if quote_bal else zero
    if base_bal is not None and base_bal.total and last is not None:
        equity += multiply(base_bal.total, last)
    return equity, quote_bal.free if quote_bal else zero


def entry_order_fields(
    entry_type: EntryType, price: Decimal | None
) -> tuple[OrderType, Decimal | None, Decimal | None]:
    """(type, limit price, stop price) of a trade's entry order (a new block's, an amend's replacement)."""
    if entry_type is EntryType.MARKET:
        return OrderType.MARKET, None, None
    if entry_type is EntryType.LIMIT:
        return OrderType.LIMIT, price, None
    return OrderType.STOP_MARKET, None, price


def _write_block(
    runtime: Runtime,
    user_id: int,
    account: ExchangeAccount,
    req: BlockRequest,
    plan: BlockPlan,
    mode: ProtectionMode,
    now_ms: int,
    within: Callable[[Session, int], None] | None = None,
) -> tuple[int, Fence]:
    """The block, its trades and their entry intents (and the caller's `within`): one transaction.
    Returns the block's id and the fence its intents were written under."""
    with runtime.sessions.begin() as s:
        fence = fence_for(runtime, s)
        epoch = fence.epoch  # the intents' fencing epoch (engine.blocks.executor)
        block = Block(
            user_id=user_id,
            account_id=account.id,
            symbol=plan.symbol,
            side=plan.side,
            entry_type=plan.entry_type,
            entry_price=None if plan.entry_type is EntryType.MARKET else plan.entry_price,
            stop_price=plan.stop_price,
            size_mode=req.size_mode,
            size_value=req.size_value,
            total_amount=plan.total_amount,
            risk=plan.risk,
            breakeven_after_first=req.breakeven_after_first_target,
            entry_timeout_s=req.entry_timeout_s,
            max_duration_s=req.max_duration_s,
            protection_mode=mode,
            leverage=plan.leverage,
            margin_mode=plan.margin_mode,
            created_at=from_ms(now_ms),
        )
        s.add(block)
        s.flush()
        for planned in plan.trades:
            trade = Trade(
                block_id=block.id,
                index=planned.index,
                amount=planned.amount,
                target_price=planned.target_price,
                stop_price=planned.stop_price,
            )
            s.add(trade)
            s.flush()
            s.add(entry_intent(block, trade, planned.amount, planned.entry_price, 1, epoch))
        if within is not None:
            within(s, block.id)
            s.flush()  # a unique key the caller writes fails here, inside the block's transaction
        return block.id, fence


def _request_cancel(s: Session, block: Block, close_positions: bool) -> None:
    """Persist the cancel: live entries go PENDING_CANCEL (never-sent ones straight to CANCELED);
    with `close_positions`, every unfinished trade is marked to close at market (reason CANCEL)."""
    for trade in s.scalars(select(Trade).where(Trade.block_id == block.id)):
        if is_trade_terminal(trade.status):
            continue
        entries = s.scalars(select(Order).where(Order.trade_id == trade.id, Order.role == OrderRole.ENTRY))
        for order in entries:
            if not is_open(order.status) or order.status is OrderStatus.PENDING_CANCEL:
                continue
            event = OrderEvent.CANCEL if order.status is OrderStatus.INITIALIZED else OrderEvent.CANCEL_REQUEST
            order.status = transition_order(order.status, event)
        if close_positions and trade.close_reason is None:
            trade.close_reason = CloseReason.CANCEL


def entry_intent(
    block: Block, trade: Trade, amount: Decimal, entry_price: Decimal | None, seq: int, epoch: int
) -> Order:
    """The intent of a trade's entry order (version `seq` of its client id), written before any
    venue call: a new block's first entries and an amend's replacements alike."""
    order_type, price, stop = entry_order_fields(block.entry_type, entry_price)
    return Order(
        block_id=block.id,
        trade_id=trade.id,
        role=OrderRole.ENTRY,
        type=order_type,
        side="buy" if block.side is Side.LONG else "sell",
        amount=amount,
        price=price,
        stop_price=stop,
        client_order_id=client_order_id(block.id, trade.index, OrderRole.ENTRY.value, seq),
        status=OrderStatus.INITIALIZED,
        epoch=epoch,
    )


def drive_account(
    runtime: Runtime,
    account_id: int,
    block_id: int,
    now_ms: int | None,
    only_block: bool = False,
    loaded: tuple[ExchangeAccount, Fence] | None = None,
) -> None:
    """Send and follow up right away (`only_block`: that block's orders alone); a failure here is not
    a refusal: the block exists, the sync tick retries, and the error is shown on the block.
    `loaded`: the account and fence the caller has just read (sync.sync_loaded)."""
    blocks = {block_id} if only_block else None
    try:
        if loaded is not None:
            sync_loaded(runtime, loaded[0], now_ms, blocks, loaded[1])
        else:
            sync_account(runtime, account_id, now_ms, blocks)
    except Exception as exc:
        log.warning("block %d: immediate sync failed: %s", block_id, exc)
        with runtime.sessions.begin() as s:
            block = s.get(Block, block_id)
            if block is not None:
                block.last_error = f"not sent yet, will retry: {exc}"[:2000]
