"""The bracket rules as pure decisions: given a block's snapshot (engine.blocks.views), the engine
clock and the last price, which orders to place or cancel, which stops to move, which trades to
close. No I/O; the executor applies the actions (engine.blocks.executor), the sync tick runs this after
every reconciliation (engine.blocks.sync).

Rules (docs in the module functions):
- A filled entry (wholly or in part) is protected by one STOP_MARKET SL for exactly the open amount
  (what the account holds from the entry: TradeView.held_amount, less a spot buy's fee taken in the
  coin, rounded down to the amount step; every exit sells that too) at the trade's stop; an SL for
  another amount or price is canceled first and, once it is gone, replaced (next seq). Spot venues
  lock the coins of a resting sell, so the old SL must go before the new one can rest.
- STOP_RESTS: when the last price reaches the target the trade starts closing (reason TARGET): its SL
  is canceled and, once canceled, a MARKET TP takes the remaining amount. If the SL fills meanwhile,
  the trade closes by the stop. REDUCE_ONLY: the TP rests beside the SL as a reduce-only LIMIT.
- NATIVE_OCO: target and stop rest as ONE OCO list for the open amount (engine.blocks.oco); a list
  that no longer fits (amount, stop or target) is canceled as one and, once gone, replaced (next
  seq); the venue cancels one leg when the other fills. The engine watches the target only while no
  list rests (a refused or replaced one): crossed then, it closes at market.
- A closed trade's exit orders still live (REDUCE_ONLY: the stop beside the target that filled) are
  canceled.
- A closing trade (reason set while not terminal: TARGET, TIME, CANCEL, STOP) cancels every live
  order except its market exit; when nothing is live, a MARKET exit takes the open amount.
- Break-even: once a trade of the block has closed at its target, every other open trade's stop
  moves to engine.blocks.pnl.breakeven_price (once; then the SL is replaced as above).
- entry_timeout_s: an entry still live after the timeout is canceled. max_duration_s: a position
  open longer is closed at market (TIME).
- An SL that cannot rest because the price is already past it (or that the venue refused
  MAX_SL_REJECTS times) turns into a market close: a position is never left without protection.
  Except a trade's first SL on a venue that books it from the entry's fill bar (the paper exchange,
  BlockView.stops_from_fill_bar): it is sent before the price is judged (past the stop, at the
  target), since that venue fills it where the path since the fill reached it, stop first
  (docs/fill-rules.md, rule 10); what it leaves open is judged on the next round as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from db.enums import EXIT_ROLES, CloseReason, OrderRole, OrderStatus, OrderType, ProtectionMode, Side, TradeStatus
from engine.blocks.oco import LEG_ROLES
from engine.blocks.pnl import breakeven_price
from engine.blocks.views import BlockView, OrderView, TradeView, average_of
from engine.common.targets import target_reached

MAX_SL_REJECTS = 3


@dataclass(frozen=True)
class PlaceOrder:
    trade_id: int
    role: OrderRole
    type: OrderType
    side: str
    amount: Decimal
    seq: int
    price: Decimal | None = None
    stop_price: Decimal | None = None
    reduce_only: bool = False


@dataclass(frozen=True)
class PlaceOco:
    """One OCO list for a trade: its target (limit) and stop for `amount`, both legs numbered `seq`."""

    trade_id: int
    side: str
    amount: Decimal
    price: Decimal
    stop_price: Decimal
    seq: int


@dataclass(frozen=True)
class CancelOrder:
    order_id: int
    why: str


@dataclass(frozen=True)
class MoveStop:
    trade_id: int
    stop_price: Decimal


@dataclass(frozen=True)
class CloseTrade:
    """Start closing the trade at market for `reason` (persisted as the trade's close_reason)."""

    trade_id: int
    reason: CloseReason


Action = PlaceOrder | PlaceOco | CancelOrder | MoveStop | CloseTrade


def decide(block: BlockView, now_ms: int, last_price: Decimal | None) -> list[Action]:
    """Every action the block needs now. Idempotent: run again on the same snapshot, it asks again
    for the same things (the executor and the deterministic client ids keep that harmless)."""
    actions: list[Action] = []
    moved = _breakeven_moves(block)
    actions += moved.values()
    for trade in block.trades:
        if trade.terminal:
            actions += _leftovers(trade)
            continue
        stop = moved[trade.id].stop_price if trade.id in moved else trade.stop_price
        actions += _decide_trade(block, trade, stop, now_ms, last_price)
    return actions


def _leftovers(trade: TradeView) -> list[Action]:
    """A closed trade's exits still resting (REDUCE_ONLY: the stop beside the target that filled)
    are canceled: a reduce-only stop left behind would close part of the next position."""
    return [CancelOrder(o.id, "trade closed") for o in trade.live_orders(*EXIT_ROLES)]


def _decide_trade(block: BlockView, trade: TradeView, stop: Decimal, now_ms: int, last: Decimal | None) -> list[Action]:
    actions: list[Action] = []
    closing = trade.close_reason if trade.closing else None
    if closing is None and trade.status is TradeStatus.OPEN:
        closing = _close_trigger(block, trade, stop, now_ms, last)
        if closing is not None:
            actions.append(CloseTrade(trade.id, closing))
    if closing is not None:
        return actions + _close(block, trade, closing)
    actions += _entry_timeout(block, trade, now_ms)
    actions += _repeat_cancels(trade, skip={a.order_id for a in actions if isinstance(a, CancelOrder)})
    if trade.status is TradeStatus.OPEN and trade.open_amount > 0 and block.protection is ProtectionMode.NATIVE_OCO:
        actions += _protect_oco(block, trade, stop)
    elif trade.status is TradeStatus.OPEN and trade.open_amount > 0:
        actions += _protect(block, trade, stop)
        if block.protection is ProtectionMode.REDUCE_ONLY:
            actions += _resting_target(block, trade)
    return actions


def _close_trigger(
    block: BlockView, trade: TradeView, stop: Decimal, now_ms: int, last: Decimal | None
) -> CloseReason | None:
    """Why an open trade must close at market now, if it must."""
    if block.max_duration_s and trade.opened_ms is not None and now_ms >= trade.opened_ms + block.max_duration_s * 1000:
        return CloseReason.TIME
    if block.stops_from_fill_bar and not trade.of_role(OrderRole.SL):
        return None  # the first stop goes first: the venue books it on the path since the entry filled
    if last is not None and _watches_target(block, trade) and target_reached(block.side, last, trade.target_price):
        return CloseReason.TARGET
    stop_reason = CloseReason.STOP if stop == block.stop_price else CloseReason.BREAKEVEN
    if not _has_sl(trade, trade.open_amount, stop):
        if last is not None and _past_stop(block.side, last, stop):
            return stop_reason  # a new stop would trigger at once: the venue would refuse it
        rejected = [o for o in trade.of_role(OrderRole.SL) if o.status is OrderStatus.REJECTED]
        if len(rejected) >= MAX_SL_REJECTS:
            return stop_reason
    return None


def _watches_target(block: BlockView, trade: TradeView) -> bool:
    """Whether the engine takes this trade's profit itself: not where the target rests on the venue."""
    if block.protection is ProtectionMode.REDUCE_ONLY:
        return False
    if block.protection is ProtectionMode.NATIVE_OCO:
        return not any(o.type is OrderType.LIMIT for o in _settled(trade, OrderRole.TP))
    return True


def _past_stop(side: Side, last: Decimal, stop: Decimal) -> bool:
    return last <= stop if side is Side.LONG else last >= stop


def _has_sl(trade: TradeView, amount: Decimal, stop: Decimal) -> bool:
    return any(o.amount == amount and o.stop_price == stop for o in _settled(trade, OrderRole.SL))


def _close(block: BlockView, trade: TradeView, reason: CloseReason) -> list[Action]:
    """Cancel everything live but a market exit; once nothing is live, exit the open amount at market."""
    actions: list[Action] = []
    live = trade.live_orders()
    in_flight = [o for o in live if o.role in (OrderRole.TP, OrderRole.EXIT) and o.type is OrderType.MARKET]
    actions += [CancelOrder(o.id, f"closing ({reason.value})") for o in live if o not in in_flight]
    if not live and trade.open_amount > 0:
        role = OrderRole.TP if reason is CloseReason.TARGET else OrderRole.EXIT
        actions.append(
            PlaceOrder(trade.id, role, OrderType.MARKET, block.exit_side, trade.open_amount, trade.next_seq(role))
        )
    return actions


def _entry_timeout(block: BlockView, trade: TradeView, now_ms: int) -> list[Action]:
    if not block.entry_timeout_s or now_ms < block.created_ms + block.entry_timeout_s * 1000:
        return []
    return [CancelOrder(o.id, "entry timed out") for o in trade.live_orders(OrderRole.ENTRY)]


def _repeat_cancels(trade: TradeView, skip: set[int]) -> list[Action]:
    """A cancel the venue has not confirmed yet (it still shows the order open) is asked again."""
    return [
        CancelOrder(o.id, "cancel not confirmed yet")
        for o in trade.orders
        if o.status is OrderStatus.PENDING_CANCEL and o.id not in skip
    ]


def _replace(trade: TradeView, role: OrderRole, wanted: PlaceOrder, matches: list[OrderView]) -> list[Action]:
    """Keep one live order that matches `wanted`; cancel the others; place `wanted` when none is live."""
    live = trade.live_orders(role)
    keep = matches[:1]
    stale = [o for o in live if o not in keep and o.status is not OrderStatus.PENDING_CANCEL]
    actions: list[Action] = [CancelOrder(o.id, f"{role.value} replaced") for o in stale]
    if not live:
        actions.append(wanted)
    return actions


def _settled(trade: TradeView, role: OrderRole) -> list[OrderView]:
    """Live orders of `role` that are not being canceled."""
    return [o for o in trade.live_orders(role) if o.status is not OrderStatus.PENDING_CANCEL]


def _protect(block: BlockView, trade: TradeView, stop: Decimal) -> list[Action]:
    amount = trade.open_amount
    matches = [o for o in _settled(trade, OrderRole.SL) if o.amount == amount and o.stop_price == stop]
    wanted = PlaceOrder(
        trade.id,
        OrderRole.SL,
        OrderType.STOP_MARKET,
        block.exit_side,
        amount,
        trade.next_seq(OrderRole.SL),
        stop_price=stop,
        reduce_only=block.protection is ProtectionMode.REDUCE_ONLY,
    )
    return _replace(trade, OrderRole.SL, wanted, matches)


def _resting_target(block: BlockView, trade: TradeView) -> list[Action]:
    amount = trade.open_amount
    matches = [
        o
        for o in _settled(trade, OrderRole.TP)
        if o.amount == amount and o.price == trade.target_price and o.type is OrderType.LIMIT
    ]
    wanted = PlaceOrder(
        trade.id,
        OrderRole.TP,
        OrderType.LIMIT,
        block.exit_side,
        amount,
        trade.next_seq(OrderRole.TP),
        price=trade.target_price,
        reduce_only=True,
    )
    return _replace(trade, OrderRole.TP, wanted, matches)


def _protect_oco(block: BlockView, trade: TradeView, stop: Decimal) -> list[Action]:
    """Keep one list that fits (open amount, target, stop); cancel the others, one leg each (the venue
    cancels the list); place the next seq once no leg is live."""
    amount, target = trade.open_amount, trade.target_price
    legs = [o for o in trade.live_orders(*LEG_ROLES) if o.type is not OrderType.MARKET]
    pairs: dict[int, list[OrderView]] = {}
    for leg in legs:
        pairs.setdefault(leg.seq, []).append(leg)

    def fits(pair: list[OrderView]) -> bool:
        tp = [o for o in pair if o.role is OrderRole.TP and o.price == target]
        sl = [o for o in pair if o.role is OrderRole.SL and o.stop_price == stop]
        settled = all(o.status is not OrderStatus.PENDING_CANCEL for o in pair)
        return settled and len(tp) == len(sl) == 1 and tp[0].amount == sl[0].amount == amount

    keep = next((seq for seq, pair in sorted(pairs.items()) if fits(pair)), None)
    actions: list[Action] = []
    for seq, pair in sorted(pairs.items()):
        waiting = [o for o in pair if o.status is not OrderStatus.PENDING_CANCEL]
        if seq != keep and waiting:
            actions.append(CancelOrder(waiting[0].id, "oco replaced"))
    if not legs:
        seq = max(trade.next_seq(OrderRole.TP), trade.next_seq(OrderRole.SL))
        actions.append(PlaceOco(trade.id, block.exit_side, amount, target, stop, seq))
    return actions


def _breakeven_moves(block: BlockView) -> dict[int, MoveStop]:
    """Once a trade has closed at its target, the other open trades' stops go to break-even."""
    if not block.breakeven_after_first:
        return {}
    hit = any(t.status is TradeStatus.CLOSED and t.close_reason is CloseReason.TARGET for t in block.trades)
    if not hit:
        return {}
    moves: dict[int, MoveStop] = {}
    for trade in block.trades:
        if trade.status is not TradeStatus.OPEN or trade.closing:
            continue
        entry = _entry_average(trade)
        if entry is None:
            continue
        price = breakeven_price(block.side, entry, block.fee_rate, block.price_tick)
        better = price > trade.stop_price if block.side is Side.LONG else price < trade.stop_price
        if better:
            moves[trade.id] = MoveStop(trade.id, price)
    return moves


def _entry_average(trade: TradeView) -> Decimal | None:
    entries = [o for o in trade.of_role(OrderRole.ENTRY) if o.filled and o.average is not None]
    if not entries:
        return None
    return average_of(entries)
