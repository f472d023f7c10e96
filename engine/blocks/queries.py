"""Read-only views of a user's blocks for the pages, as plain dataclasses: the blocks table (a row
per trade with its orders' statuses) and the chart's overlays (lines and fills of the live blocks on
one market). Another user's blocks are never returned."""

from __future__ import annotations

from collections.abc import Mapping
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
    Side,
    TradeStatus,
)
from db.models import Block, ExchangeAccount, Fill, Order, Trade
from engine.blocks.states import LIVE_BLOCKS
from engine.common.pnl import unrealized
from engine.common.precision import format_number, wide_context
from engine.market import api as market
from engine.runtime import Runtime


class BlockAccessError(PermissionError):
    """The block does not exist or belongs to someone else (the message does not say which)."""

    def __init__(self, block_id: int) -> None:
        self.block_id = block_id
        super().__init__(f"block {block_id} is not one of yours")


def owned_block(session: Session, user_id: int, block_id: int) -> Block:
    block = session.get(Block, block_id)
    if block is None or block.user_id != user_id:
        raise BlockAccessError(block_id)
    return block


# --- the chart's overlays and the blocks table ---


@dataclass(frozen=True)
class OverlayLine:
    """One horizontal line of a block on the chart."""

    block_id: int
    role: str  # "entry", "stop" or "target"
    index: int | None  # the target's index (0-based); None for entry and stop
    price: Decimal
    label: str
    filled: bool  # the entry filled, the target reached; a live stop is never filled


@dataclass(frozen=True)
class OverlayFill:
    """One execution of a block's order, a marker on the chart."""

    block_id: int
    role: OrderRole
    side: str  # buy / sell
    price: Decimal
    amount: Decimal
    ts: int  # ms


@dataclass(frozen=True)
class ChartOverlays:
    lines: list[OverlayLine]
    fills: list[OverlayFill]


def _block_lines(block: Block, trades: list[Trade], tick: Decimal | None) -> list[OverlayLine]:
    """The block's lines, labelled in the market's precision ("#7 stop 35,100.00")."""

    def _fmt(value: Decimal) -> str:
        return format_number(value, tick)

    lines: list[OverlayLine] = []
    entered = sum((t.entry_filled for t in trades), Decimal(0))
    averages = [t.entry_average for t in trades if t.entry_average is not None]
    entry = block.entry_price if block.entry_price is not None else (averages[0] if averages else None)
    if entry is not None:
        filled = entered >= block.total_amount
        lines.append(OverlayLine(block.id, "entry", None, entry, f"#{block.id} entry {_fmt(entry)}", filled))
    # A stop moved to break-even is a line of its own; closed trades have no stop left.
    stops = sorted({t.stop_price for t in trades if t.status in (TradeStatus.PENDING, TradeStatus.OPEN)})
    for stop in stops:
        lines.append(OverlayLine(block.id, "stop", None, stop, f"#{block.id} stop {_fmt(stop)}", False))
    for t in trades:
        reached = t.status is TradeStatus.CLOSED and t.close_reason is CloseReason.TARGET
        label = f"#{block.id} T{t.index + 1} {_fmt(t.target_price)}"
        lines.append(OverlayLine(block.id, "target", t.index, t.target_price, label, reached))
    return lines


def _fills(session: Session, block_ids: list[int]) -> list[OverlayFill]:
    rows = session.execute(
        select(Order.block_id, Fill.role, Order.side, Fill.price, Fill.amount, Fill.ts)
        .join(Order, Order.id == Fill.order_id)
        .where(Order.block_id.in_(block_ids))
        .order_by(Fill.ts, Fill.id)
    )
    return [OverlayFill(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def chart_overlays(session: Session, user_id: int, exchange: str, symbol: str) -> ChartOverlays:
    """Lines (entry, stops, targets) and fills of the user's live blocks on one market."""
    blocks = list(
        session.scalars(
            select(Block)
            .join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
            .where(
                Block.user_id == user_id,
                ExchangeAccount.exchange == exchange,
                Block.symbol == symbol,
                Block.status.in_(LIVE_BLOCKS),
            )
            .order_by(Block.id)
        )
    )
    if not blocks:
        return ChartOverlays([], [])
    ids = [b.id for b in blocks]
    trades: dict[int, list[Trade]] = {i: [] for i in ids}
    for trade in session.scalars(select(Trade).where(Trade.block_id.in_(ids)).order_by(Trade.index)):
        trades[trade.block_id].append(trade)
    tick = market.ticks(session, {(exchange, symbol)})[exchange, symbol].price
    lines = [line for b in blocks for line in _block_lines(b, trades[b.id], tick)]
    return ChartOverlays(lines, _fills(session, ids))


def one_block_overlays(session: Session, user_id: int, block_id: int) -> tuple[str, str, ChartOverlays]:
    """(exchange, symbol, overlays) of one of the user's blocks whatever its status (the journal's
    link to the chart): its entry, targets and its stop as planned (a closed block has no live
    stop left), and every fill. BlockAccessError unless the block is the user's."""
    block = owned_block(session, user_id, block_id)
    exchange = session.scalar(select(ExchangeAccount.exchange).where(ExchangeAccount.id == block.account_id))
    trades = list(session.scalars(select(Trade).where(Trade.block_id == block.id).order_by(Trade.index)))
    tick = market.ticks(session, {(str(exchange), block.symbol)})[str(exchange), block.symbol].price
    lines = _block_lines(block, trades, tick)
    if not any(line.role == "stop" for line in lines):
        label = f"#{block.id} stop {format_number(block.stop_price, tick)}"
        lines.insert(1, OverlayLine(block.id, "stop", None, block.stop_price, label, False))
    return str(exchange), block.symbol, ChartOverlays(lines, _fills(session, [block.id]))


@dataclass(frozen=True)
class BlockTradeRow:
    """One row of the blocks table: a trade with its block's columns and its orders' statuses."""

    block_id: int
    account: str
    symbol: str
    side: Side
    entry_type: EntryType
    block_status: BlockStatus
    trade_index: int
    trade_status: TradeStatus
    amount: Decimal
    entry_price: Decimal | None
    entry_average: Decimal | None
    stop_price: Decimal
    target_price: Decimal
    entry_order: OrderStatus | None  # status of the newest order of each role
    tp_order: OrderStatus | None
    sl_order: OrderStatus | None
    exit_order: OrderStatus | None
    realized_pnl: Decimal
    close_reason: CloseReason | None
    last_error: str | None
    created_at: datetime
    open_amount: Decimal = Decimal(0)  # entered and not yet exited
    unrealized_pnl: Decimal | None = None  # of the open amount at the last price the engine saw
    price_tick: Decimal | None = None  # the market's, for showing prices and amounts
    amount_tick: Decimal | None = None


def block_rows(
    session: Session,
    user_id: int,
    live: bool | None = None,
    limit: int = 500,
    prices: Mapping[tuple[str, str], Decimal] | None = None,
) -> list[BlockTradeRow]:
    """The user's blocks as one row per trade, newest block first; `live` True keeps pending and
    active blocks, False closed and canceled ones, None all. Open trades carry their unrealized
    P&L at `prices` ((exchange, symbol) -> last price) when known, and every row its market's ticks.
    Four queries whatever the count."""
    query = select(Block, ExchangeAccount.name, ExchangeAccount.exchange)
    query = query.join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
    query = query.where(Block.user_id == user_id)
    if live is not None:
        query = query.where(Block.status.in_(LIVE_BLOCKS) if live else Block.status.not_in(LIVE_BLOCKS))
    found = list(session.execute(query.order_by(Block.id.desc()).limit(limit)))
    if not found:
        return []
    ids = [row[0].id for row in found]
    trades: dict[int, list[Trade]] = {i: [] for i in ids}
    for trade in session.scalars(select(Trade).where(Trade.block_id.in_(ids)).order_by(Trade.index)):
        trades[trade.block_id].append(trade)
    newest: dict[tuple[int, OrderRole], OrderStatus] = {}
    for order in session.scalars(select(Order).where(Order.block_id.in_(ids)).order_by(Order.id)):
        newest[(order.trade_id, order.role)] = order.status  # later ids replace earlier ones
    shown = market.ticks(session, {(exchange, block.symbol) for block, _name, exchange in found})
    return [
        BlockTradeRow(
            block_id=block.id,
            account=account_name,
            symbol=block.symbol,
            side=block.side,
            entry_type=block.entry_type,
            block_status=block.status,
            trade_index=t.index,
            trade_status=t.status,
            amount=t.amount,
            entry_price=block.entry_price,
            entry_average=t.entry_average,
            stop_price=t.stop_price,
            target_price=t.target_price,
            entry_order=newest.get((t.id, OrderRole.ENTRY)),
            tp_order=newest.get((t.id, OrderRole.TP)),
            sl_order=newest.get((t.id, OrderRole.SL)),
            exit_order=newest.get((t.id, OrderRole.EXIT)),
            realized_pnl=t.realized_pnl,
            close_reason=t.close_reason,
            last_error=block.last_error,
            created_at=block.created_at,
            open_amount=(held := _open_amount(t)),
            unrealized_pnl=_unrealized(block, t, held, (prices or {}).get((exchange, block.symbol))),
            price_tick=shown[exchange, block.symbol].price,
            amount_tick=shown[exchange, block.symbol].amount,
        )
        for block, account_name, exchange in found
        for t in trades[block.id]
    ]


def _open_amount(trade: Trade) -> Decimal:
    with wide_context():
        return max(trade.entry_filled - trade.exit_filled, Decimal(0))


def _unrealized(block: Block, trade: Trade, held: Decimal, last: Decimal | None) -> Decimal | None:
    if last is None or trade.status is not TradeStatus.OPEN or trade.entry_average is None or held <= 0:
        return None
    return unrealized(block.side, trade.entry_average, last, held)


def overlays(runtime: Runtime, user_id: int, series_id: int | None) -> ChartOverlays:
    """Lines and fills of the user's live blocks on the market of a series they watch."""
    entry = market.watched(runtime, user_id, series_id)
    with runtime.sessions() as session:
        return chart_overlays(session, user_id, entry.exchange, entry.symbol)


def block_overlays(runtime: Runtime, user_id: int, block_id: int) -> tuple[str, str, ChartOverlays]:
    with runtime.sessions() as session:
        return one_block_overlays(session, user_id, block_id)


def table_rows(runtime: Runtime, user_id: int, live: bool | None) -> list[BlockTradeRow]:
    with runtime.sessions() as session:
        return block_rows(session, user_id, live, prices=dict(runtime.trading.last_prices))
