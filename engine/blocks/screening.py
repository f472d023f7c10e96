"""Which live blocks the bracket rules must look at this tick, from a few plain rows instead of every
block's full snapshot: a tick over thousands of quietly resting stops then loads almost nothing.

A block needs attention when one of its orders changed or is in flight (not sent yet, answer not
seen, cancel pending, partly filled), when a live SL or resting TP is not at its trade's stop or
target (an amend moved them: engine.blocks.amend), when a trade is closing or holds a position without a live
stop, when the last price reached an engine-watched target, or when a time rule is due. Every
FULL_PASS_TICKS ticks, and at start-up, every live block is looked at anyway (a safety net: the
rules are idempotent, so a needless look costs time, never an order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.enums import OrderRole, OrderStatus, ProtectionMode, TradeStatus
from db.models import Block, Trade
from engine.blocks.states import LIVE_BLOCKS
from engine.blocks.store import LiveOrder, to_ms
from engine.common.targets import target_reached

FULL_PASS_TICKS = 20
_IN_FLIGHT = frozenset(
    {OrderStatus.INITIALIZED, OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL, OrderStatus.PARTIALLY_FILLED}
)


def needs_attention(
    session: Session,
    account_id: int,
    now_ms: int,
    prices: dict[str, Decimal],
    live: list[LiveOrder],
    changed_blocks: set[int],
) -> set[int]:
    """Ids of the account's live blocks the rules must run on now (see the module docstring)."""
    dirty = set(changed_blocks) | {o.block_id for o in live if o.status in _IN_FLIGHT}
    live_roles: dict[int, set[OrderRole]] = defaultdict(set)
    resting: dict[int, list[LiveOrder]] = defaultdict(list)
    for order in live:
        live_roles[order.trade_id].add(order.role)
        if order.role in (OrderRole.SL, OrderRole.TP):
            resting[order.trade_id].append(order)
    base = (
        select(Trade.block_id, Trade.id, Trade.status, Trade.target_price, Trade.close_reason, Trade.stop_price)
        .join(Block, Block.id == Trade.block_id)
        .add_columns(Block.symbol, Block.side, Block.protection_mode)
        .where(Block.account_id == account_id, Block.status.in_(LIVE_BLOCKS))
        .where(Trade.status.in_([TradeStatus.PENDING, TradeStatus.OPEN]))
    )
    for block_id, trade_id, status, target, reason, stop, symbol, side, mode in session.execute(base):
        if block_id in dirty:
            continue
        roles = live_roles.get(trade_id, set())
        last = prices.get(symbol)
        due = (
            reason is not None
            or (status is TradeStatus.PENDING and OrderRole.ENTRY not in roles)  # the entry ended: settle it
            or (status is TradeStatus.OPEN and OrderRole.SL not in roles)
            or _moved(resting.get(trade_id, ()), stop, target)
            or (
                status is TradeStatus.OPEN
                and mode is not ProtectionMode.REDUCE_ONLY
                and last is not None
                and target_reached(side, last, target)
            )
        )
        if due:
            dirty.add(block_id)
    dirty |= _time_rules_due(session, account_id, now_ms, live_roles)
    return dirty


def _moved(orders: Iterable[LiveOrder], stop: Decimal, target: Decimal) -> bool:
    """A resting SL (TP) is not at the trade's stop (target): an amend moved it, the rules replace it."""
    for order in orders:
        if order.role is OrderRole.SL and order.stop_price is not None and order.stop_price != stop:
            return True
        if order.role is OrderRole.TP and order.price is not None and order.price != target:
            return True
    return False


def _time_rules_due(session: Session, account_id: int, now_ms: int, live_roles: dict[int, set[OrderRole]]) -> set[int]:
    """Blocks with an entry past its timeout or a position past its maximum duration (a second query,
    over the blocks that have such options only)."""
    query = (
        select(Trade.block_id, Trade.id, Trade.status, Trade.opened_at)
        .join(Block, Block.id == Trade.block_id)
        .add_columns(Block.created_at, Block.entry_timeout_s, Block.max_duration_s)
        .where(Block.account_id == account_id, Block.status.in_(LIVE_BLOCKS))
        .where(Trade.status.in_([TradeStatus.PENDING, TradeStatus.OPEN]))
        .where(or_(Block.entry_timeout_s.is_not(None), Block.max_duration_s.is_not(None)))
    )
    due = set()
    for block_id, trade_id, status, opened_at, created_at, timeout, duration in session.execute(query):
        roles = live_roles.get(trade_id, set())
        if (timeout and OrderRole.ENTRY in roles and now_ms >= (to_ms(created_at) or 0) + timeout * 1000) or (
            duration and status is TradeStatus.OPEN and now_ms >= (to_ms(opened_at) or 0) + duration * 1000
        ):
            due.add(block_id)
    return due
