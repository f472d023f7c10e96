"""What a contingent order of the paper exchange sees when it is placed: the fill of the entry it
is contingent on, and the candles the account has processed since that fill (on the timeframe the
exchange plays: 1m live, a replay's own).

A stop or target sent with `OrderRequest.contingent_on` naming an entry that filled is treated as
the one-triggers-other child a real venue would have held from that fill on (docs/fill-rules.md,
rule 10): it is matched now against the candles from the entry's fill bar up to the account's feed
cursor, which the exchange has already replayed for its other orders. The candles are fetched
outside the DB transaction (no row lock is held over the network); the transaction then checks that
the cursor has not moved meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderType
from db.models import PaperFeedCursor, PaperFill, PaperOrder
from engine.common.timeframes import tf_ms
from engine.exchanges.base import OHLCV, Ticker
from engine.exchanges.fill_rules import Bar, Liquidity
from engine.exchanges.venue import OrderRequest, VenueStatus

MAX_PATH_PAGES = 100
_PAGE = 1_000


class PriceFeed(Protocol):
    """All the paper exchange needs from a market-data source (any MarketDataSource qualifies)."""

    def fetch_ticker(self, symbol: str) -> Ticker: ...

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list[OHLCV]: ...


@dataclass(frozen=True)
class ParentFill:
    """How the parent (entry) filled: at `price`, at `ts` (a candle's open when `on_bar`, else the
    moment it filled on arrival, a market order or a marketable limit)."""

    ts: int
    price: Decimal
    on_bar: bool


@dataclass(frozen=True)
class Placement:
    """A contingent order's path: its parent's fill, the cursor it was read at, the candles since."""

    parent: ParentFill
    cursor_ts: int
    bars: tuple[Bar, ...]


def parent_fill(s: Session, account_id: int, client_order_id: str, symbol: str) -> ParentFill | None:
    """The fill of the account's order `client_order_id` on `symbol`, or None (unknown or not filled)."""
    row = s.execute(
        select(PaperFill.ts, PaperFill.price, PaperFill.taker_or_maker, PaperOrder.type)
        .join(PaperOrder, PaperOrder.id == PaperFill.order_id)
        .where(PaperOrder.account_id == account_id, PaperOrder.client_order_id == client_order_id)
        .where(PaperOrder.symbol == symbol, PaperOrder.status == VenueStatus.CLOSED.value)
        .order_by(PaperFill.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    ts, price, liquidity, type_ = row
    # Market orders and marketable limits fill on arrival (always as taker); a limit that rested
    # fills as maker and a stop only ever on a candle.
    on_arrival = type_ == OrderType.MARKET or (type_ == OrderType.LIMIT and liquidity == Liquidity.TAKER.value)
    return ParentFill(ts, price, not on_arrival)


def processed_candles(
    fetch: Callable[[str, str, int, int], list[OHLCV]], symbol: str, timeframe: str, since: int, until: int
) -> tuple[Bar, ...]:
    """The candles of `symbol` on `timeframe` opening from `since` to `until` (the cursor), oldest
    first, page by page through `fetch(symbol, timeframe, since, limit)`."""
    step, bars, start = tf_ms(timeframe), {}, since
    for _ in range(MAX_PATH_PAGES):
        if start > until:
            break
        limit = min(_PAGE, (until - start) // step + 1)
        fresh = [Bar.of(row) for row in fetch(symbol, timeframe, start, limit) if start <= int(row[0]) <= until]
        if not fresh:
            break
        bars.update((bar.ts, bar) for bar in fresh)
        start = max(bar.ts for bar in fresh) + 1
    return tuple(bars[ts] for ts in sorted(bars))


def read_placement(
    sessions: sessionmaker[Session],
    account_id: int,
    req: OrderRequest,
    fetch: Callable[[str, str, int, int], list[OHLCV]],
    timeframe: str,
) -> Placement | None:
    """The path `req` is matched on when placed, or None when it is placed as any other order (no
    `contingent_on`, a market order, or a parent that is unknown or has not filled)."""
    if req.contingent_on is None or req.type == OrderType.MARKET:
        return None
    with sessions() as s:
        parent = parent_fill(s, account_id, req.contingent_on, req.symbol)
        cursor = s.scalar(cursor_ts_query(account_id, req.symbol))
    if parent is None:
        return None
    until = -1 if cursor is None else cursor
    bars = processed_candles(fetch, req.symbol, timeframe, parent.ts, until) if until >= parent.ts else ()
    return Placement(parent, until, bars)


def cursor_ts_query(account_id: int, symbol: str) -> Select[tuple[int]]:
    """The last candle time the account processed on `symbol` (no row: nothing yet)."""
    return select(PaperFeedCursor.last_ts).where(
        PaperFeedCursor.account_id == account_id, PaperFeedCursor.symbol == symbol
    )
