"""The exchanges package's public surface: market-data sources (the demo feed, any ccxt exchange),
the trading venue of an account (the paper exchange or a ccxt venue), the push watchers of live
accounts (ccxt.pro order streams) and the ticker streams of the targets the engine takes itself,
and the plain data and
errors they speak in. Other packages, pages, the CLI and benches import this module only."""

from engine.exchanges.base import OHLCV, ExchangeError, MarketDataSource, MarketInfo, Ticker
from engine.exchanges.demo import DemoExchange
from engine.exchanges.paper import PaperExchange
from engine.exchanges.protection import protection_mode
from engine.exchanges.push import PUSH_OVERRIDES, Backoff, PushHub, pushes
from engine.exchanges.push_accounts import refresh_push, start_push, stop_push
from engine.exchanges.push_tickers import TICKER_OVERRIDES, TickerHub, WatchedTarget, crossed, streams_tickers
from engine.exchanges.quirks import DERIVATIVES, Quirks, quirks_of
from engine.exchanges.replay_feed import ReplayFeed
from engine.exchanges.sources import source
from engine.exchanges.ticker_accounts import pushed_price, start_tickers, tickers_changed, watchlist
from engine.exchanges.venue import (
    Balance,
    FundingPayment,
    FundingVenue,
    InsufficientFunds,
    InvalidOrder,
    MarketClosed,
    OcoLegs,
    OcoRequest,
    OcoVenue,
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
from engine.exchanges.venues import (
    VenueNotReadyError,
    account_venue,
    drop_feed,
    engine_clock,
    feed_for,
    install_feed,
    install_venue,
    live_venue,
    venue_for,
)

__all__ = [
    "DERIVATIVES",
    "OHLCV",
    "PUSH_OVERRIDES",
    "TICKER_OVERRIDES",
    "Backoff",
    "Balance",
    "DemoExchange",
    "ExchangeError",
    "FundingPayment",
    "FundingVenue",
    "InsufficientFunds",
    "InvalidOrder",
    "MarketClosed",
    "MarketDataSource",
    "MarketInfo",
    "OcoLegs",
    "OcoRequest",
    "OcoVenue",
    "OrderNotFound",
    "OrderRequest",
    "OrderSide",
    "PaperExchange",
    "PushHub",
    "Quirks",
    "ReplayFeed",
    "Ticker",
    "TickerHub",
    "TradingVenue",
    "VenueCapabilities",
    "VenueError",
    "VenueNotReadyError",
    "VenueOrder",
    "VenueStatus",
    "VenueTrade",
    "VenueUnavailable",
    "WatchedTarget",
    "account_venue",
    "crossed",
    "drop_feed",
    "engine_clock",
    "feed_for",
    "install_feed",
    "install_venue",
    "live_venue",
    "protection_mode",
    "pushed_price",
    "pushes",
    "quirks_of",
    "refresh_push",
    "source",
    "start_push",
    "start_tickers",
    "stop_push",
    "streams_tickers",
    "tickers_changed",
    "venue_for",
    "watchlist",
]
