"""Alpaca through ccxt's `alpaca` class: its paper endpoint, US stocks among the markets, and market hours.

What ccxt 4.5.90 gives and what is added here, each driven by the alpaca row of the quirks table:

- Endpoint: `sandbox_by_default` puts the client on ccxt's `urls['test']` (paper-api.alpaca.markets).
- Markets: ccxt's `fetch_markets` asks `GET /v2/assets?asset_class=crypto` only. The same endpoint lists
  US stocks with `asset_class=us_equity`, and ccxt's own `parse_market` maps those (AAPL -> AAPL/USD,
  market id AAPL), so `configure_client` asks once per class in `asset_classes`. A stock's asset has no
  increments (crypto assets carry `min_trade_increment`), so its amount tick comes from `fractionable`:
  1 share when false, else 1e-9 (Alpaca takes quantities to 9 decimal places); prices tick in cents.
- Market hours: orders on an asset class in `market_hours_classes` (stocks; crypto trades around the
  clock) are posted only while `GET /v2/clock` says the market is open. While closed, `MarketClock`
  raises `MarketClosed` (engine.exchanges.venue: a VenueUnavailable, retryable) before anything is
  sent, so the engine holds the intent and sends it, with the same client order id, once the market
  has opened (engine.blocks.market_hours).
- Time in force: ccxt defaults to gtc; Alpaca takes fractional stock orders only as day orders.

ccxt's unified market data (fetch_ticker, fetch_ohlcv) reads Alpaca's crypto endpoints only, so
`stock_ticker` reads a stock's last trade from `GET /v2/stocks/snapshots` (ccxt's implicit method, a
private one: Alpaca's stock data wants the account's keys, so a live account's prices come from a
source holding its credentials, `keyed_market_data` in the quirks row, engine.exchanges.venues.feed_for).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ccxt

from engine.exchanges.base import Ticker
from engine.exchanges.quirks import quirks_of
from engine.exchanges.venue import MarketClosed

# Alpaca: fractional quantities to 9 decimal places; stock prices of $1 and more in whole cents.
FRACTION_TICK = 1e-9
CENT = 0.01
# The clock is asked again after this long at most, and at once when next_open / next_close passes.
CLOCK_MAX_AGE_MS = 60_000


def configure_client(client: ccxt.Exchange) -> ccxt.Exchange:
    """Apply the exchange's quirks row to a fresh ccxt client: the paper endpoint, every asset class."""
    quirks = quirks_of(client.id)
    if quirks.sandbox_by_default:
        client.set_sandbox_mode(True)
    if quirks.asset_classes:
        ccxt_fetch_markets = client.fetch_markets

        def fetch_markets(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            markets: list[dict[str, Any]] = []
            for asset_class in quirks.asset_classes:
                found = ccxt_fetch_markets({**(params or {}), "asset_class": asset_class})
                markets += [with_stock_precision(m) for m in found if m]
            return markets

        client.fetch_markets = fetch_markets  # ccxt's load_markets calls self.fetch_markets
    return client


def with_stock_precision(market: dict[str, Any]) -> dict[str, Any]:
    """A stock market with the amount tick its asset allows (1 share unless `fractionable`) and a cent
    price tick; crypto markets (which carry their own increments) unchanged."""
    info = market.get("info") or {}
    if info.get("class") != "us_equity":
        return market
    fractional = bool(info.get("fractionable"))
    tick = FRACTION_TICK if fractional else 1
    precision = {**(market.get("precision") or {})}
    precision["amount"] = precision.get("amount") or tick
    precision["price"] = precision.get("price") or CENT
    limits = {**(market.get("limits") or {})}
    amount = {**(limits.get("amount") or {})}
    amount["min"] = amount.get("min") or tick
    limits["amount"] = amount
    return {**market, "precision": precision, "limits": limits}


def is_stock_fraction(market: dict[str, Any], amount: str) -> bool:
    return (market.get("info") or {}).get("class") == "us_equity" and Decimal(amount) % 1 != 0


class MarketClock:
    """The venue's market clock (GET /v2/clock), cached until it can change: at most CLOCK_MAX_AGE_MS,
    and never past the next open or close it announced."""

    def __init__(self, client: ccxt.Exchange, call: Callable[[Callable[[], Any]], Any], now_ms: Callable[[], int]):
        """`call(fn)` runs a ccxt call with the venue's retries and error mapping."""
        self.client, self.call, self.now_ms = client, call, now_ms
        self.classes = quirks_of(client.id).market_hours_classes
        self._state: tuple[bool, int | None, int | None] | None = None
        self._valid_until = 0

    def before_post(self, market: dict[str, Any], args: tuple[Any, ...]) -> None:
        """Raise MarketClosed when `market` trades in hours and the market is closed; otherwise adjust
        ccxt create_order's params (`args[5]`) to the venue: fractional stock orders are day orders."""
        if (market.get("info") or {}).get("class") not in self.classes:
            return
        is_open, next_open, _ = self.state()
        if not is_open:
            opens = _iso(next_open) if next_open is not None else "an unknown time"
            raise MarketClosed(
                f"{self.client.id} create_order {market.get('symbol')}: the market is closed; "
                f"the market opens at {opens}, the order is sent then",
                next_open,
            )
        if is_stock_fraction(market, str(args[3])):
            args[5]["timeInForce"] = "day"

    def closed(self, market: dict[str, Any]) -> bool:
        """Whether `market` trades in hours and its market is closed now."""
        return (market.get("info") or {}).get("class") in self.classes and not self.state()[0]

    def state(self) -> tuple[bool, int | None, int | None]:
        """(is_open, next_open ms, next_close ms), from the cache while it cannot have changed."""
        now = self.now_ms()
        if self._state is None or now >= self._valid_until:
            raw = self.call(self.client.traderPrivateGetV2Clock)
            state = (
                bool(raw.get("is_open")),
                self.client.parse8601(raw.get("next_open")),
                self.client.parse8601(raw.get("next_close")),
            )
            change = state[2] if state[0] else state[1]
            self._state = state
            self._valid_until = min(now + CLOCK_MAX_AGE_MS, change if change is not None else now)
        return self._state


def stock_ticker(client: ccxt.Exchange, market: dict[str, Any], now_ms: int) -> Ticker | None:
    """A stock's last trade and quote from GET /v2/stocks/snapshots; None for any other market."""
    if (market.get("info") or {}).get("class") != "us_equity":
        return None
    snapshot = (client.marketPrivateGetV2StocksSnapshots({"symbols": market["id"]}) or {}).get(market["id"]) or {}
    trade, quote = snapshot.get("latestTrade") or {}, snapshot.get("latestQuote") or {}
    if trade.get("p") is None:
        return None
    return Ticker(
        symbol=market["symbol"],
        ts=client.parse8601(trade.get("t")) or now_ms,
        last=float(trade["p"]),
        bid=float(quote["bp"]) if quote.get("bp") else None,
        ask=float(quote["ap"]) if quote.get("ap") else None,
    )


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
