"""The markets table: loading an exchange's markets into it, and reading them back.

`sync_markets` mirrors what the exchange lists (markets it stopped listing stay, marked inactive,
since series and trades may still refer to them); `list_markets` backs the searchable symbol box.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import fields
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Market, utcnow
from engine.exchanges.api import MarketDataSource, MarketInfo

log = logging.getLogger(__name__)

# MarketInfo fields stored as columns of the same name (exchange and symbol are the key).
_COLUMNS = tuple(f.name for f in fields(MarketInfo) if f.name not in ("exchange", "symbol"))
_MAX_LENGTHS = {"symbol": 64, "base": 32, "quote": 32, "type": 16}


def sync_markets(sessions: sessionmaker[Session], source: MarketDataSource) -> int:
    """Upsert the source's markets in one transaction; mark the ones it no longer lists inactive.
    Returns how many markets the source listed (and were stored)."""
    markets = [m for m in source.load_markets() if _fits(m)]  # network first, outside the transaction
    now = utcnow()
    with sessions.begin() as session:
        existing = {row.symbol: row for row in session.scalars(select(Market).where(Market.exchange == source.id))}
        for info in markets:
            row = existing.pop(info.symbol, None)
            if row is None:
                row = Market(exchange=source.id, symbol=info.symbol)
                session.add(row)
            for name in _COLUMNS:
                setattr(row, name, getattr(info, name))
            row.updated_at = now  # set even when nothing changed: it records when we last looked
        for row in existing.values():
            row.active = False
            row.updated_at = now
    if existing:
        log.info("%s: %d markets no longer listed, marked inactive", source.id, len(existing))
    return len(markets)


class Ticks(NamedTuple):
    """A market's precision, for showing its prices and amounts (None: the market publishes none)."""

    price: Decimal | None = None
    amount: Decimal | None = None


def ticks(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Ticks]:
    """The ticks of each (exchange, symbol) in one query; a pair with no stored market gets Ticks()."""
    wanted = set(pairs)
    out = dict.fromkeys(wanted, Ticks())
    if wanted:
        rows = session.execute(
            select(Market.exchange, Market.symbol, Market.price_tick, Market.amount_tick).where(
                Market.exchange.in_({e for e, _ in wanted}), Market.symbol.in_({s for _, s in wanted})
            )
        )
        for exchange, symbol, price, amount in rows:
            if (exchange, symbol) in wanted:
                out[exchange, symbol] = Ticks(price, amount)
    return out


# Built once (docs/benchmarks.md, "statements built once"): a statement built per call pays for
# its construction and cache key every time, about half of a small query's CPU.
_MARKET = select(Market).where(Market.exchange == bindparam("exchange"), Market.symbol == bindparam("symbol"))


def get_market(session: Session, exchange: str, symbol: str) -> MarketInfo | None:
    row = session.scalar(_MARKET, {"exchange": exchange, "symbol": symbol})
    return None if row is None else to_info(row)


def list_markets(
    session: Session, exchange: str, search: str | None = None, active_only: bool = True, limit: int = 50
) -> list[MarketInfo]:
    """Markets of `exchange` whose symbol contains every word of `search` ("btc", "btc/usdt",
    "BTCUSDT" and "btc usdt" all find BTC/USDT); symbols starting with the first word come first,
    then shorter (plainer) symbols, then alphabetical."""
    query = select(Market).where(Market.exchange == exchange)
    if active_only:
        query = query.where(Market.active.is_(True))
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", search or "")]
    # Compare against the symbol without separators, so "btcusdt" matches "BTC/USDT".
    compact = func.lower(func.replace(func.replace(func.replace(Market.symbol, "/", ""), ":", ""), "-", ""))
    for word in words:
        query = query.where(compact.contains(word, autoescape=True))
    order = [func.length(Market.symbol), Market.symbol]
    if words:
        order.insert(0, case((compact.startswith(words[0], autoescape=True), 0), else_=1))
    rows = session.scalars(query.order_by(*order).limit(limit))
    return [to_info(row) for row in rows]


def to_info(row: Market) -> MarketInfo:
    values = {name: getattr(row, name) for name in _COLUMNS}
    return MarketInfo(exchange=row.exchange, symbol=row.symbol, **values)


def _fits(info: MarketInfo) -> bool:
    too_long = [name for name, size in _MAX_LENGTHS.items() if len(getattr(info, name)) > size]
    if too_long:
        log.warning("%s %s skipped: %s too long for the markets table", info.exchange, info.symbol, ", ".join(too_long))
    return not too_long
