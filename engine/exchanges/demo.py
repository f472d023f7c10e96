"""The built-in demo exchange: a deterministic synthetic market, no network, the default feed.

Three USDT spot markets and a BTC perpetual, with history from 2024-01-01 00:00 UTC up to the
clock's "now". Every timeframe of the pyramid is aggregated exactly from the one-minute path
(engine.exchanges.demo_prices); the candle containing "now" is the forming one, built from the
minutes up to now. A fixed outage (DEMO_OUTAGES) has no candles, so gap handling meets the
"exchange has no data here" case.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from engine.common.symbols import split_symbol
from engine.common.timeframes import MINUTE_MS, PYRAMID, bucket_offset, floor_ts, tf_ms
from engine.exchanges.base import OHLCV, ExchangeError, MarketInfo, Ticker
from engine.exchanges.demo_prices import ANCHOR_MS, DAY_MS, MINUTES, TREND_SPREAD, PricePath, Underlying

DEMO_ID = "demo"
PAGE_LIMIT = 1_000
HOUR_MS = 60 * MINUTE_MS
_BATCH_DAYS = 64


def _utc_ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


# [start, end) intervals in which the demo exchange has no candles at all, for every market.
DEMO_OUTAGES: tuple[tuple[int, int], ...] = ((_utc_ms(2024, 3, 10, 2), _utc_ms(2024, 3, 10, 5)),)

_BTC = Underlying(key=1, start_price=42_000.0, daily_vol=0.022, volume_per_min=12.0)
_ETH = Underlying(key=2, start_price=2_300.0, daily_vol=0.028, volume_per_min=180.0)
_SOL = Underlying(key=3, start_price=100.0, daily_vol=0.04, volume_per_min=2_500.0)
_FEE = Decimal("0.001")
DEMO_MAX_LEVERAGE = 100  # the demo perpetual, like a large venue's BTC perpetual (125x on Binance)


@dataclass(frozen=True)
class _Listing:
    """A market and the synthetic asset behind it (a perpetual trades at a premium to spot)."""

    market: MarketInfo
    underlying: Underlying
    premium: float = 0.0  # mean perpetual premium over spot; it widens in up-trends
    volume_scale: float = 1.0

    @property
    def price_decimals(self) -> int:
        return -int(self.market.price_tick.as_tuple().exponent)  # type: ignore[union-attr]

    @property
    def volume_decimals(self) -> int:
        return -int(self.market.amount_tick.as_tuple().exponent)  # type: ignore[union-attr]


def _market(symbol: str, kind: str, price_tick: str, amount_tick: str, max_amount: str, min_cost: str) -> MarketInfo:
    base, quote = split_symbol(symbol)
    return MarketInfo(
        exchange=DEMO_ID,
        symbol=symbol,
        base=base,
        quote=quote,
        type=kind,
        active=True,
        can_short=kind == "swap",
        price_tick=Decimal(price_tick),
        amount_tick=Decimal(amount_tick),
        min_amount=Decimal(amount_tick),
        max_amount=Decimal(max_amount),
        min_price=Decimal(price_tick),
        max_price=Decimal("1000000"),
        min_cost=Decimal(min_cost),
        maker_fee=_FEE,
        taker_fee=_FEE,
        max_leverage=DEMO_MAX_LEVERAGE if kind == "swap" else None,
    )


_LISTINGS: dict[str, _Listing] = {
    listing.market.symbol: listing
    for listing in (
        _Listing(_market("BTC/USDT", "spot", "0.01", "0.00001", "9000", "5"), _BTC),
        _Listing(_market("ETH/USDT", "spot", "0.01", "0.0001", "100000", "5"), _ETH),
        _Listing(_market("SOL/USDT", "spot", "0.01", "0.001", "1000000", "5"), _SOL),
        _Listing(_market("BTC/USDT:USDT", "swap", "0.1", "0.001", "1000", "100"), _BTC, 0.0003, 2.5),
    )
}


def aggregate(rows: np.ndarray, timeframe: str) -> np.ndarray:
    """Roll consecutive (ts, o, h, l, c, v) rows (oldest first, gaps allowed) up into `timeframe`
    buckets: open of the first, highest high, lowest low, close of the last, summed volume."""
    if len(rows) == 0:
        return rows
    step, offset = tf_ms(timeframe), bucket_offset(timeframe)
    bucket = (rows[:, 0].astype(np.int64) - offset) // step * step + offset
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(rows)] - 1
    out = np.empty((len(starts), 6))
    out[:, 0] = bucket[starts]
    out[:, 1] = rows[starts, 1]
    out[:, 2] = np.maximum.reduceat(rows[:, 2], starts)
    out[:, 3] = np.minimum.reduceat(rows[:, 3], starts)
    out[:, 4] = rows[ends, 4]
    out[:, 5] = np.add.reduceat(rows[:, 5], starts)
    return out


def _ceil(ts: int, timeframe: str) -> int:
    start = floor_ts(ts, timeframe)
    return start if start == ts else start + tf_ms(timeframe)


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class DemoExchange:
    """The demo market data source (see the module docstring). Safe to share between threads."""

    id = DEMO_ID
    _DAY_CACHE_SIZE = 512  # days of one-minute bars kept (about 29 MB)

    def __init__(self, seed: int = 42, clock: Callable[[], int] | None = None) -> None:
        self.seed = seed
        self._clock = clock or _wall_clock_ms
        self._paths = {u.key: PricePath(seed, u) for u in (_BTC, _ETH, _SOL)}
        self._days: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._hours: dict[tuple[str, int], np.ndarray] = {}
        self._lock = threading.RLock()

    # --- the MarketDataSource protocol ---

    def load_markets(self) -> list[MarketInfo]:
        return [listing.market for listing in _LISTINGS.values()]

    def timeframes(self) -> tuple[str, ...]:
        return PYRAMID

    def ohlcv_page_limit(self, symbol: str, timeframe: str) -> int:
        return PAGE_LIMIT

    def milliseconds(self) -> int:
        return int(self._clock())

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list[OHLCV]:
        """Like an exchange: from `since` (or the most recent ones), at most `limit` (<= 1000)
        candles, skipping periods without data so a page stays full when more candles exist."""
        listing, step = self._listing(symbol), self._step(timeframe)
        limit = PAGE_LIMIT if limit is None else min(limit, PAGE_LIMIT)
        now = self.milliseconds()
        first, stop = ANCHOR_MS, floor_ts(now, timeframe) + step  # stop: just after the forming candle
        if limit <= 0 or stop <= first:
            return []
        if since is None:
            rows = self._newest(listing, timeframe, first, stop, limit)
        else:
            rows = self._oldest(listing, timeframe, max(first, _ceil(since, timeframe)), stop, limit)
        return _as_lists(rows)

    def fetch_ticker(self, symbol: str) -> Ticker:
        listing, now = self._listing(symbol), self.milliseconds()
        if now < ANCHOR_MS:
            raise ExchangeError(f"demo has no prices before {datetime.fromtimestamp(ANCHOR_MS / 1000, UTC):%Y-%m-%d}")
        minute = floor_ts(now, "1m")
        row = self._minutes(listing, minute, minute + MINUTE_MS, now, keep_outages=True)[-1]
        tick = float(listing.market.price_tick)  # type: ignore[arg-type]
        last = float(row[4])
        return Ticker(symbol=symbol, ts=now, last=last, bid=last, ask=round(last + tick, listing.price_decimals))

    # --- bulk access (tests, benchmarks) ---

    def candles(self, symbol: str, timeframe: str, start: int, end: int) -> np.ndarray:
        """Every candle with start <= open time < end as an (n, 6) float array, no page limit;
        the candle containing now is partial and nothing after it exists."""
        listing, step = self._listing(symbol), self._step(timeframe)
        now = self.milliseconds()
        lo = max(_ceil(start, timeframe), ANCHOR_MS)
        hi = min(_ceil(end, timeframe), floor_ts(now, timeframe) + step)
        if hi <= lo:
            return np.empty((0, 6))
        rows = self._minutes(listing, lo, hi, now) if step < HOUR_MS else self._hourly(listing, lo, hi, now)
        out = aggregate(rows, timeframe)
        out[:, 5] = np.round(out[:, 5], listing.volume_decimals)  # sums of rounded volumes gather float noise
        return out

    # --- internals ---

    def _listing(self, symbol: str) -> _Listing:
        try:
            return _LISTINGS[symbol]
        except KeyError:
            raise ExchangeError(f"demo has no market {symbol!r}; it lists {', '.join(_LISTINGS)}") from None

    @staticmethod
    def _step(timeframe: str) -> int:
        if timeframe not in PYRAMID:
            raise ExchangeError(f"demo has no {timeframe!r} candles; it serves {', '.join(PYRAMID)}")
        return tf_ms(timeframe)

    def _newest(self, listing: _Listing, timeframe: str, first: int, stop: int, limit: int) -> np.ndarray:
        step, lo, parts, count = tf_ms(timeframe), stop, [], 0
        while count < limit and lo > first:  # step back again when an outage thinned the window
            hi, lo = lo, max(first, lo - (limit - count) * step)
            part = self.candles(listing.market.symbol, timeframe, lo, hi)
            parts.insert(0, part)
            count += len(part)
        return np.concatenate(parts)[-limit:] if parts else np.empty((0, 6))

    def _oldest(self, listing: _Listing, timeframe: str, start: int, stop: int, limit: int) -> np.ndarray:
        step, hi, parts, count = tf_ms(timeframe), start, [], 0
        while count < limit and hi < stop:
            lo, hi = hi, min(stop, hi + (limit - count) * step)
            part = self.candles(listing.market.symbol, timeframe, lo, hi)
            parts.append(part)
            count += len(part)
        return np.concatenate(parts)[:limit] if parts else np.empty((0, 6))

    def _hourly(self, listing: _Listing, lo: int, hi: int, now: int) -> np.ndarray:
        """Hour rows for [lo, hi): closed days from a cache, the current day from its minutes."""
        symbol, parts = listing.market.symbol, []
        for day in range((lo - ANCHOR_MS) // DAY_MS, (hi - 1 - ANCHOR_MS) // DAY_MS + 1):
            day_start = ANCHOR_MS + day * DAY_MS
            if day_start + DAY_MS > now:
                parts.append(aggregate(self._minutes(listing, day_start, day_start + DAY_MS, now), "1h"))
                continue
            with self._lock:
                rows = self._hours.get((symbol, day))
                if rows is None:
                    self._prefetch(listing, day, (hi - 1 - ANCHOR_MS) // DAY_MS)
                    rows = aggregate(self._minutes(listing, day_start, day_start + DAY_MS, now), "1h")
                    self._hours[(symbol, day)] = rows
            parts.append(rows)
        rows = np.concatenate(parts)
        return rows[(rows[:, 0] >= lo) & (rows[:, 0] < hi)]

    def _prefetch(self, listing: _Listing, first: int, last: int) -> None:
        """Generate a batch of uncached days from `first` in one vectorised go (cold 1d/1w reads)."""
        days = [
            d
            for d in range(first, min(last, first + _BATCH_DAYS - 1) + 1)
            if (listing.market.symbol, d) not in self._days
        ]
        if len(days) > 1:
            self._day_bars(listing, days)

    def _minutes(self, listing: _Listing, lo: int, hi: int, now: int, keep_outages: bool = False) -> np.ndarray:
        """One-minute rows with lo <= ts < hi and ts <= now; the minute containing now is partial."""
        current = floor_ts(now, "1m")
        hi = min(hi, current + MINUTE_MS)
        if hi <= lo:
            return np.empty((0, 6))
        first_day, last_day = (lo - ANCHOR_MS) // DAY_MS, (hi - 1 - ANCHOR_MS) // DAY_MS
        bars = self._day_bars(listing, list(range(first_day, last_day + 1)))
        base = ANCHOR_MS + first_day * DAY_MS
        i0, i1 = (lo - base) // MINUTE_MS, (hi - base) // MINUTE_MS
        rows = np.empty((i1 - i0, 6))
        rows[:, 0] = base + np.arange(i0, i1) * MINUTE_MS
        rows[:, 1:] = bars[i0:i1]
        if rows[-1, 0] == current:
            rows[-1] = _partial(rows[-1], (now - current) / MINUTE_MS, listing)
        if not keep_outages:
            for start, end in DEMO_OUTAGES:
                rows = rows[(rows[:, 0] < start) | (rows[:, 0] >= end)]
        return rows

    def _day_bars(self, listing: _Listing, days: list[int]) -> np.ndarray:
        """Rounded one-minute bars (o, h, l, c, v) of consecutive `days`, 1,440 rows per day."""
        symbol = listing.market.symbol
        with self._lock:
            missing = [d for d in days if (symbol, d) not in self._days]
            path = self._paths[listing.underlying.key]
            for i in range(0, len(missing), _BATCH_DAYS):  # batches bound the memory of a long cold read
                batch = missing[i : i + _BATCH_DAYS]
                self._days.update(zip([(symbol, d) for d in batch], _listing_bars(listing, path, batch), strict=True))
            result = [self._days[(symbol, d)] for d in days]
            for day in days:
                self._days.move_to_end((symbol, day))
            while len(self._days) > max(self._DAY_CACHE_SIZE, len(days)):
                self._days.popitem(last=False)
        return np.concatenate(result)


def _listing_bars(listing: _Listing, path: PricePath, days: list[int]) -> list[np.ndarray]:
    """The listing's minute bars for `days`: the underlying's path at the listing's premium,
    rounded to its ticks, as one (1440, 5) array per day."""
    raw = path.minutes(np.asarray(days))
    o, h, l, c, v = raw.open, raw.high, raw.low, raw.close, raw.volume  # noqa: E741
    if listing.premium:
        o, h, l, c = _with_premium(listing, path, days, o, h, l, c)  # noqa: E741
    decimals, tick = listing.price_decimals, float(listing.market.price_tick)  # type: ignore[arg-type]
    o, h, l, c = (np.maximum(np.round(x, decimals), tick) for x in (o, h, l, c))  # noqa: E741
    # Rounding or the premium could leave a wick a hair inside the body; widen it to the body.
    h, l = np.maximum(h, np.maximum(o, c)), np.minimum(l, np.minimum(o, c))  # noqa: E741
    v = np.round(v * listing.volume_scale, listing.volume_decimals)
    bars = np.stack([o, h, l, c, v], axis=-1)
    return list(bars)


def _with_premium(listing: _Listing, path: PricePath, days: list[int], *prices: np.ndarray) -> tuple[np.ndarray, ...]:
    # The premium follows the trend (funding is dear in up-trends) and moves linearly through each
    # day, so a day's last close meets the next day's first open.
    params = path.days(min(days), max(days) + 1)
    spread = TREND_SPREAD * listing.underlying.daily_vol
    premium = listing.premium * (1 + params.trend / spread)
    pick = np.asarray(days) - min(days)
    start, end = premium[pick][:, None], premium[pick + 1][:, None]
    at_open = np.arange(MINUTES) / MINUTES
    at_close = (np.arange(MINUTES) + 1) / MINUTES
    factor_open = 1 + (1 - at_open) * start + at_open * end
    factor_close = 1 + (1 - at_close) * start + at_close * end
    factor_mid = (factor_open + factor_close) / 2
    o, h, l, c = prices  # noqa: E741
    return o * factor_open, h * factor_mid, l * factor_mid, c * factor_close


def _partial(row: np.ndarray, fraction: float, listing: _Listing) -> np.ndarray:
    """The minute as seen `fraction` of the way through: close moves from open towards the final
    close and the wicks grow towards their final length (never beyond the final candle)."""
    ts, o, h, l, c, v = row  # noqa: E741
    decimals = listing.price_decimals
    close = round(o + (c - o) * fraction, decimals)
    high = round(max(o, close) + (h - max(o, c)) * fraction, decimals)
    low = round(min(o, close) - (min(o, c) - l) * fraction, decimals)
    volume = round(v * fraction, listing.volume_decimals)
    return np.array([ts, o, max(high, o, close), min(low, o, close), close, volume])


def _as_lists(rows: np.ndarray) -> list[OHLCV]:
    out = rows.tolist()
    for row in out:
        row[0] = int(row[0])
    return out
