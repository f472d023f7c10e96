"""Closed trades on the chart: where each closed trade of the user's blocks on one market was
entered and left (its first entry fill, its last exit fill, at their average prices), with its
realized P&L and R multiple, for the chart's markers and their tooltips.

Live charts show the trades of live and paper accounts only (a replay's stay on its own chart), and
at most `limit` trades, the newest closed first, that overlap the window shown: a year of trading
does not slow the chart down.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import AccountKind, CloseReason, OrderRole, Side, TradeStatus
from db.models import Block, ExchangeAccount, Fill, Trade
from engine.blocks.pnl import r_multiple
from engine.common.symbols import split_symbol
from engine.market import api as market
from engine.runtime import Runtime

MAX_TRADES = 200  # the most closed trades one chart marks


@dataclass(frozen=True)
class TradeMarker:
    """One end of a closed trade: where it was entered ("entry") or left ("exit")."""

    block_id: int
    target: int  # the trade's target, 1-based (T1, T2 ...)
    end: str  # "entry" or "exit"
    side: Side
    price: Decimal  # the average fill price of that end
    ts: int  # ms: the first entry fill, the last exit fill
    pnl: Decimal  # the trade's realized P&L, fees included
    r: Decimal | None  # the P&L in units of the trade's share of its block's risk
    close_reason: CloseReason | None
    quote: str
    price_tick: Decimal | None


def _risk_share(block_risk: Decimal, total: Decimal, amount: Decimal) -> Decimal:
    return block_risk * amount / total if total else Decimal(0)


def closed_markers(
    session: Session, user_id: int, exchange: str, symbol: str, start_ms: int, end_ms: int, limit: int = MAX_TRADES
) -> list[TradeMarker]:
    """Entry and exit markers of the user's closed trades on (exchange, symbol) that overlap
    [start_ms, end_ms], non-replay accounts only, the newest `limit` trades; sorted by time."""
    mine = (
        select(Trade.id)
        .join(Block, Block.id == Trade.block_id)
        .join(ExchangeAccount, ExchangeAccount.id == Block.account_id)
        .where(
            Block.user_id == user_id,
            Block.symbol == symbol,
            ExchangeAccount.exchange == exchange,
            ExchangeAccount.kind != AccountKind.REPLAY,
            Trade.status == TradeStatus.CLOSED,
        )
    )
    ends = (
        select(
            Fill.trade_id.label("trade_id"),
            func.min(Fill.ts).filter(Fill.role == OrderRole.ENTRY).label("entered"),
            func.max(Fill.ts).filter(Fill.role != OrderRole.ENTRY).label("left"),
        )
        .where(Fill.trade_id.in_(mine))
        .group_by(Fill.trade_id)
        .subquery()
    )
    rows = session.execute(
        select(Trade, Block.side, Block.risk, Block.total_amount, Block.id, ends.c.entered, ends.c.left)
        .join(ends, ends.c.trade_id == Trade.id)
        .join(Block, Block.id == Trade.block_id)
        .where(ends.c.entered <= end_ms, ends.c.left >= start_ms)
        .where(Trade.entry_average.is_not(None), Trade.exit_average.is_not(None))
        .order_by(ends.c.left.desc(), Trade.id.desc())
        .limit(limit)
    ).all()
    quote = split_symbol(symbol)[1]
    tick = market.ticks(session, [(exchange, symbol)])[exchange, symbol].price
    markers: list[TradeMarker] = []
    for trade, side, risk, total, block_id, entered, left in rows:
        r = r_multiple(trade.realized_pnl, _risk_share(risk, total, trade.amount))
        common = {"block_id": block_id, "target": trade.index + 1, "side": side, "pnl": trade.realized_pnl}
        common |= {"r": r, "close_reason": trade.close_reason, "quote": quote, "price_tick": tick}
        markers.append(TradeMarker(end="entry", price=trade.entry_average, ts=int(entered), **common))
        markers.append(TradeMarker(end="exit", price=trade.exit_average, ts=int(left), **common))
    return sorted(markers, key=lambda m: (m.ts, m.block_id, m.target, m.end))


def trade_markers(
    runtime: Runtime, user_id: int, series_id: int, start_ms: int, end_ms: int, limit: int = MAX_TRADES
) -> list[TradeMarker]:
    """Closed-trade markers on the market of a series the user watches (NotWatchedError if not)."""
    entry = market.watched(runtime, user_id, series_id)
    with runtime.sessions() as session:
        return closed_markers(session, user_id, entry.exchange, entry.symbol, start_ms, end_ms, limit)
