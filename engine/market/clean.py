"""Candle cleaning: nothing dirty reaches the candles table. Pure functions, no I/O.

`clean_candles` checks a batch of rows as the exchange sent them (ts, open, high, low, close,
volume), vectorised with numpy, and returns the clean rows sorted and unique by ts together with
one `Problem` per row it rejected, repaired or dropped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from engine.common.timeframes import bucket_offset, tf_ms

log = logging.getLogger(__name__)

# open/close beyond high/low by at most this fraction of the price is a rounding artefact of the
# exchange (e.g. a close rounded to the tick while high was not): widened, not rejected.
REPAIR_TOLERANCE = 0.001

Action = Literal["rejected", "repaired", "dropped"]
Row = tuple[int, float, float, float, float, float]

# Rejection reasons in the order they are checked: a row gets the first one that applies.
NOT_FINITE = "not_finite"
OFF_GRID = "off_grid"
NON_POSITIVE_PRICE = "non_positive_price"
NEGATIVE_VOLUME = "negative_volume"
HIGH_BELOW_LOW = "high_below_low"
OUTSIDE_RANGE = "open_close_outside_range"
# Not dirt: what every exchange sends in normal operation, dropped silently.
FORMING = "forming"
DUPLICATE = "duplicate"
# Reasons as small integer codes (0: clean) so that every check stays a numpy mask.
_CODES = (NOT_FINITE, OFF_GRID, FORMING, NON_POSITIVE_PRICE, NEGATIVE_VOLUME, HIGH_BELOW_LOW, OUTSIDE_RANGE)
_CODE = {name: code for code, name in enumerate(_CODES, start=1)}


@dataclass(frozen=True)
class Problem:
    ts: int | None  # None when the timestamp itself was unusable
    reason: str
    action: Action


@dataclass(frozen=True)
class CleanResult:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for p in self.problems if p.action == action)


def clean_candles(rows: Sequence[Sequence[Any]] | np.ndarray, timeframe: str, now_ms: int) -> CleanResult:
    """Check a batch of candles of `timeframe` received at `now_ms`.

    Rules, each row getting the first that applies:
      - a missing, NaN or infinite field: rejected (not_finite);
      - ts not on the timeframe's grid (weeks start on Monday): rejected (off_grid);
      - ts + timeframe > now_ms, a candle still forming or from the future: dropped (forming);
      - open, high, low or close <= 0: rejected (non_positive_price);
      - volume < 0: rejected (negative_volume);
      - high < low: rejected (high_below_low);
      - open or close outside [low, high]: when the excursion is within REPAIR_TOLERANCE (0.1%) of
        the price it is a rounding artefact and high/low are widened to contain them (repaired),
        otherwise rejected (open_close_outside_range).
    Of the rows passing these, a ts received more than once keeps its last row received; the
    earlier ones are dropped (duplicate). "dropped" is not dirt and is not logged as a warning.
    """
    arr = _as_array(rows)
    if len(arr) == 0:
        return CleanResult()
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and inf are what is being looked for
        ts, reason, repaired = _check(arr, tf_ms(timeframe), bucket_offset(timeframe), now_ms)
    kept, duplicates = _last_of_each_ts(ts, reason == 0)
    problems = _problems(arr, np.isfinite(arr[:, 0]), reason, repaired, duplicates)
    _log_summary(problems, timeframe, len(arr))
    return CleanResult(rows=_as_rows(ts[kept], arr[kept]), problems=problems)


def _as_array(rows: Sequence[Sequence[Any]] | np.ndarray) -> np.ndarray:
    """An (n, 6) float copy of the rows; None becomes NaN (and is then rejected)."""
    if len(rows) == 0:
        return np.empty((0, 6))
    try:
        arr = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError):
        # Ragged or non-numeric rows: the few bad ones become all-NaN rows, rejected as not finite.
        arr = np.array([_row_or_nan(r) for r in rows], dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 6:
        arr = np.array([_row_or_nan(r) for r in rows], dtype=np.float64)
    return arr


def _check(arr: np.ndarray, step: int, offset: int, now_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int ts, reason code per row, rows repaired); repairs `arr` in place."""
    reason = np.zeros(len(arr), dtype=np.int8)
    finite = np.isfinite(arr).all(axis=1)
    _mark(reason, ~finite, NOT_FINITE)
    ts = np.where(finite, arr[:, 0], 0).astype(np.int64)
    _mark(reason, ((ts - offset) % step != 0) | (arr[:, 0] != ts), OFF_GRID)
    _mark(reason, ts + step > now_ms, FORMING)
    opens, highs, lows, closes, volumes = (arr[:, i] for i in range(1, 6))
    _mark(reason, (arr[:, 1:5] <= 0).any(axis=1), NON_POSITIVE_PRICE)
    _mark(reason, volumes < 0, NEGATIVE_VOLUME)
    _mark(reason, highs < lows, HIGH_BELOW_LOW)
    top, bottom = np.maximum(opens, closes), np.minimum(opens, closes)
    outside = (top > highs) | (bottom < lows)
    tiny = (top - highs <= REPAIR_TOLERANCE * highs) & (lows - bottom <= REPAIR_TOLERANCE * lows)
    _mark(reason, outside & ~tiny, OUTSIDE_RANGE)
    repaired = outside & (reason == 0)
    arr[repaired, 2] = np.maximum(highs[repaired], top[repaired])
    arr[repaired, 3] = np.minimum(lows[repaired], bottom[repaired])

    return ts, reason, repaired


def _row_or_nan(row: Any) -> list[float]:
    try:
        values = [float("nan") if v is None else float(v) for v in row]
    except (TypeError, ValueError):
        return [float("nan")] * 6
    return values if len(values) == 6 else [float("nan")] * 6


def _mark(reason: np.ndarray, mask: np.ndarray, name: str) -> None:
    """Give `name` to the rows in `mask` that have no reason yet."""
    reason[mask & (reason == 0)] = _CODE[name]


def _last_of_each_ts(ts: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indices kept, sorted by ts; indices of earlier duplicates) among the valid rows."""
    candidates = np.flatnonzero(valid)
    # np.unique on the reversed candidates finds each ts's last occurrence and sorts by ts.
    _, first_in_reversed = np.unique(ts[candidates][::-1], return_index=True)
    kept = candidates[len(candidates) - 1 - first_in_reversed]
    duplicates = np.setdiff1d(candidates, kept, assume_unique=True)
    return kept, duplicates


def _problems(
    arr: np.ndarray, ts_finite: np.ndarray, reason: np.ndarray, repaired: np.ndarray, duplicates: np.ndarray
) -> list[Problem]:
    problems = []
    for i in np.flatnonzero(reason):
        name = _CODES[reason[i] - 1]
        action: Action = "dropped" if name == FORMING else "rejected"
        problems.append(Problem(int(arr[i, 0]) if ts_finite[i] else None, name, action))
    problems += [Problem(int(arr[i, 0]), OUTSIDE_RANGE, "repaired") for i in np.flatnonzero(repaired)]
    problems += [Problem(int(arr[i, 0]), DUPLICATE, "dropped") for i in duplicates]
    return problems


def _log_summary(problems: list[Problem], timeframe: str, received: int) -> None:
    dirty = Counter(f"{p.reason} {p.action}" for p in problems if p.action != "dropped")
    if dirty:
        counts = ", ".join(f"{n} {what}" for what, n in sorted(dirty.items()))
        log.warning("cleaning %d %s candles: %s", received, timeframe, counts)


def _as_rows(ts: np.ndarray, arr: np.ndarray) -> list[Row]:
    columns = [arr[:, i].tolist() for i in range(1, 6)]
    return list(zip(ts.tolist(), *columns, strict=True))
