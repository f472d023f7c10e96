"""An amend of a live block, worked out before anything is written: the change the trader asked
for (`BlockAmend`), checked against the block's snapshot (engine.blocks.views), its market and the
last price, and turned into the new figures per trade (`AmendPlan`). Pure: no database, no I/O.

The rules an amend is held to (the same as a new block's, engine.blocks.plan, where they apply):
- A price must be a positive number ON the market's price tick (an amend says exactly what goes to
  the venue: an off-tick price is refused with the two nearest prices, never rounded silently),
  within the market's lowest and highest price.
- A stop sits on the loss side: of the block's entry for a trade still waiting for its entry, of the
  last price for an open trade (a stop beyond it would trigger at once). Break-even is the trade's
  entry average rounded to the tick on the safe side (up for a long, down for a short), and must be on
  the loss side of the last price too.
- A target sits on the profit side of the entry (the entry average for an open trade) and of its
  trade's stop; the block's live targets stay listed from nearest to farthest.
- Size: only what is not filled yet changes. `size` is the new base amount of the trades still waiting
  for their entry, split in the proportions they have now; a trade added with `add_target` takes its
  share (or an equal split) of that unfilled part. Each resulting order must meet the market's
  minimum amount, minimum order value and maximum amount.
- Removing a target closes its trade: an unfilled entry is canceled, an open position is closed at
  market (reason CANCEL). The block's last live target cannot be removed (cancel the block instead).
Field names: "stop_price", "breakeven", "targets[i].price" (i = the trade's index, 0-based, as
the blocks table shows it), "add_target.price", "add_target.share", "remove_target", "size".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from db.enums import OrderRole, OrderStatus, Side, TradeStatus
from engine.blocks.bounds import range_problem
from engine.blocks.plan import MAX_TARGETS, BlockRejected, FieldError
from engine.blocks.views import BlockView, TradeView, average_of
from engine.common.precision import (
    RoundMode,
    format_money,
    format_number,
    multiply,
    round_amount,
    round_price,
    split_amount,
    wide_context,
)
from engine.exchanges.api import MarketInfo

ZERO = Decimal(0)


@dataclass(frozen=True)
class NewTarget:
    price: Decimal
    share: Decimal | None = None  # fraction of the unfilled size; None = an equal split


@dataclass(frozen=True)
class BlockAmend:
    """What the trader changes; every field left at its default is left as it is.

    `stop_trade` names one trade (its index) for `stop_price` / `breakeven`; None means every live
    trade of the block. `targets` moves targets: (trade index, new price) pairs."""

    stop_price: Decimal | None = None
    stop_trade: int | None = None
    breakeven: bool = False
    targets: tuple[tuple[int, Decimal], ...] = ()
    add_target: NewTarget | None = None
    remove_target: int | None = None
    size: Decimal | None = None

    @property
    def empty(self) -> bool:
        return (
            self.stop_price is None
            and not self.breakeven
            and not self.targets
            and self.add_target is None
            and self.remove_target is None
            and self.size is None
        )


@dataclass
class AmendPlan:
    """The figures the amend writes, per trade id; `new_trade` is (index, target, amount, stop)."""

    stops: dict[int, Decimal] = field(default_factory=dict)
    targets: dict[int, Decimal] = field(default_factory=dict)
    amounts: dict[int, Decimal] = field(default_factory=dict)  # unfilled trades resized
    remove: int | None = None  # trade id to close
    new_trade: tuple[int, Decimal, Decimal, Decimal] | None = None
    block_stop: Decimal | None = None  # the block's stop, when every live trade's stop moved


@dataclass(frozen=True)
class AmendContext:
    """What the checks need besides the block: its market, entry price and the last price."""

    market: MarketInfo
    entry_price: Decimal | None  # the block's entry (None for a market entry)
    last_price: Decimal | None


def _fmt(value: Decimal, tick: Decimal | None = None) -> str:
    return format_number(value, tick)


def live_trades(block: BlockView) -> list[TradeView]:
    """Trades an amend may touch: not finished and not being closed."""
    return [t for t in block.trades if not t.terminal and not t.closing]


def unfilled(trade: TradeView) -> bool:
    """Still waiting for its entry: nothing filled, and an entry live (or about to be sent)."""
    return trade.status is TradeStatus.PENDING and trade.entry_filled == 0 and bool(trade.live_orders(OrderRole.ENTRY))


def resizing(trade: TradeView) -> bool:
    """An entry replacement of an earlier amend is still under way (the old entry is being canceled)."""
    return any(o.status is OrderStatus.PENDING_CANCEL for o in trade.of_role(OrderRole.ENTRY))


def entry_average(trade: TradeView) -> Decimal | None:
    return average_of([o for o in trade.of_role(OrderRole.ENTRY) if o.filled and o.average is not None])


def _loss_side(side: Side, stop: Decimal, reference: Decimal) -> bool:
    return stop < reference if side is Side.LONG else stop > reference


class _Checks:
    """Collects field errors while working the plan out."""

    def __init__(self, block: BlockView, ctx: AmendContext) -> None:
        self.block, self.ctx, self.market = block, ctx, ctx.market
        self.errors: list[FieldError] = []
        self.tick = ctx.market.price_tick

    def add(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def price(self, name: str, label: str, value: Decimal) -> Decimal | None:
        """The price if it can be sent as it is (module docstring), else None after saying why."""
        problem = range_problem(value, f"{label} price")
        if problem is not None:
            self.add(name, problem)
            return None
        if not value.is_finite() or value <= 0:
            self.add(name, f"{label} price must be a positive number, not {value}.")
            return None
        tick = self.tick
        if tick is not None and round_price(value, tick) != value:
            low, high = round_price(value, tick, RoundMode.DOWN), round_price(value, tick, RoundMode.UP)
            self.add(
                name,
                f"{label} price {_fmt(value)} is not on this market's price step {_fmt(tick)}: "
                f"use {_fmt(low, tick)} or {_fmt(high, tick)}.",
            )
            return None
        m = self.market
        if m.min_price is not None and value < m.min_price:
            self.add(name, f"{label} price {_fmt(value)} is below this market's lowest price {_fmt(m.min_price)}.")
            return None
        if m.max_price is not None and value > m.max_price:
            self.add(name, f"{label} price {_fmt(value)} is above this market's highest price {_fmt(m.max_price)}.")
            return None
        return value

    def stop_fits(self, name: str, trade: TradeView, stop: Decimal, label: str = "Stop") -> bool:
        """The stop is on the loss side of the entry (waiting trade) or of the last price (open trade)."""
        side, last, entry = self.block.side, self.ctx.last_price, self.ctx.entry_price
        against = "below" if side is Side.LONG else "above"
        if trade.status is TradeStatus.OPEN:
            if last is not None and not _loss_side(side, stop, last):
                self.add(
                    name,
                    f"{label} {_fmt(stop, self.tick)} must be {against} the current price {_fmt(last, self.tick)} "
                    f"for an open {side.value} (it would trigger at once).",
                )
                return False
            return True
        if entry is not None and not _loss_side(side, stop, entry):
            shown = _fmt(stop, self.tick)
            self.add(name, f"{label} {shown} must be {against} the entry {_fmt(entry, self.tick)} for a {side.value}.")
            return False
        return True

    def order_fits(self, name: str, label: str, amount: Decimal, price: Decimal) -> None:
        m, base = self.market, self.market.base
        if amount <= 0:
            self.add(name, f"{label} gets no {base} at this market's amount step: use a bigger size.")
        elif m.min_amount is not None and amount < m.min_amount:
            self.add(
                name,
                f"{label} gets {_fmt(amount)} {base}, below this market's minimum amount {_fmt(m.min_amount)} {base}.",
            )
        elif m.min_cost is not None and multiply(amount, price) < m.min_cost:
            self.add(
                name,
                f"{label} gets {_fmt(amount)} {base}, worth {format_money(multiply(amount, price), RoundMode.DOWN)} "
                f"{m.quote}: below this market's minimum order of {format_money(m.min_cost, RoundMode.UP)} {m.quote}.",
            )
        elif m.max_amount is not None and amount > m.max_amount:
            self.add(
                name,
                f"{label} gets {_fmt(amount)} {base}, above this market's maximum amount {_fmt(m.max_amount)} {base}.",
            )


def plan_amend(block: BlockView, change: BlockAmend, ctx: AmendContext) -> AmendPlan:
    """The amend's new figures; raises BlockRejected with every field error (nothing to write then)."""
    checks = _Checks(block, ctx)
    plan = AmendPlan()
    live = {t.index: t for t in live_trades(block)}
    if change.empty:
        checks.add("amend", "Nothing to change: give a stop, a target, a size, or a target to add or remove.")
    elif not live:
        checks.add("amend", "This block has no live trade left to change.")
    else:
        with wide_context():
            _plan_stops(checks, plan, change, live)
            _plan_targets(checks, plan, change, live)
            _plan_remove(checks, plan, change, live)
            _plan_sizes(checks, plan, change, live)
            _check_order(checks, plan, live)
    if checks.errors:
        raise BlockRejected(checks.errors)
    return plan


def _chosen(checks: _Checks, change: BlockAmend, live: dict[int, TradeView], name: str) -> list[TradeView]:
    if change.stop_trade is None:
        return list(live.values())
    if change.stop_trade not in live:
        checks.add(name, f"Target {change.stop_trade + 1} has no live trade to move the stop of.")
        return []
    return [live[change.stop_trade]]


def _plan_stops(checks: _Checks, plan: AmendPlan, change: BlockAmend, live: dict[int, TradeView]) -> None:
    if change.stop_price is not None and change.breakeven:
        checks.add("breakeven", "Move the stop to a price or to break-even, not both.")
        return
    if change.stop_price is not None:
        stop = checks.price("stop_price", "Stop", change.stop_price)
        trades = _chosen(checks, change, live, "stop_price")
        if stop is not None and all(checks.stop_fits("stop_price", t, stop) for t in trades):
            plan.stops.update({t.id: stop for t in trades})
            if change.stop_trade is None:
                plan.block_stop = stop
    elif change.breakeven:
        trades = [t for t in _chosen(checks, change, live, "breakeven") if t.status is TradeStatus.OPEN]
        if not trades:
            checks.add("breakeven", "Break-even needs an open position: no entry of these trades has filled yet.")
        for trade in trades:
            average = entry_average(trade)
            if average is None:
                continue
            mode = RoundMode.UP if checks.block.side is Side.LONG else RoundMode.DOWN
            price = round_price(average, checks.tick, mode)
            if checks.stop_fits("breakeven", trade, price, f"Break-even of target {trade.index + 1}"):
                plan.stops[trade.id] = price


def _plan_targets(checks: _Checks, plan: AmendPlan, change: BlockAmend, live: dict[int, TradeView]) -> None:
    for index, value in change.targets:
        name, label = f"targets[{index}].price", f"Target {index + 1}"
        if index not in live:
            checks.add(name, f"{label} has no live trade: it has closed or does not exist.")
            continue
        price = checks.price(name, label, value)
        if price is not None and _target_fits(checks, name, label, live[index], price, plan):
            plan.targets[live[index].id] = price


def _target_fits(
    checks: _Checks, name: str, label: str, trade: TradeView | None, price: Decimal, plan: AmendPlan
) -> bool:
    side, tick = checks.block.side, checks.tick
    word = "above" if side is Side.LONG else "below"
    entry = entry_average(trade) if trade is not None and trade.entry_filled else checks.ctx.entry_price
    stop = plan.stops.get(trade.id, trade.stop_price) if trade is not None else checks.block.stop_price
    for what, reference in (("the entry", entry), ("the stop", stop)):
        if reference is not None and not _loss_side(side, reference, price):
            shown = f"{_fmt(price, tick)} must be {word} {what} {_fmt(reference, tick)}"
            checks.add(name, f"{label} at {shown} for a {side.value}.")
            return False
    return True


def _plan_remove(checks: _Checks, plan: AmendPlan, change: BlockAmend, live: dict[int, TradeView]) -> None:
    index = change.remove_target
    if index is None:
        return
    if index not in live:
        checks.add("remove_target", f"Target {index + 1} has no live trade to remove.")
    elif len(live) == 1:
        checks.add("remove_target", "This is the block's last live target: cancel the block instead.")
    else:
        plan.remove = live[index].id


def _plan_sizes(checks: _Checks, plan: AmendPlan, change: BlockAmend, live: dict[int, TradeView]) -> None:
    """Resize the unfilled trades and/or add a target taking its part of them."""
    if change.size is None and change.add_target is None:
        return
    name = "size" if change.size is not None else "add_target.price"
    waiting = [t for t in live.values() if unfilled(t) and t.id != plan.remove]
    if any(resizing(t) for t in waiting):
        checks.add(name, "An earlier change of the size is still being placed: try again in a moment.")
        return
    if not waiting:
        checks.add(name, "Every entry of this block has filled (or is closing): there is no unfilled size to change.")
        return
    total = sum((t.amount for t in waiting), ZERO)
    if change.size is not None:
        problem = range_problem(change.size, "Size")
        if problem is not None:
            checks.add("size", problem)
            return
        if not change.size.is_finite() or change.size <= 0:
            checks.add("size", f"Enter a size above 0, not {change.size}.")
            return
        total = round_amount(change.size, checks.market.amount_tick)
    new_price = _new_target_price(checks, change, live, plan)
    count = len(waiting) + (1 if change.add_target is not None else 0)
    if count > MAX_TARGETS or (change.add_target is not None and len(live) >= MAX_TARGETS):
        checks.add("add_target.price", f"At most {MAX_TARGETS} profit targets per block.")
        return
    shares = _shares(checks, change, waiting)
    if shares is False:
        return
    amounts = split_amount(total, count, shares, checks.market.amount_tick)
    entry = checks.ctx.entry_price or checks.ctx.last_price
    for trade, amount in zip(waiting, amounts, strict=False):
        if entry is not None:
            checks.order_fits("size", f"Target {trade.index + 1}", amount, min(entry, trade.stop_price))
        if amount != trade.amount:
            plan.amounts[trade.id] = amount
    if change.add_target is not None and new_price is not None:
        index = max(t.index for t in checks.block.trades) + 1
        stop = checks.block.stop_price if change.stop_trade is not None else plan.block_stop or checks.block.stop_price
        if entry is not None:
            checks.order_fits("add_target.price", "The new target", amounts[-1], min(entry, stop))
        plan.new_trade = (index, new_price, amounts[-1], stop)


def _new_target_price(
    checks: _Checks, change: BlockAmend, live: dict[int, TradeView], plan: AmendPlan
) -> Decimal | None:
    if change.add_target is None:
        return None
    name, label = "add_target.price", "The new target"
    price = checks.price(name, label, change.add_target.price)
    if price is None or not _target_fits(checks, name, label, None, price, plan):
        return None
    return price


def _shares(checks: _Checks, change: BlockAmend, waiting: list[TradeView]) -> list[Decimal] | bool | None:
    """The split of the unfilled size: the waiting trades' present proportions, the new target's share
    given or an equal part; False after an error."""
    before = sum((t.amount for t in waiting), ZERO)
    if change.add_target is None:
        return [t.amount / before for t in waiting] if before > 0 else None
    share = change.add_target.share
    if share is None:
        return None  # an equal split of the unfilled size over the waiting trades and the new one
    if not share.is_finite() or not 0 < share < 1:
        checks.add("add_target.share", f"The new target's share must be between 0% and 100%, not {share}.")
        return False
    rest = Decimal(1) - share
    return [rest * t.amount / before for t in waiting] + [share]


def _check_order(checks: _Checks, plan: AmendPlan, live: dict[int, TradeView]) -> None:
    """The live targets, once amended, still run from nearest to farthest."""
    side = checks.block.side
    prices = [(t.index, plan.targets.get(t.id, t.target_price)) for t in live.values() if t.id != plan.remove]
    if plan.new_trade is not None:
        prices.append((plan.new_trade[0], plan.new_trade[1]))
    prices.sort()
    word = "above" if side is Side.LONG else "below"
    for (i, previous), (j, price) in pairwise(prices):
        if not _loss_side(side, previous, price):
            name = f"targets[{j}].price" if plan.new_trade is None or plan.new_trade[0] != j else "add_target.price"
            checks.add(
                name,
                f"Target {j + 1} at {_fmt(price, checks.tick)} must be {word} target {i + 1} at "
                f"{_fmt(previous, checks.tick)}: targets run from nearest to farthest.",
            )
