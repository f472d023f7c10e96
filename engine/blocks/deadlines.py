"""When the clock alone will make the bracket rules act on an account's live blocks: an entry's
timeout, a position's longest duration. A replay that skips the bars where no order can fill
(engine.replay) must still stop at these moments; the rules themselves are in rules.py."""

from __future__ import annotations

from sqlalchemy import or_, select

from db.models import Block, Trade
from engine.blocks.states import TRADE_TERMINAL
from engine.blocks.store import LIVE_BLOCKS, to_ms
from engine.runtime import Runtime


def next_deadline(runtime: Runtime, account_id: int, after_ms: int) -> int | None:
    """The first moment after `after_ms` at which a time rule may fire on a live block of the account
    (one light query: a backtest asks after every event)."""
    query = (
        select(Block.created_at, Block.entry_timeout_s, Block.max_duration_s, Trade.opened_at)
        .join(Trade, Trade.block_id == Block.id)
        .where(Block.account_id == account_id, Block.status.in_(LIVE_BLOCKS), Trade.status.not_in(TRADE_TERMINAL))
        .where(or_(Block.entry_timeout_s.is_not(None), Block.max_duration_s.is_not(None)))
    )
    moments: list[int] = []
    with runtime.sessions() as s:
        for created, timeout, duration, opened in s.execute(query):
            if timeout:  # a partly filled trade's entry times out too: an idle stop costs one tick
                moments.append((to_ms(created) or 0) + timeout * 1000)
            if duration and opened is not None:
                moments.append((to_ms(opened) or 0) + duration * 1000)
    later = [m for m in moments if m > after_ms]
    return min(later) if later else None
