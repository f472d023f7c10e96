"""Statistics of a user's closed trades grouped by symbol, by the block's setup or by tag (the
journal's and the report's "by symbol / by setup / by tag" tables).

A trade counts in a period when it exited there, booked by the calendar's own rule: the bookings
query (engine.portfolio.bookings) by local close day, folded per trade by views.trade_results. Only
the grouping key is read here: the blocks' setups and tags, in one query for the trades' blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Block, BlockTag
from engine.common.precision import wide_context
from engine.portfolio import stats
from engine.portfolio.bookings import Booking, bookings
from engine.portfolio.scope import resolve
from engine.portfolio.stats import TradeResult
from engine.portfolio.views import trade_results
from engine.runtime import Runtime

GroupBy = Literal["symbol", "setup", "tag"]
NO_SETUP = "(no setup)"
NO_TAG = "(no tag)"
ZERO = Decimal(0)


@dataclass(frozen=True)
class GroupStats:
    """One group's closed trades: counts, net P&L after fees, the fees, and the usual ratios (None
    where they are not defined, as in engine.portfolio.stats)."""

    key: str
    trades: int
    wins: int
    losses: int
    pnl: Decimal
    fees: Decimal
    avg_r: Decimal | None  # over the trades that have an R (a risk); None when none has
    win_rate: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None


def summarize_group(key: str, results: Sequence[TradeResult]) -> GroupStats:
    """A group's figures from its trades' results (pure)."""
    pnls = [t.pnl for t in results]
    with wide_context():
        fees = sum((t.fees for t in results), ZERO)
    return GroupStats(
        key=key,
        trades=len(pnls),
        wins=len(stats.wins(pnls)),
        losses=len(stats.losses(pnls)),
        pnl=stats.net(pnls),
        fees=fees,
        avg_r=stats.average([t.r for t in results if t.r is not None]),
        win_rate=stats.win_rate(pnls),
        profit_factor=stats.profit_factor(pnls),
        expectancy=stats.expectancy(pnls),
    )


def group(results: Iterable[TradeResult], keys_of: dict[int, list[str]]) -> list[GroupStats]:
    """Results grouped under each of their trade's keys (a trade with two tags counts in both),
    sorted by net P&L, best first (then by key, so equal groups keep a stable order)."""
    groups: dict[str, list[TradeResult]] = {}
    for result in results:
        for key in keys_of[result.trade_id]:
            groups.setdefault(key, []).append(result)
    out = [summarize_group(key, items) for key, items in groups.items()]
    return sorted(out, key=lambda g: (-g.pnl, g.key))


def _keys(session: Session, rows: Sequence[Booking], by: GroupBy) -> dict[int, list[str]]:
    """trade id -> its group keys."""
    block_of = {b.trade_id: b.block_id for b in rows}
    if by == "symbol":
        symbol_of = {b.trade_id: b.symbol for b in rows}
        return {trade: [symbol_of[trade]] for trade in block_of}
    ids = sorted(set(block_of.values()))
    per_block: dict[int, list[str]] = {}
    if by == "setup":
        query = select(Block.id, Block.setup).where(Block.id.in_(ids))
        per_block = {bid: [setup or NO_SETUP] for bid, setup in session.execute(query)}
    else:
        query = select(BlockTag.block_id, BlockTag.tag).where(BlockTag.block_id.in_(ids)).order_by(BlockTag.tag)
        for bid, tag in session.execute(query):
            per_block.setdefault(bid, []).append(tag)
    fallback = NO_SETUP if by == "setup" else NO_TAG
    return {trade: per_block.get(bid) or [fallback] for trade, bid in block_of.items()}


def group_stats(
    runtime: Runtime, user_id: int, first: date, last: date, tz: str, by: GroupBy, account_id: int | None = None
) -> list[GroupStats]:
    """The user's trades that exited from `first` to `last` (local days in `tz`), grouped `by`
    symbol, setup ("(no setup)" without one) or tag (one row per tag, "(no tag)" for untagged); of
    their live and paper accounts, or of `account_id` alone (AccountAccessError if not theirs)."""
    if by not in ("symbol", "setup", "tag"):
        raise ValueError(f"cannot group by {by!r}")
    with runtime.sessions() as s:
        scope = resolve(s, [user_id], account_id)
        rows = [b for b in bookings(s, [user_id], tz, first, last, scope)[user_id] if b.exits]
        keys = _keys(s, rows, by)
    return group(trade_results(rows), keys)
