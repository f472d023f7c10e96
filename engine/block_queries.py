"""Read-only views of a user's blocks for the pages: the blocks table and one block's trades and
orders, as plain dataclasses. Another user's blocks are never returned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import (
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
from db.models import Block, Order, Trade


class BlockAccessError(PermissionError):
    """The block does not exist or belongs to someone else (the message does not say which)."""

    def __init__(self, block_id: int) -> None:
        self.block_id = block_id
        super().__init__(f"block {block_id} is not one of yours")


@dataclass(frozen=True)
class BlockSummary:
    id: int
    account_id: int
    symbol: str
    side: Side
    entry_type: EntryType
    entry_price: Decimal | None
    stop_price: Decimal
    total_amount: Decimal
    risk: Decimal
    protection_mode: ProtectionMode
    status: BlockStatus
    realized_pnl: Decimal
    fees: Decimal
    trades_open: int
    trades_closed: int
    trades_total: int
    last_error: str | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class TradeRow:
    id: int
    index: int
    status: TradeStatus
    amount: Decimal
    target_price: Decimal
    stop_price: Decimal
    entry_filled: Decimal
    entry_average: Decimal | None
    exit_filled: Decimal
    exit_average: Decimal | None
    fees: Decimal
    realized_pnl: Decimal
    close_reason: CloseReason | None


@dataclass(frozen=True)
class OrderRow:
    id: int
    trade_id: int
    role: OrderRole
    type: OrderType
    side: str
    amount: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    filled: Decimal
    average: Decimal | None
    client_order_id: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class BlockDetail:
    block: BlockSummary
    trades: list[TradeRow]
    orders: list[OrderRow]


def owned_block(session: Session, user_id: int, block_id: int) -> Block:
    block = session.get(Block, block_id)
    if block is None or block.user_id != user_id:
        raise BlockAccessError(block_id)
    return block


def _summary(block: Block, trades: list[Trade]) -> BlockSummary:
    zero = Decimal(0)
    return BlockSummary(
        id=block.id,
        account_id=block.account_id,
        symbol=block.symbol,
        side=block.side,
        entry_type=block.entry_type,
        entry_price=block.entry_price,
        stop_price=block.stop_price,
        total_amount=block.total_amount,
        risk=block.risk,
        protection_mode=block.protection_mode,
        status=block.status,
        realized_pnl=sum((t.realized_pnl for t in trades), zero),
        fees=sum((t.fees for t in trades), zero),
        trades_open=sum(1 for t in trades if t.status is TradeStatus.OPEN),
        trades_closed=sum(1 for t in trades if t.status is TradeStatus.CLOSED),
        trades_total=len(trades),
        last_error=block.last_error,
        created_at=block.created_at,
        closed_at=block.closed_at,
    )


def list_blocks(
    session: Session, user_id: int, status: BlockStatus | Iterable[BlockStatus] | None = None, limit: int = 500
) -> list[BlockSummary]:
    """The user's blocks, newest first, optionally only those in `status` (one or several)."""
    query = select(Block).where(Block.user_id == user_id)
    if status is not None:
        wanted = [status] if isinstance(status, BlockStatus) else list(status)
        query = query.where(Block.status.in_(wanted))
    blocks = list(session.scalars(query.order_by(Block.id.desc()).limit(limit)))
    trades: dict[int, list[Trade]] = {b.id: [] for b in blocks}
    if blocks:
        for trade in session.scalars(select(Trade).where(Trade.block_id.in_(list(trades)))):
            trades[trade.block_id].append(trade)
    return [_summary(b, trades[b.id]) for b in blocks]


def block_detail(session: Session, user_id: int, block_id: int) -> BlockDetail:
    """One of the user's blocks with its trades and every order; BlockAccessError otherwise."""
    block = owned_block(session, user_id, block_id)
    trades = list(session.scalars(select(Trade).where(Trade.block_id == block_id).order_by(Trade.index)))
    orders = list(session.scalars(select(Order).where(Order.block_id == block_id).order_by(Order.id)))
    return BlockDetail(
        block=_summary(block, trades),
        trades=[
            TradeRow(
                id=t.id,
                index=t.index,
                status=t.status,
                amount=t.amount,
                target_price=t.target_price,
                stop_price=t.stop_price,
                entry_filled=t.entry_filled,
                entry_average=t.entry_average,
                exit_filled=t.exit_filled,
                exit_average=t.exit_average,
                fees=t.fees,
                realized_pnl=t.realized_pnl,
                close_reason=t.close_reason,
            )
            for t in trades
        ],
        orders=[
            OrderRow(
                id=o.id,
                trade_id=o.trade_id,
                role=o.role,
                type=o.type,
                side=o.side,
                amount=o.amount,
                price=o.price,
                stop_price=o.stop_price,
                status=o.status,
                filled=o.filled,
                average=o.average,
                client_order_id=o.client_order_id,
                attempts=o.attempts,
                last_error=o.last_error,
            )
            for o in orders
        ],
    )
