"""Synthetic prices for the demo exchange: a day-level process and a one-minute path inside each day.

Two layers keep every candle independent of what was generated before it:
- the day process (volatility regime, trend, daily volatility, volume level, open price) runs
  sequentially from the anchor in blocks, each block drawn from its own generator seeded by
  (seed, key, block), so extending history never changes a day already made;
- the 1,440 minutes of day d come from a generator seeded by (seed, key, d), as a bridge from the
  day's open to its close (the next day's open), so no minute depends on another day's minutes.
All of it is vectorised numpy; prices here are raw floats, rounding to ticks is the listing's job.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

ANCHOR_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a Monday: every pyramid bucket starts here
DAY_MS = 86_400_000
MINUTES = 1_440
BLOCK_DAYS = 128

# Volatility regimes: calm spells last about a month, volatile ones about ten days.
_P_CALM_TO_VOLATILE = 0.035
_P_VOLATILE_TO_CALM = 0.10
_VOLATILE_VOL, _VOLATILE_VOLUME = 1.8, 1.8
_WEEKEND_VOL, _WEEKEND_VOLUME = 0.75, 0.6
# Trend: an AR(1) drift with a stationary spread of 0.15 daily vols, weakly pulled back towards the
# start price so decades of history stay plausible.
_TREND_PERSISTENCE, TREND_SPREAD, _PULL = 0.95, 0.15, 0.002
_BURST_WINDOW = 60  # minutes of a volatility burst inside the day
_WICK = 0.6


@dataclass(frozen=True)
class Underlying:
    """The parameters of one synthetic asset; listings sharing a `key` share its price path."""

    key: int
    start_price: float
    daily_vol: float  # stdev of the daily log return in a calm regime
    volume_per_min: float  # typical one-minute volume (base currency) on a calm weekday


@dataclass(frozen=True)
class DayParams:
    """Per-day values of the day process, for consecutive days."""

    log_open: np.ndarray
    ret: np.ndarray  # log return open -> close
    vol: np.ndarray  # daily volatility (stdev of the log return)
    level: np.ndarray  # volume per minute
    trend: np.ndarray  # drift of the day, in log return


@dataclass(frozen=True)
class MinuteBars:
    """Raw one-minute bars, one row of 1,440 per day."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def _intraday_profile() -> np.ndarray:
    # Activity by hour of day (UTC): the US open dominates, with smaller European and Asian bumps.
    hour = (np.arange(MINUTES) + 0.5) / 60
    return (
        0.75
        + 0.55 * np.exp(-(((hour - 14.5) / 2.0) ** 2))
        + 0.25 * np.exp(-(((hour - 8.5) / 1.5) ** 2))
        + 0.20 * np.exp(-(((hour - 1.0) / 1.5) ** 2))
    )


_PROFILE = _intraday_profile()


class PricePath:
    """The synthetic market of one underlying for one seed; thread-safe, day process cached."""

    def __init__(self, seed: int, underlying: Underlying) -> None:
        self.seed, self.underlying = seed, underlying
        self._blocks: list[DayParams] = []
        self._state = (math.log(underlying.start_price), 0.0, 0)  # log price, trend, regime
        self._lock = threading.Lock()

    def days(self, first: int, last: int) -> DayParams:
        """Day-process values for days first..last inclusive (day 0 starts at the anchor)."""
        if first < 0:
            raise ValueError("the demo market has no days before its anchor")
        with self._lock:
            while len(self._blocks) * BLOCK_DAYS <= last:
                self._blocks.append(self._next_block())
            blocks = self._blocks[first // BLOCK_DAYS : last // BLOCK_DAYS + 1]
        offset = first // BLOCK_DAYS * BLOCK_DAYS
        lo, hi = first - offset, last - offset + 1
        return DayParams(
            *(np.concatenate([getattr(b, name) for b in blocks])[lo:hi] for name in DayParams.__dataclass_fields__)
        )

    def _next_block(self) -> DayParams:
        u = self.underlying
        index = len(self._blocks)
        rng = np.random.default_rng([self.seed, u.key, 0, index])
        switch, z = rng.random(BLOCK_DAYS), rng.standard_normal((3, BLOCK_DAYS))
        # Fat-tailed daily shocks (unit variance), clipped: a crash day, not a collapse.
        shocks = np.clip(rng.standard_t(5, BLOCK_DAYS) * math.sqrt(3 / 5), -4.0, 4.0)
        out = np.empty((5, BLOCK_DAYS))
        log_p, trend, regime = self._state
        log_start = math.log(u.start_price)
        trend_noise = TREND_SPREAD * u.daily_vol * math.sqrt(1 - _TREND_PERSISTENCE**2)
        for i in range(BLOCK_DAYS):
            if switch[i] < (_P_VOLATILE_TO_CALM if regime else _P_CALM_TO_VOLATILE):
                regime = 1 - regime
            weekend = (index * BLOCK_DAYS + i) % 7 >= 5
            trend = _TREND_PERSISTENCE * trend + trend_noise * z[0, i] - _PULL * (log_p - log_start)
            vol = u.daily_vol * (_VOLATILE_VOL if regime else 1.0) * (_WEEKEND_VOL if weekend else 1.0)
            vol *= math.exp(0.2 * z[1, i])
            level = u.volume_per_min * (_VOLATILE_VOLUME if regime else 1.0) * (_WEEKEND_VOLUME if weekend else 1.0)
            level *= math.exp(0.25 * z[2, i])
            ret = trend + vol * shocks[i]
            out[:, i] = (log_p, ret, vol, level, trend)
            log_p = log_p + ret
        self._state = (log_p, trend, regime)
        return DayParams(*out)

    def minutes(self, days: np.ndarray) -> MinuteBars:
        """Raw one-minute bars of the given days (any order), one row per day."""
        days = np.asarray(days, dtype=np.int64)
        params = self.days(int(days.min()), int(days.max()))
        pick = days - days.min()
        log_open, ret, vol, level = (params.log_open[pick], params.ret[pick], params.vol[pick], params.level[pick])
        normal, shock, burst_noise = self._draws(days)

        moving = np.cumsum(burst_noise, axis=1)
        burst = np.exp(0.5 * (moving[:, _BURST_WINDOW:] - moving[:, :-_BURST_WINDOW]) / math.sqrt(_BURST_WINDOW))
        sigma = _PROFILE * burst
        sigma *= (vol / np.sqrt(np.sum(sigma**2, axis=1)))[:, None]  # the day's variance is the day process's
        steps = sigma * shock
        walk = np.cumsum(steps, axis=1)
        weight = np.cumsum(sigma**2, axis=1)
        weight /= weight[:, -1:]
        # A bridge: the walk is bent (most where it is most volatile) to end exactly at the day's return.
        path = walk - weight * (walk[:, -1:] - ret[:, None])
        path[:, -1] = ret
        log_close = log_open[:, None] + path
        close = np.exp(log_close)
        open_ = np.exp(np.concatenate([log_open[:, None], log_close[:, :-1]], axis=1))
        high = np.maximum(open_, close) * np.exp(_WICK * np.abs(normal[:, 0]) * sigma)
        low = np.minimum(open_, close) * np.exp(-_WICK * np.abs(normal[:, 1]) * sigma)
        # Volume follows activity and the size of each move (|shock|), with its own noise.
        volume = level[:, None] * _PROFILE * burst * (0.3 + np.abs(shock)) * np.exp(0.4 * normal[:, 2] - 0.08)
        return MinuteBars(open_, high, low, close, volume)

    def _draws(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(days)
        normal = np.empty((n, 3, MINUTES))
        shock = np.empty((n, MINUTES))
        burst = np.empty((n, MINUTES + _BURST_WINDOW))
        for i, day in enumerate(days):
            rng = np.random.default_rng([self.seed, self.underlying.key, 1, int(day)])
            normal[i] = rng.standard_normal((3, MINUTES))
            shock[i] = rng.standard_t(5, MINUTES) * math.sqrt(3 / 5)
            burst[i] = rng.standard_normal(MINUTES + _BURST_WINDOW)
        return normal, shock, burst
