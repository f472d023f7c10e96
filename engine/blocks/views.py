"""Small immutable snapshots of a block, its trades and their orders (built from the rows by
`engine.blocks.store`), and the pure arithmetic over them: what a trade has filled, its averages,
fees and realized P&L, and the status its orders imply. `engine.blocks.rules` decides on these views.

Money is Decimal. Times are engine milliseconds (the market-data clock), never time.time().
An order's `fee` is the quote value of its fees (engine.blocks.pnl.fee_parts); `fee_base` is the base coin a
spot buy's fee took, so a long holds, protects and sells `TradeView.held_amount`, not what it bought.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from db.enums import BlockStatus, CloseReason, OrderRole, OrderStatus, OrderType, ProtectionMode, Side, TradeStatus
from engine.blocks.pnl import realized_pnl
from engine.blocks.states import (
    EXIT_ROLES,
    TradeEvent,
    advance_block,
    is_block_terminal,
    is_open,
    is_order_terminal,
    is_trade_terminal,
    transition_trade,
)
from engine.common.precision import RoundMode, divide, round_amount, wide_context

ZERO = Decimal(0)


def _total(values: Iterable[Decimal]) -> Decimal:
    with wide_context():
        return sum(values, ZERO)


@dataclass(frozen=True)
class OrderView:
    id: int
    role: OrderRole
    type: OrderType
    side: str
    amount: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    filled: Decimal = ZERO
    average: Decimal | None = None
    fee: Decimal = ZERO  # quote value of the valued fees
    seq: int = 1
    reduce_only: bool = False
    client_order_id: str = ""
    fee_base: Decimal = ZERO  # base coin the fee took (a spot buy charged in the coin bought)
    fee_other: Decimal = ZERO  # a fee in a third currency, not valued (not in `fee`)
    fee_other_currency: str | None = None

    @property
    def live(self) -> bool:
        """Not terminal: may still fill, or is about to be sent."""
        return is_open(self.status)

    @property
    def notional(self) -> Decimal:
        return self.filled * self.average if self.average is not None and self.filled else ZERO


@dataclass(frozen=True)
class TradeView:
    id: int
    index: int
    status: TradeStatus
    amount: Decimal
    target_price: Decimal
    stop_price: Decimal  # the current stop (it moves to break-even)
    close_reason: CloseReason | None  # while not terminal: the trade is being closed for this reason
    opened_ms: int | None
    orders: tuple[OrderView, ...] = ()
    amount_tick: Decimal | None = None  # the market's amount step (None: not published)

    def of_role(self, *roles: OrderRole) -> list[OrderView]:
        return [o for o in self.orders if o.role in roles]

    def live_orders(self, *roles: OrderRole) -> list[OrderView]:
        return [o for o in self.orders if o.live and (not roles or o.role in roles)]

    # Computed once per snapshot (a frozen dataclass still has a __dict__ for cached_property).
    @cached_property
    def entry_filled(self) -> Decimal:
        return _total(o.filled for o in self.orders if o.role is OrderRole.ENTRY)

    @cached_property
    def exit_filled(self) -> Decimal:
        return _total(o.filled for o in self.orders if o.role in EXIT_ROLES)

    @cached_property
    def entry_fee_base(self) -> Decimal:
        """Base coin the fees of the entry buys took (a sell's fee never shrinks a short)."""
        return _total(o.fee_base for o in self.orders if o.role is OrderRole.ENTRY and o.side == "buy")

    @cached_property
    def held_amount(self) -> Decimal:
        """What the entry left in the account to protect and sell: entry filled less the base coin its
        fees took, rounded DOWN to the amount step (the venue takes no more; the dust below one step
        stays in the account as a known remainder). Exactly the entry filled when no fee was in base."""
        return held_amount(self.entry_filled, self.entry_fee_base, self.amount_tick)

    @cached_property
    def open_amount(self) -> Decimal:
        """The position this trade holds: held from the entry and not yet exited."""
        with wide_context():
            return max(self.held_amount - self.exit_filled, ZERO)

    @property
    def closing(self) -> bool:
        return self.close_reason is not None and not is_trade_terminal(self.status)

    @property
    def terminal(self) -> bool:
        return is_trade_terminal(self.status)

    def next_seq(self, role: OrderRole) -> int:
        return 1 + max((o.seq for o in self.of_role(role)), default=0)


@dataclass(frozen=True)
class BlockView:
    id: int
    symbol: str
    side: Side
    protection: ProtectionMode
    stop_price: Decimal  # the block's original stop: a trade whose stop differs was moved to break-even
    status: BlockStatus
    created_ms: int
    trades: tuple[TradeView, ...]
    breakeven_after_first: bool = False
    entry_timeout_s: int | None = None
    max_duration_s: int | None = None
    price_tick: Decimal | None = None
    fee_rate: Decimal = Decimal("0.001")  # taker fee of the market, for the break-even price
    # The venue books a trade's first stop and target from its entry's fill bar (the paper exchange,
    # OrderRequest.contingent_on): the rules send that stop before judging the price (engine.blocks.rules).
    stops_from_fill_bar: bool = False

    @property
    def entry_side(self) -> str:
        return "buy" if self.side is Side.LONG else "sell"

    @property
    def exit_side(self) -> str:
        return "sell" if self.side is Side.LONG else "buy"


@dataclass(frozen=True)
class TradeFigures:
    """What a trade's orders add up to: the columns of the trade row that follow from them."""

    status: TradeStatus
    entry_filled: Decimal
    entry_average: Decimal | None
    exit_filled: Decimal
    exit_average: Decimal | None
    fees: Decimal
    realized_pnl: Decimal
    close_reason: CloseReason | None
    fee_note: str | None
    opened: bool  # became OPEN now
    closed: bool  # became CLOSED or CANCELED now


def held_amount(filled: Decimal, fee_base: Decimal, amount_tick: Decimal | None) -> Decimal:
    """`filled` less the base coin its fees took, rounded DOWN to `amount_tick`: never more than held,
    and on the venue's amount grid. Without a base fee: `filled` as it is (already on the grid)."""
    if fee_base <= 0:
        return filled
    with wide_context():
        net = filled - fee_base
    return max(round_amount(net, amount_tick), ZERO)


def fee_note(orders: Iterable[OrderView]) -> str | None:
    """What the trade paid in fees the quote P&L leaves out (third currencies nothing values), or None."""
    unvalued: dict[str, Decimal] = {}
    for o in orders:
        if o.fee_other and o.fee_other_currency:
            with wide_context():
                unvalued[o.fee_other_currency] = unvalued.get(o.fee_other_currency, ZERO) + o.fee_other
    if not unvalued:
        return None
    paid = ", ".join(f"{amount.normalize():f} {currency}" for currency, amount in sorted(unvalued.items()))
    return f"fees of {paid} are not in fees nor in the P&L (no price to value them in the quote currency)"


def _entry_share(trade: TradeView, entry_fees: Decimal, exited: Decimal) -> Decimal:
    """The part of the entry fees that `exited` of the position carries: pro rata of what the entry
    left to sell (a base-coin fee's coins are never sold, so they do not dilute the share)."""
    held = trade.held_amount
    if not held or exited >= held:
        return entry_fees
    with wide_context():
        return entry_fees * exited / held


def average_of(orders: list[OrderView]) -> Decimal | None:
    with wide_context():
        filled = sum((o.filled for o in orders), ZERO)
        notional = sum((o.notional for o in orders), ZERO)
    return divide(notional, filled, RoundMode.NEAREST) if filled else None


def trade_pnl(side: Side, trade: TradeView) -> Decimal:
    """Realized P&L of the exited part: price move on it less exit fees and its share of entry fees."""
    entries, exits = trade.of_role(OrderRole.ENTRY), trade.of_role(*EXIT_ROLES)
    entry_filled, exit_filled = trade.entry_filled, trade.exit_filled
    if not exit_filled or not entry_filled:
        return ZERO
    with wide_context():
        entry_avg = average_of(entries)
        assert entry_avg is not None
        exit_notional = sum((o.notional for o in exits), ZERO)
        entry_fees = sum((o.fee for o in entries), ZERO)
        exit_fees = sum((o.fee for o in exits), ZERO)
        entry_share = _entry_share(trade, entry_fees, exit_filled)
        move = exit_notional - entry_avg * exit_filled
        return (move if side is Side.LONG else -move) - exit_fees - entry_share


def fill_pnl(side: Side, trade: TradeView, price: Decimal, amount: Decimal, fee: Decimal) -> Decimal | None:
    """Realized P&L booked by one exit fill (its fee, valued in quote, and its share of the entry fees)."""
    entries = trade.of_role(OrderRole.ENTRY)
    entry_avg, entry_filled = average_of(entries), trade.entry_filled
    if entry_avg is None or not entry_filled:
        return None
    with wide_context():
        entry_fees = sum((o.fee for o in entries), ZERO)
        share = _entry_share(trade, entry_fees, amount)
        return realized_pnl(side, entry_avg, price, amount, fee + share)


def _close_reason(block: BlockView, trade: TradeView) -> CloseReason | None:
    """Why a flat trade closed: the role of the exit that filled last decides."""
    exits = [o for o in trade.of_role(*EXIT_ROLES) if o.filled]
    if not exits:
        return trade.close_reason
    last = max(exits, key=lambda o: o.id)
    if last.role is OrderRole.TP:
        return CloseReason.TARGET
    if last.role is OrderRole.SL:
        return CloseReason.STOP if trade.stop_price == block.stop_price else CloseReason.BREAKEVEN
    return trade.close_reason or CloseReason.CANCEL


def settle_trade(block: BlockView, trade: TradeView) -> TradeFigures:
    """The trade's figures and status as its orders say (through engine.blocks.states' transitions)."""
    entries = trade.of_role(OrderRole.ENTRY)
    entry_filled, exit_filled = trade.entry_filled, trade.exit_filled
    entries_done = all(is_order_terminal(o.status) for o in entries)
    status, reason = trade.status, trade.close_reason
    if status is TradeStatus.PENDING and entry_filled > 0:
        status = transition_trade(status, TradeEvent.ENTRY_FILLED)
    if status is TradeStatus.PENDING and entries_done:
        status = transition_trade(status, TradeEvent.ENTRY_CANCELED)
    # Flat once everything the entry left to sell is sold (a base-coin fee's dust is not a position).
    if status is TradeStatus.OPEN and entries_done and entry_filled > 0 and exit_filled >= trade.held_amount:
        status = transition_trade(status, TradeEvent.POSITION_CLOSED)
        reason = _close_reason(block, trade)
    exits = trade.of_role(*EXIT_ROLES)
    with wide_context():
        fees = sum((o.fee for o in trade.orders), ZERO)
    return TradeFigures(
        status=status,
        entry_filled=entry_filled,
        entry_average=average_of(entries),
        exit_filled=exit_filled,
        exit_average=average_of(exits),
        fees=fees,
        realized_pnl=trade_pnl(block.side, trade),
        close_reason=reason,
        fee_note=fee_note(trade.orders),
        opened=trade.status is TradeStatus.PENDING and status is not TradeStatus.PENDING and entry_filled > 0,
        closed=not is_trade_terminal(trade.status) and is_trade_terminal(status),
    )


def settle_block(block: BlockView, trade_statuses: list[TradeStatus]) -> BlockStatus:
    """The block's status once its trades have `trade_statuses` (engine.blocks.states.advance_block).
    A block whose trades are all done but with an order still live (the stop left beside a target
    that filled, being canceled) stays as it is until that order is done: a closed block is no
    longer driven, and the order would be left on the venue."""
    status = advance_block(block.status, trade_statuses)
    if is_block_terminal(status) and any(o.live for trade in block.trades for o in trade.orders):
        return block.status
    return status
