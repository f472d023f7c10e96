"""Statistics of a user's closed trades grouped by symbol, by the block's setup or by tag (the
journal's and the report's "by symbol / by setup / by tag" tables).

A trade counts in a period when it exited there, booked by the calendar's own rule: the bookings
query (engine.portfolio.bookings) by local close day, folded per trade by views.trade_results. Only
the grouping key is read here: the blocks' setups and tags, in one query for the trades' blocks.
A group's net P&L counts the funding of its blocks (engine.portfolio.funding_days) in the period.
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
from engine.portfolio.funding_days import FundingBooking, funding_bookings
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
    funding: Decimal = ZERO  # perpetual funding of the group's blocks in the period: in `pnl` too


def summarize_group(key: str, results: Sequence[TradeResult], funding: Decimal = ZERO) -> GroupStats:
    """A group's figures from its trades' results and its funding (pure): the net P&L counts the
    funding, the per-trade figures (win rate, expectancy, ...) do not."""
    pnls = [t.pnl for t in results]
    with wide_context():
        fees = sum((t.fees for t in results), ZERO)
    return GroupStats(
        key=key,
        trades=len(pnls),
        wins=len(stats.wins(pnls)),
        losses=len(stats.losses(pnls)),
        pnl=stats.net([*pnls, funding]),
        fees=fees,
        avg_r=stats.average([t.r for t in results if t.r is not None]),
        win_rate=stats.win_rate(pnls),
        profit_factor=stats.profit_factor(pnls),
        expectancy=stats.expectancy(pnls),
        funding=funding,
    )


def group(
    results: Iterable[TradeResult], keys_of: dict[int, list[str]], funding: Iterable[tuple[list[str], Decimal]] = ()
) -> list[GroupStats]:
    """Results grouped under each of their trade's keys (a trade with two tags counts in both), and
    (keys, amount) funding under its keys, sorted by net P&L, best first (then by key, so equal
    groups keep a stable order)."""
    groups: dict[str, list[TradeResult]] = {}
    for result in results:
        for key in keys_of[result.trade_id]:
            groups.setdefault(key, []).append(result)
    paid: dict[str, Decimal] = {}
    with wide_context():
        for keys, amount in funding:
            for key in keys:
                paid[key] = paid.get(key, ZERO) + amount
                groups.setdefault(key, [])
    out = [summarize_group(key, items, paid.get(key, ZERO)) for key, items in groups.items()]
    return sorted(out, key=lambda g: (-g.pnl, g.key))


def _block_keys(session: Session, ids: Iterable[int | None], by: GroupBy) -> dict[int | None, list[str]]:
    """block id -> its setup or tags ("(no setup)" / "(no tag)" without; None, no block: the same)."""
    wanted = sorted({i for i in ids if i is not None})
    per_block: dict[int | None, list[str]] = {}
    if by == "setup":
        query = select(Block.id, Block.setup).where(Block.id.in_(wanted))
        per_block = {bid: [setup or NO_SETUP] for bid, setup in session.execute(query)}
    else:
        query = select(BlockTag.block_id, BlockTag.tag).where(BlockTag.block_id.in_(wanted)).order_by(BlockTag.tag)
        for bid, tag in session.execute(query):
            per_block.setdefault(bid, []).append(tag)
    fallback = NO_SETUP if by == "setup" else NO_TAG
    return {bid: per_block.get(bid) or [fallback] for bid in [*wanted, None]}


def _keys(
    session: Session, rows: Sequence[Booking], paid: Sequence[FundingBooking], by: GroupBy
) -> tuple[dict[int, list[str]], list[tuple[list[str], Decimal]]]:
    """(trade id -> its group keys, the funding's (keys, amount))."""
    if by == "symbol":
        return {b.trade_id: [b.symbol] for b in rows}, [([f.symbol], f.amount) for f in paid]
    keys = _block_keys(session, [b.block_id for b in rows] + [f.block_id for f in paid], by)
    return {b.trade_id: keys[b.block_id] for b in rows}, [(keys[f.block_id], f.amount) for f in paid]


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
        paid = funding_bookings(s, [user_id], tz, first, last, scope)[user_id]
        keys, funding = _keys(s, rows, paid, by)
    return group(trade_results(rows), keys, funding)
