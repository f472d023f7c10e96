"""Helpers of the conditional blocks' tests: the block a condition places (raw fields, as the form
and the API send them), a watched SOL/USDT 1m series stored from the test's price path (a
SeriesFeed: a PathFeed that serves timeframes), and one-minute bars that are stored at once (the
scheduler's fetch, run here)."""

from __future__ import annotations

from typing import Any

from db.models import Series
from engine.market import api as market
from engine.runtime import Runtime
from tests.helpers.trading import PathFeed

# A market long on the demo SOL/USDT (priced by the test's PathFeed near 100): 1 SOL, stop 95.
MARKET_BLOCK: dict[str, Any] = {
    "symbol": "SOL/USDT",
    "side": "long",
    "entry_type": "market",
    "stop_price": "95",
    "target_prices": ["110"],
    "target_shares": [None],
    "size_mode": "base",
    "size_value": "1",
}
# A limit long at 100 with two targets (the fault harness's block).
LIMIT_BLOCK: dict[str, Any] = {
    **MARKET_BLOCK,
    "entry_type": "limit",
    "entry_price": "100",
    "target_prices": ["105", "110"],
    "target_shares": [None, None],
}


class SeriesFeed(PathFeed):
    """The scripted price path as a market-data source a series can be watched on."""

    def timeframes(self) -> list[str]:
        return ["1m", "5m", "15m", "1h"]

    def ohlcv_page_limit(self, _symbol: str, _timeframe: str) -> int:
        return 1000


def watch_sol(runtime: Runtime, user_id: int) -> Series:
    """SOL/USDT 1m on the user's watchlist, with what the feed has so far stored."""
    series = market.watch(runtime, user_id, "demo", "SOL/USDT", "1m")
    market.backfill_recent(runtime, series)
    return series


def bars(runtime: Runtime, feed: PathFeed, *closes: str) -> None:
    """One flat bar per close, each stored as the scheduler's fetch would."""
    for close in closes:
        feed.flat(close)
        market.fetch_due(runtime)
