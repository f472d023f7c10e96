"""The replay clock: a run's feed and venue loaded, time moved to a bar's close, and the engine run
there, exactly as the live sync tick runs (engine.blocks.api.sync_account).

Moving the clock to `now` first lets the paper exchange play each symbol's bar that has just
closed, then syncs the account: fills are recorded, the bracket rules act, new orders are placed
at `now`. A backtest need not stop at every bar: `next_event` finds the first bar on which a
resting order of the account can fill (its high or low reaches a trigger), or a time rule fires,
and the bars before it are skipped, since nothing can happen on them. That is what makes a year of
1m bars a few hundred engine ticks instead of 525,600.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from db.enums import OrderType
from db.models import ExchangeAccount, ReplayRun
from engine.blocks.api import next_deadline, sync_account
from engine.exchanges.api import (
    PaperExchange,
    ReplayFeed,
    VenueOrder,
    drop_feed,
    install_feed,
)
from engine.market.api import stored_candles
from engine.runtime import Runtime

CHUNK = 8_192  # bars scanned per numpy pass when looking for the next fill


@dataclass
class Loaded:
    """A run ready to play: its feed (prices and clock) and its paper venue."""

    run_id: int
    user_id: int
    account_id: int
    feed: ReplayFeed
    venue: PaperExchange
    played_bar: dict[str, int] = field(default_factory=dict)  # symbol -> bars played, this process

    @property
    def now(self) -> int:
        return self.feed.now

    def first_open_at_or_after(self, ms: int) -> int | None:
        """The open time of the first bar of any symbol opening at or after `ms`."""
        opens = self.feed.opens.values()
        found = [int(ts[i]) for ts in opens if (i := int(np.searchsorted(ts, ms, side="left"))) < len(ts)]
        return min(found) if found else None

    def bars(self) -> int:
        """Bars in the run (of its longest series)."""
        return max(len(rows) for rows in self.feed.candles.values())

    def played(self) -> int:
        """Bars of the longest series closed by now: the run's progress."""
        return max(self.feed.closed_count(symbol) for symbol in self.feed.candles)


def load(runtime: Runtime, run: ReplayRun, candles: dict[str, np.ndarray] | None = None) -> Loaded:
    """The run's feed and venue, built from `candles` or the stored candles on first use (after a
    restart too)."""
    feed = runtime.replay_feeds.get(run.account_id)
    venue = runtime.trading.venues.get((run.account_id, None))
    if feed is None or venue is None:
        feed, venue = _build(runtime, run, candles)
        install_feed(runtime, run.account_id, feed, venue)
    # The stored clock is the truth: another process (a web worker, a background job) may have
    # played the run on since this one cached its feed. The venue keeps nothing but the store.
    feed.now = run.cursor_ms
    return Loaded(run.id, run.user_id, run.account_id, feed, venue)


def unload(runtime: Runtime, account_id: int) -> None:
    drop_feed(runtime, account_id)


def _build(runtime: Runtime, run: ReplayRun, candles: dict[str, np.ndarray] | None) -> tuple[ReplayFeed, PaperExchange]:
    if candles is None:
        candles = {
            symbol: stored_candles(runtime, run.exchange, symbol, run.timeframe, run.start_ms, run.end_ms)
            for symbol in run.symbols.split(",")
        }
    feed = ReplayFeed(run.exchange, run.timeframe, candles, now=run.cursor_ms)
    with runtime.sessions() as s:
        account = s.get(ExchangeAccount, run.account_id)
        assert account is not None  # the run's row holds it (ON DELETE CASCADE)
        paper_id = account.paper_account_id
    if paper_id is None:
        raise LookupError(f"run {run.id} has no paper account")
    venue = PaperExchange(
        runtime.sessions,
        paper_id,
        feed,
        slippage_bps=run.slippage_bps,
        limit_requires_trade_through=run.trade_through,
        timeframe=run.timeframe,
        exits_rest_together=True,  # targets rest as reduce-only limits: booked at their price, by the fill rules
    )
    return feed, venue


def advance(runtime: Runtime, loaded: Loaded, now: int) -> None:
    """Move the clock to `now` (a bar close), play each symbol's bar closed by then, run the engine.
    Bars skipped on the way must be bars on which nothing could fill (see `next_event`)."""
    loaded.feed.now = now
    for symbol, rows in loaded.feed.candles.items():
        closed = loaded.feed.closed_count(symbol)
        if closed and loaded.played_bar.get(symbol) != closed:  # a bar once played is skipped anyway
            loaded.venue.process_candles(symbol, [rows[closed - 1].tolist()])
            loaded.played_bar[symbol] = closed
    sync_account(runtime, loaded.account_id, now_ms=now)


def next_close(loaded: Loaded) -> int | None:
    """The close of the next bar (of any symbol): where one step of a replay goes."""
    opens = loaded.first_open_at_or_after(loaded.now)
    return None if opens is None else opens + loaded.feed.step


def next_event(runtime: Runtime, loaded: Loaded) -> int | None:
    """The first bar close after now at which the engine has something to do: a resting order's
    trigger reached, or a block's time rule due. None when nothing will ever happen."""
    now, step = loaded.now, loaded.feed.step
    moments: list[int] = []
    by_symbol: dict[str, list[VenueOrder]] = {}
    for order in loaded.venue.fetch_open_orders():
        by_symbol.setdefault(order.symbol, []).append(order)
    for symbol, orders in by_symbol.items():
        hit = _first_trigger(loaded.feed.candles[symbol], now, orders)
        if hit is not None:
            moments.append(hit + step)
    deadline = next_deadline(runtime, loaded.account_id, now)
    if deadline is not None:
        opens = loaded.first_open_at_or_after(deadline - step)
        if opens is not None:
            moments.append(opens + step)
    return min(moments) if moments else None


def _first_trigger(rows: np.ndarray, now: int, orders: list[VenueOrder]) -> int | None:
    """Open time of the first bar opening at or after `now` whose range reaches one of `orders`."""
    up, down, market = np.inf, -np.inf, False
    for o in orders:
        if o.type == OrderType.MARKET:
            market = True
        elif o.type == OrderType.LIMIT and o.price is not None:
            if o.side == "buy":
                down = max(down, float(o.price))
            else:
                up = min(up, float(o.price))
        elif o.stop_price is not None:
            if o.side == "buy":
                up = min(up, float(o.stop_price))
            else:
                down = max(down, float(o.stop_price))
    ts = rows[:, 0]
    start = int(np.searchsorted(ts, now, side="left"))
    if market:
        return int(ts[start]) if start < len(ts) else None
    # >= and <= for every kind: a touch that a trade-through limit ignores costs an idle tick, never a fill.
    for lo in range(start, len(ts), CHUNK):
        part = rows[lo : lo + CHUNK]
        hits = np.flatnonzero((part[:, 2] >= up) | (part[:, 3] <= down))
        if hits.size:
            return int(part[hits[0], 0])
    return None
