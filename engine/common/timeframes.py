"""Timeframes: parsing ccxt timeframe strings, aligning timestamps, and the rollup pyramid.

All timestamps in Tradeblock are integer milliseconds since the Unix epoch (UTC), as in ccxt.
"""

from __future__ import annotations

MINUTE_MS = 60_000
_UNIT_MS = {"s": 1_000, "m": MINUTE_MS, "h": 60 * MINUTE_MS, "d": 1_440 * MINUTE_MS, "w": 10_080 * MINUTE_MS}

# Weeks on exchanges start on Monday 00:00 UTC; the epoch was a Thursday, so weekly buckets are
# shifted by four days (Binance, OKX and Bybit all build 1w candles this way).
WEEK_OFFSET_MS = 4 * _UNIT_MS["d"]

# Stored levels of the candle pyramid. Each level is an exact multiple of the one before it, so a
# level can be rolled up from the level below instead of from the raw 1m rows.
PYRAMID: tuple[str, ...] = ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "12h", "1d", "1w")


def tf_ms(timeframe: str) -> int:
    """Length of a timeframe in milliseconds, e.g. ``tf_ms("15m") == 900_000``."""
    if len(timeframe) < 2 or timeframe[-1] not in _UNIT_MS or not timeframe[:-1].isdigit():
        raise ValueError(f"unknown timeframe {timeframe!r}: use a number and one of s, m, h, d, w (e.g. 1m, 4h)")
    amount = int(timeframe[:-1])
    if amount <= 0:
        raise ValueError(f"timeframe {timeframe!r} must be positive")
    return amount * _UNIT_MS[timeframe[-1]]


def bucket_offset(timeframe: str) -> int:
    """Offset of the bucket grid from the epoch (non-zero only for weekly buckets)."""
    return WEEK_OFFSET_MS if timeframe.endswith("w") else 0


def floor_ts(ts: int, timeframe: str) -> int:
    """Start of the candle of `timeframe` that contains `ts`."""
    step, offset = tf_ms(timeframe), bucket_offset(timeframe)
    return (ts - offset) // step * step + offset


def last_closed_open(now_ms: int, timeframe: str) -> int:
    """Open time of the most recent candle that has closed at `now_ms`."""
    return floor_ts(now_ms, timeframe) - tf_ms(timeframe)


def levels_above(timeframe: str) -> tuple[str, ...]:
    """Pyramid levels coarser than `timeframe` that can be built exactly from it."""
    base = tf_ms(timeframe)
    return tuple(level for level in PYRAMID if tf_ms(level) > base and tf_ms(level) % base == 0)
