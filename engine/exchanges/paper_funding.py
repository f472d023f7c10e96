"""The paper exchange's funding of perpetuals (`PaperExchange.fetch_funding_history`), simulated at
a fixed rate: every 8 hours (00:00, 08:00 and 16:00 UTC) a position in a perpetual ('BTC/USDT:USDT';
a dated future, 'BTC/USDT:USDT-250328', pays none) pays FUNDING_RATE of its notional when long and
receives it when short, as a positive funding rate has longs pay shorts on every real venue.

The position at an instant is the account's net amount from its own fills up to and including it;
its notional is valued at the feed's 1-minute candle opening at the instant, or, with no such
candle (a gap in the feed), at the last fill price before it. A payment's id is the symbol and the
instant, so asking twice returns the same payments. The history is computed, not stored: the paper
balances are not debited by it (the engine books it in the P&L, engine.portfolio.funding).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import PaperFill
from engine.common.precision import to_decimal, wide_context
from engine.common.symbols import SymbolError, parse_symbol
from engine.exchanges.paper_path import PriceFeed
from engine.exchanges.venue import FundingPayment

FUNDING_RATE = Decimal("0.0001")  # 0.01% per 8 hours: the baseline rate of Binance's USDT perpetuals
FUNDING_EVERY_MS = 8 * 3_600_000  # from 00:00 UTC: 00:00, 08:00, 16:00
ZERO = Decimal(0)

Move = tuple[int, Decimal, Decimal]  # (fill ts, signed amount: buy > 0, sell < 0, price)


def is_perpetual(symbol: str) -> bool:
    """A swap: a settle currency and no expiry."""
    try:
        settle = parse_symbol(symbol).settle
    except SymbolError:
        return False
    return settle is not None and "-" not in symbol.partition(":")[2]


def moves(session: Session, account_id: int, symbol: str | None) -> dict[str, list[Move]]:
    """The account's perpetual fills per symbol, oldest first, as signed position changes."""
    query = select(PaperFill.symbol, PaperFill.ts, PaperFill.side, PaperFill.amount, PaperFill.price).where(
        PaperFill.account_id == account_id
    )
    if symbol is not None:
        query = query.where(PaperFill.symbol == symbol)
    out: dict[str, list[Move]] = {}
    for sym, ts, side, amount, price in session.execute(query.order_by(PaperFill.ts, PaperFill.id)):
        if is_perpetual(sym):
            change = to_decimal(amount) if side == "buy" else -to_decimal(amount)
            out.setdefault(sym, []).append((int(ts), change, to_decimal(price)))
    return out


def payments(
    fills: dict[str, list[Move]], since: int | None, now: int, price_at: Callable[[str, int], Decimal | None]
) -> list[FundingPayment]:
    """Every funding instant from `since` (else each symbol's first fill) to `now` at which a
    position was held, oldest first; `price_at(symbol, instant)` values it (None: the last fill's)."""
    out = []
    for symbol, changes in fills.items():
        start = since if since is not None else changes[0][0]
        instant = -(-start // FUNDING_EVERY_MS) * FUNDING_EVERY_MS  # the first at or after `start`
        settle = parse_symbol(symbol).settle or ""
        while instant <= now:
            held = [(c, p) for ts, c, p in changes if ts <= instant]
            with wide_context():
                position = sum((c for c, _ in held), ZERO)
            if position and held:
                price = price_at(symbol, instant)
                price = price if price is not None else held[-1][1]
                with wide_context():
                    amount = -position * price * FUNDING_RATE  # long (> 0) pays, short receives
                out.append(FundingPayment(f"{symbol}@{instant}", symbol, amount, settle, instant))
            instant += FUNDING_EVERY_MS
    return sorted(out, key=lambda p: (p.ts, p.symbol))


def feed_price(feed: PriceFeed) -> Callable[[str, int], Decimal | None]:
    """The open of the feed's 1-minute candle at an instant; None when the feed has none there."""

    def price_at(symbol: str, instant: int) -> Decimal | None:
        try:
            rows = feed.fetch_ohlcv(symbol, "1m", instant, 1)
        except Exception:  # the feed is any object: no candle means "value it at the last fill"
            return None
        return to_decimal(rows[0][1]) if rows and int(rows[0][0]) == instant else None

    return price_at
