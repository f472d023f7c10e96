"""A user's blocks as records for clients outside the pages (the REST API): a block with its trades
and its P&L, perpetual funding included (`list_blocks`), and one block with every order and fill
(`block_detail`). Read-only, plain dataclasses of the stored values; another user's block is a
BlockAccessError, like everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import (
    BlockStatus,
    CloseReason,
    EntryType,
    MarginMode,
    OrderRole,
    OrderStatus,
    OrderType,
    Side,
    SizeMode,
    TradeStatus,
)
from db.models import Block, ExchangeAccount, Fill, FundingPayment, Order, Trade
from engine.blocks.queries import BlockAccessError
from engine.blocks.states import LIVE_BLOCKS
from engine.common.pnl import funding_counted
from engine.common.precision import wide_context
from engine.runtime import Runtime

LIST_MAX = 500


@dataclass(frozen=True)
class TradeRecord:
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
class BlockSummary:
    id: int
    account_id: int
    exchange: str
    symbol: str
    side: Side
    entry_type: EntryType
    entry_price: Decimal | None
    stop_price: Decimal
    size_mode: SizeMode
    size_value: Decimal
    total_amount: Decimal
    risk: Decimal
    status: BlockStatus
    last_error: str | None
    created_at: datetime
    closed_at: datetime | None
    trades: tuple[TradeRecord, ...]
    leverage: int | None = None
    margin_mode: MarginMode | None = None
    funding: Decimal = Decimal(0)  # perpetual funding booked to the block (engine.portfolio.funding)

    @property
    def pnl(self) -> Decimal:
        """The block's realized P&L: its trades' (fees included) and its funding."""
        with wide_context():
            return sum((t.realized_pnl for t in self.trades), self.funding)


@dataclass(frozen=True)
class OrderRecord:
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
    fee: Decimal
    client_order_id: str
    last_error: str | None


@dataclass(frozen=True)
class FillRecord:
    id: int
    order_id: int
    trade_id: int
    role: OrderRole
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str | None
    realized_pnl: Decimal | None
    ts: int  # ms UTC


@dataclass(frozen=True)
class BlockDetail:
    block: BlockSummary
    orders: tuple[OrderRecord, ...]
    fills: tuple[FillRecord, ...]


def _trade(t: Trade) -> TradeRecord:
    return TradeRecord(
        t.id,
        t.index,
        t.status,
        t.amount,
        t.target_price,
        t.stop_price,
        t.entry_filled,
        t.entry_average,
        t.exit_filled,
        t.exit_average,
        t.fees,
        t.realized_pnl,
        t.close_reason,
    )


def _summary(b: Block, exchange: str, trades: list[Trade], funding: Decimal) -> BlockSummary:
    return BlockSummary(
        b.id,
        b.account_id,
        exchange,
        b.symbol,
        b.side,
        b.entry_type,
        b.entry_price,
        b.stop_price,
        b.size_mode,
        b.size_value,
        b.total_amount,
        b.risk,
        b.status,
        b.last_error,
        b.created_at,
        b.closed_at,
        tuple(_trade(t) for t in trades),
        b.leverage,
        b.margin_mode,
        funding,
    )


def _summaries(s: Session, found: list[tuple[Block, str]]) -> list[BlockSummary]:
    ids = [b.id for b, _ in found]
    trades: dict[int, list[Trade]] = {i: [] for i in ids}
    if ids:
        for trade in s.scalars(select(Trade).where(Trade.block_id.in_(ids)).order_by(Trade.index)):
            trades[trade.block_id].append(trade)
    funding = block_funding(s, ids)
    return [_summary(b, exchange, trades[b.id], funding.get(b.id, Decimal(0))) for b, exchange in found]


def block_funding(s: Session, ids: list[int]) -> dict[int, Decimal]:
    """Each block's funding that counts in its P&L (engine.common.pnl.funding_counted)."""
    out: dict[int, Decimal] = {}
    if not ids:
        return out
    rows = s.execute(
        select(FundingPayment.block_id, FundingPayment.symbol, FundingPayment.currency, FundingPayment.amount).where(
            FundingPayment.block_id.in_(ids)
        )
    )
    with wide_context():
        for block_id, symbol, currency, amount in rows:
            if block_id is not None and funding_counted(symbol, currency):
                out[block_id] = out.get(block_id, Decimal(0)) + amount
    return out


def list_blocks(runtime: Runtime, user_id: int, live: bool | None = None, limit: int = LIST_MAX) -> list[BlockSummary]:
    """The user's blocks with their trades, newest first; `live` True: pending and active only,
    False: finished only, None: all. Two queries whatever the count."""
    query = select(Block, ExchangeAccount.exchange).join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
    query = query.where(Block.user_id == user_id)
    if live is not None:
        query = query.where(Block.status.in_(LIVE_BLOCKS) if live else Block.status.not_in(LIVE_BLOCKS))
    with runtime.sessions() as s:
        found = [(b, str(exchange)) for b, exchange in s.execute(query.order_by(Block.id.desc()).limit(limit))]
        return _summaries(s, found)


def block_detail(runtime: Runtime, user_id: int, block_id: int) -> BlockDetail:
    """One of the user's blocks with its trades, orders and fills (BlockAccessError otherwise)."""
    with runtime.sessions() as s:
        # The block with its account's exchange in one query (the API answers every creation with this).
        found = s.execute(
            select(Block, ExchangeAccount.exchange)
            .join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
            .where(Block.id == block_id, Block.user_id == user_id)
        ).first()
        if found is None:
            raise BlockAccessError(block_id)
        block, exchange = found
        summary = _summaries(s, [(block, str(exchange))])[0]
        orders = s.scalars(select(Order).where(Order.block_id == block_id).order_by(Order.id))
        order_records = tuple(
            OrderRecord(
                o.id,
                o.trade_id,
                o.role,
                o.type,
                o.side,
                o.amount,
                o.price,
                o.stop_price,
                o.status,
                o.filled,
                o.average,
                o.fee,
                o.client_order_id,
                o.last_error,
            )
            for o in orders
        )
        fills = s.scalars(
            select(Fill)
            .join(Order, Order.id == Fill.order_id)
            .where(Order.block_id == block_id)
            .order_by(Fill.ts, Fill.id)
        )
        fill_records = tuple(
            FillRecord(
                f.id, f.order_id, f.trade_id, f.role, f.price, f.amount, f.fee, f.fee_currency, f.realized_pnl, f.ts
            )
            for f in fills
        )
        return BlockDetail(summary, order_records, fill_records)
