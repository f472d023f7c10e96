"""A run's report: its closed trades, the account's equity after each, the drawdown from the running
peak, and the figures traders compare runs by (win rate, profit factor, deepest drawdown). Exact
Decimals throughout; the pages format them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from db.enums import TradeStatus
from db.models import Block, Trade
from engine.replay.records import RunReport, RunTrade
from engine.replay.store import START_BALANCE, owned_run, summary_of
from engine.runtime import Runtime

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def run_report(runtime: Runtime, user_id: int, run_id: int) -> RunReport:
    """The report of one of the user's runs (RunAccessError for anyone else's)."""
    with runtime.sessions() as s:
        run = owned_run(s, user_id, run_id)
        summary = summary_of(s, run)
        rows = s.execute(
            select(Trade, Block.symbol, Block.side)
            .join(Block, Block.id == Trade.block_id)
            .where(Block.account_id == run.account_id, Trade.status == TradeStatus.CLOSED)
            .order_by(Trade.closed_at, Trade.id)
        ).all()
        trades = [_trade(trade, symbol, side.value) for trade, symbol, side in rows]
    equity, drawdown = curves(summary.start_ms, START_BALANCE, trades)
    return RunReport(
        summary=summary,
        trades=trades,
        equity=equity,
        drawdown=drawdown,
        starting_equity=START_BALANCE,
        win_rate=win_rate(trades),
        profit_factor=profit_factor(trades),
        max_drawdown_pct=min((d for _, d in drawdown), default=ZERO),
    )


def _ms(at: datetime | None) -> int:
    return 0 if at is None else int(at.timestamp() * 1000)


def _trade(trade: Trade, symbol: str, side: str) -> RunTrade:
    return RunTrade(
        block_id=trade.block_id,
        trade_id=trade.id,
        symbol=symbol,
        side=side,
        opened_ms=_ms(trade.opened_at),
        closed_ms=_ms(trade.closed_at),
        entry_price=trade.entry_average or ZERO,
        exit_price=trade.exit_average or ZERO,
        amount=trade.entry_filled,
        net_pnl=trade.realized_pnl,
        close_reason=trade.close_reason.value if trade.close_reason else "",
    )


def curves(
    start_ms: int, start: Decimal, trades: list[RunTrade]
) -> tuple[list[tuple[int, Decimal]], list[tuple[int, Decimal]]]:
    """(equity after each closed trade, drawdown in % from the running peak), both from the start."""
    equity, drawdown = [(start_ms, start)], [(start_ms, ZERO)]
    value = peak = start
    for trade in trades:
        value += trade.net_pnl
        peak = max(peak, value)
        equity.append((trade.closed_ms, value))
        drawdown.append((trade.closed_ms, (value - peak) / peak * HUNDRED if peak > 0 else ZERO))
    return equity, drawdown


def win_rate(trades: list[RunTrade]) -> Decimal | None:
    if not trades:
        return None
    return Decimal(sum(1 for t in trades if t.net_pnl > 0)) / len(trades) * HUNDRED


def profit_factor(trades: list[RunTrade]) -> Decimal | None:
    """Gross profit / gross loss; None without a losing trade (infinite) or without trades."""
    wins = sum((t.net_pnl for t in trades if t.net_pnl > 0), ZERO)
    losses = -sum((t.net_pnl for t in trades if t.net_pnl < 0), ZERO)
    return wins / losses if losses > 0 else None
