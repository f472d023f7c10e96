"""The price feed of a replay account: stored candles played on a clock the replay moves.

A `ReplayFeed` holds one array of candles per symbol (the run's timeframe, oldest first) and a
clock, `now`. At `now` the bars that opened before it and closed by it are history; the bar that
opens at `now` has only just started, so the last price is its open (a market order placed at a
bar's close fills at the next bar's open, docs/fill-rules.md); after the last bar it is the last
close. Nothing after `now` is ever returned: the replay cannot see the future.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.common.timeframes import tf_ms
from engine.exchanges.base import OHLCV, ExchangeError, MarketInfo, Ticker


@dataclass
class ReplayFeed:
    """Candles per symbol as (n, 6) float arrays [ts, open, high, low, close, volume]."""

    id: str  # the exchange the candles came from
    timeframe: str
    candles: dict[str, np.ndarray]
    now: int
    markets: list[MarketInfo] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.step = tf_ms(self.timeframe)
        # The bars' open times as ints, made once: every step and event searches them.
        self.opens = {symbol: rows[:, 0].astype(np.int64) for symbol, rows in self.candles.items()}

    def load_markets(self) -> list[MarketInfo]:
        return list(self.markets)

    def timeframes(self) -> tuple[str, ...]:
        return (self.timeframe,)

    def ohlcv_page_limit(self, symbol: str, timeframe: str) -> int:
        return 100_000

    def milliseconds(self) -> int:
        return self.now

    def closed_count(self, symbol: str) -> int:
        """How many bars of `symbol` have closed by now."""
        return int(np.searchsorted(self.opens[self._known(symbol)], self.now - self.step, side="right"))

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list[OHLCV]:
        """The run's bars from `since` that have closed by now (any timeframe asked for is the run's:
        a replay account trades on its run's bars)."""
        ts = self.opens[self._known(symbol)]
        lo = 0 if since is None else int(np.searchsorted(ts, since, side="left"))
        hi = self.closed_count(symbol)
        if limit is not None:
            hi = min(hi, lo + limit)
        return self.candles[symbol][lo:hi].tolist() if hi > lo else []

    def fetch_ticker(self, symbol: str) -> Ticker:
        rows, ts = self.candles[self._known(symbol)], self.opens[symbol]
        at = int(np.searchsorted(ts, self.now, side="left"))
        if at < len(ts) and ts[at] == self.now:
            last = float(rows[at, 1])  # the bar opening now: its open is the price
        elif at > 0 and ts[at - 1] + self.step <= self.now:
            last = float(rows[at - 1, 4])  # between bars (a hole) or after the last one
        elif at > 0:
            last = float(rows[at - 1, 1])  # inside a bar: nothing of it is known but its open
        else:
            raise ExchangeError(f"replay of {symbol} has no price before its first bar")
        return Ticker(symbol=symbol, ts=self.now, last=last, bid=last, ask=last)

    def _known(self, symbol: str) -> str:
        if symbol not in self.candles:
            raise ExchangeError(f"this replay plays {', '.join(self.candles)}, not {symbol}")
        return symbol
