"""The sample backtest a newcomer runs from the empty calendar (or `python -m engine sample`): a
simple trend-following set of blocks over the demo history already stored, so the calendar,
statistics and equity curve show real trades within a minute of a fresh start.

The rule (plain, not a strategy to trade): every SAMPLE_EVERY_H hours, go long when the last close
is above the close a day before, else short; a market entry, the stop 1 % away, two targets at
1 % and 2 % (half each), 0.5 % of equity at risk (1 % would need all the equity and the fees on top),
closed before the next one starts (the account is one-way: a long and a short of one market at
once would net).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from db.enums import EntryType, Side, SizeMode
from engine.blocks.api import BlockRequest, TargetSpec
from engine.common.timeframes import tf_ms
from engine.market.api import market_ticks, stored_candles
from engine.replay.records import BlockRow, Cancelled, Progress, RowError, RunRejected, RunSummary
from engine.replay.runs import run_backtest
from engine.runtime import Runtime

SAMPLE_SYMBOL = "BTC/USDT"
SAMPLE_TIMEFRAME = "1m"
SAMPLE_DAYS = 30
SAMPLE_EVERY_H = 6
DAY_MS = 86_400_000


def sample_backtest(
    runtime: Runtime, user_id: int, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> RunSummary:
    """Backtest the sample blocks over the last SAMPLE_DAYS stored days of demo BTC/USDT."""
    exchange = runtime.settings.exchanges[0]
    try:
        end = _last_stored(runtime, exchange)
    except LookupError as exc:
        raise RunRejected(
            [RowError(1, "series", f"{exc}: the first start backfills it, try again in a minute")]
        ) from exc
    start = end - SAMPLE_DAYS * DAY_MS
    bars = stored_candles(runtime, exchange, SAMPLE_SYMBOL, SAMPLE_TIMEFRAME, start, end)
    rows = sample_rows(bars, market_ticks(runtime, exchange, SAMPLE_SYMBOL).price)
    if not rows:
        raise RunRejected([RowError(1, "period", "less than two days of demo history stored yet: try again later")])
    return run_backtest(
        runtime,
        user_id,
        rows,
        exchange,
        SAMPLE_TIMEFRAME,
        start_ms=int(bars[0, 0]),
        end_ms=end,
        name="Sample backtest",
        progress=progress,
        cancelled=cancelled,
    )


def _last_stored(runtime: Runtime, exchange: str) -> int:
    recent = stored_candles(runtime, exchange, SAMPLE_SYMBOL, "1d", 0, 2**62)
    if not len(recent):
        raise LookupError(f"no {exchange} {SAMPLE_SYMBOL} history stored")
    last = stored_candles(runtime, exchange, SAMPLE_SYMBOL, SAMPLE_TIMEFRAME, int(recent[-1, 0]), 2**62)
    return int(last[-1, 0]) + tf_ms(SAMPLE_TIMEFRAME) if len(last) else int(recent[-1, 0])


def sample_rows(bars: np.ndarray, tick: Decimal | None) -> list[BlockRow]:
    """The sample's blocks over `bars` (1m candles, oldest first)."""
    if len(bars) < 2:
        return []
    ts, close = bars[:, 0].astype(np.int64), bars[:, 4]
    every = SAMPLE_EVERY_H * 3_600_000
    rows = []
    first = int(ts[0]) + DAY_MS
    for line, at in enumerate(range(first - first % every + every, int(ts[-1]) - DAY_MS // 4, every), start=2):
        now = int(np.searchsorted(ts, at, side="left")) - 1
        ago = int(np.searchsorted(ts, at - DAY_MS, side="left"))
        if now < 0 or ago >= now:
            continue
        price = Decimal(str(close[now]))
        side = Side.LONG if close[now] >= close[ago] else Side.SHORT
        sign = 1 if side is Side.LONG else -1
        request = BlockRequest(
            symbol=SAMPLE_SYMBOL,
            side=side,
            entry_type=EntryType.MARKET,
            entry_price=None,
            stop_price=_tick(price * (1 - sign * Decimal("0.01")), tick),
            targets=(
                TargetSpec(_tick(price * (1 + sign * Decimal("0.01")), tick), Decimal("0.5")),
                TargetSpec(_tick(price * (1 + sign * Decimal("0.02")), tick), Decimal("0.5")),
            ),
            size_mode=SizeMode.RISK_PCT,
            size_value=Decimal("0.5"),
            max_duration_s=SAMPLE_EVERY_H * 3600 - 300,
        )
        rows.append(BlockRow(line, at, request))
    return rows


def _tick(price: Decimal, tick: Decimal | None) -> Decimal:
    step = tick or Decimal("0.01")
    return (price / step).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * step
