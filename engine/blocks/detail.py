"""A user's blocks as records for clients outside the pages (the REST API): a block with its trades
and its P&L, perpetual funding included (`list_blocks`), and one block with every order and fill
(`block_detail`). Read-only, plain dataclasses of the stored values; another user's block is a
BlockAccessError, like everywhere."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, select
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


# Plain columns, statements built once (docs/benchmarks.md, "statements built once"): the API lists
# up to LIST_MAX blocks with their trades, and answers every creation with block_detail. Each
# record's fields name the columns it is read from.
def _columns(model: type[Any], record: type[Any], skip: tuple[str, ...] = ()) -> list[Any]:
    return [getattr(model, f.name) for f in fields(record) if f.name not in skip]


_USER_BLOCKS = (
    select(*_columns(Block, BlockSummary, ("exchange", "trades", "funding")), ExchangeAccount.exchange)
    .join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
    .where(Block.user_id == bindparam("user_id"))
)
_NEWEST = (Block.id.desc(),)
_LISTS = {  # `live`: True pending and active only, False finished only, None all
    None: _USER_BLOCKS.order_by(*_NEWEST).limit(bindparam("limit")),
    True: _USER_BLOCKS.where(Block.status.in_(LIVE_BLOCKS)).order_by(*_NEWEST).limit(bindparam("limit")),
    False: _USER_BLOCKS.where(Block.status.not_in(LIVE_BLOCKS)).order_by(*_NEWEST).limit(bindparam("limit")),
}
_ONE_BLOCK = _USER_BLOCKS.where(Block.id == bindparam("block_id"))
_TRADES = (
    select(Trade.block_id, *_columns(Trade, TradeRecord))
    .where(Trade.block_id.in_(bindparam("ids", expanding=True)))
    .order_by(Trade.index)
)
_FUNDING = select(FundingPayment.block_id, FundingPayment.symbol, FundingPayment.currency, FundingPayment.amount).where(
    FundingPayment.block_id.in_(bindparam("ids", expanding=True))
)
_ORDERS = select(*_columns(Order, OrderRecord)).where(Order.block_id == bindparam("block_id")).order_by(Order.id)
_FILLS = (
    select(*_columns(Fill, FillRecord))
    .join(Order, Order.id == Fill.order_id)
    .where(Order.block_id == bindparam("block_id"))
    .order_by(Fill.ts, Fill.id)
)


def _summaries(s: Session, rows: list[Row[Any]]) -> list[BlockSummary]:
    """Blocks (rows of _USER_BLOCKS) with their trades and funding: two queries whatever the count."""
    ids = [row.id for row in rows]
    trades: dict[int, list[TradeRecord]] = {i: [] for i in ids}
    if ids:
        for block_id, *fields in s.connection().execute(_TRADES, {"ids": ids}):
            trades[block_id].append(TradeRecord(*fields))
    funding = block_funding(s, ids)
    return [
        BlockSummary(**row._mapping, trades=tuple(trades[row.id]), funding=funding.get(row.id, Decimal(0)))
        for row in rows
    ]


def block_funding(s: Session, ids: list[int]) -> dict[int, Decimal]:
    """Each block's funding that counts in its P&L (engine.common.pnl.funding_counted)."""
    out: dict[int, Decimal] = {}
    if not ids:
        return out
    rows = s.connection().execute(_FUNDING, {"ids": ids})
    with wide_context():
        for block_id, symbol, currency, amount in rows:
            if block_id is not None and funding_counted(symbol, currency):
                out[block_id] = out.get(block_id, Decimal(0)) + amount
    return out


def list_blocks(runtime: Runtime, user_id: int, live: bool | None = None, limit: int = LIST_MAX) -> list[BlockSummary]:
    """The user's blocks with their trades, newest first; `live` True: pending and active only,
    False: finished only, None: all. Three queries whatever the count."""
    with runtime.sessions() as s:
        rows = s.connection().execute(_LISTS[live], {"user_id": user_id, "limit": limit}).all()
        return _summaries(s, rows)


def block_detail(runtime: Runtime, user_id: int, block_id: int) -> BlockDetail:
    """One of the user's blocks with its trades, orders and fills (BlockAccessError otherwise)."""
    with runtime.sessions() as s:
        connection = s.connection()
        found = connection.execute(_ONE_BLOCK, {"user_id": user_id, "block_id": block_id}).first()
        if found is None:
            raise BlockAccessError(block_id)
        summary = _summaries(s, [found])[0]
        orders = tuple(OrderRecord(*row) for row in connection.execute(_ORDERS, {"block_id": block_id}))
        fills = tuple(FillRecord(*row) for row in connection.execute(_FILLS, {"block_id": block_id}))
        return BlockDetail(summary, orders, fills)
