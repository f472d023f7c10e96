"""The small interface the engine needs from an exchange, and the plain data it returns.

Implementations: `ccxt_adapter.CcxtExchange` (any real venue through ccxt) and
`demo.DemoExchange` (deterministic synthetic market, no network).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

# One candle as ccxt returns it: [open time ms, open, high, low, close, volume].
OHLCV = list[float]


@dataclass(frozen=True)
class MarketInfo:
    """What the engine needs to know about one market; precision is given as tick sizes."""

    exchange: str
    symbol: str
    base: str
    quote: str
    type: str  # spot, margin, swap, future, option
    active: bool
    can_short: bool
    price_tick: Decimal | None = None
    amount_tick: Decimal | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_cost: Decimal | None = None
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    max_leverage: int | None = None  # derivatives: the highest leverage the venue allows (None: unknown)


@dataclass(frozen=True)
class Ticker:
    symbol: str
    ts: int
    last: float
    bid: float | None = None
    ask: float | None = None


class ExchangeError(Exception):
    """A failure the engine surfaces to the user (after retries, where retrying makes sense)."""


class MarketDataSource(Protocol):
    """Public market data: all the candle engine uses."""

    id: str

    def load_markets(self) -> list[MarketInfo]: ...

    def timeframes(self) -> tuple[str, ...]: ...

    def ohlcv_page_limit(self, symbol: str, timeframe: str) -> int:
        """Most candles one fetch_ohlcv call returns."""
        ...

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list[OHLCV]:
        """Candles with open time >= since (oldest first), at most `limit` of them; may include
        the candle still forming."""
        ...

    def fetch_ticker(self, symbol: str) -> Ticker: ...

    def milliseconds(self) -> int:
        """The exchange's idea of now, in ms (the demo feed's clock can be set in tests)."""
        ...
