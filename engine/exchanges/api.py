"""The exchanges package's public surface: market-data sources (the demo feed, any ccxt exchange),
the trading venue of an account (the paper exchange or a ccxt venue), and the plain data and
errors they speak in. Other packages, pages, the CLI and benches import this module only."""

from engine.exchanges.base import OHLCV, ExchangeError, MarketDataSource, MarketInfo, Ticker
from engine.exchanges.demo import DemoExchange
from engine.exchanges.paper import PaperExchange
from engine.exchanges.protection import protection_mode
from engine.exchanges.quirks import DERIVATIVES, Quirks, quirks_of
from engine.exchanges.sources import source
from engine.exchanges.venue import (
    Balance,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    TradingVenue,
    VenueCapabilities,
    VenueError,
    VenueOrder,
    VenueStatus,
    VenueTrade,
    VenueUnavailable,
)
from engine.exchanges.venues import VenueNotReadyError, engine_clock, install_venue, live_venue, venue_for

__all__ = [
    "DERIVATIVES",
    "OHLCV",
    "Balance",
    "DemoExchange",
    "ExchangeError",
    "InsufficientFunds",
    "InvalidOrder",
    "MarketDataSource",
    "MarketInfo",
    "OrderNotFound",
    "OrderRequest",
    "OrderSide",
    "PaperExchange",
    "Quirks",
    "Ticker",
    "TradingVenue",
    "VenueCapabilities",
    "VenueError",
    "VenueNotReadyError",
    "VenueOrder",
    "VenueStatus",
    "VenueTrade",
    "VenueUnavailable",
    "engine_clock",
    "install_venue",
    "live_venue",
    "protection_mode",
    "quirks_of",
    "source",
    "venue_for",
]
