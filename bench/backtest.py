"""Bench: a backtest of 100 blocks over a year of 1m bars (525,600) through the engine
(engine.replay.api.run_backtest: the live submit, executor, sync and bracket rules, skipping the
bars where nothing can fill), against the same brackets in backtesting.py (one Backtest per
bracket, over the bars it can live on, its own fill rules, commission 0). Prints bars per second
and the peak RSS. The last line is backtesting.py's time / ours.

    .venv/bin/python -m bench.backtest [--quick]      (--quick: 14 days, 20 blocks)
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from bench._common import database_label, parse_args, print_ratio, scratch_engine
from bench._desk import demo_trader
from db.enums import EntryType, Side, SizeMode
from engine.blocks.api import BlockRequest, TargetSpec
from engine.exchanges.api import DemoExchange
from engine.market.api import get_or_create_series, ingest_candles
from engine.replay import api as replay
from engine.runtime import Runtime

SYMBOL = "BTC/USDT"
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC: the demo history's first minute
DAY = 86_400_000
TARGET_S = 10.0
TARGET_RATIO = 3.0
TARGET_RSS_MB = 500.0


def desk(engine, days: int) -> tuple[Runtime, int, np.ndarray]:  # type: ignore[no-untyped-def]
    runtime, user_id = demo_trader(engine, DemoExchange(clock=lambda: START + (days + 1) * DAY))
    with runtime.sessions.begin() as s:
        series_id = get_or_create_series(s, "demo", SYMBOL, "1m").id
    bars = demo_bars(days)
    started = time.perf_counter()
    with engine.begin() as conn:
        ingest_candles(conn, series_id, "1m", bars)
    print(f"stored {len(bars):,} 1m candles (with their pyramid) in {time.perf_counter() - started:.1f} s")
    return runtime, user_id, bars


def _tick(value: Decimal) -> Decimal:
    return (value / Decimal("0.01")).quantize(Decimal(1), ROUND_HALF_EVEN) * Decimal("0.01")


def blocks(bars: np.ndarray, count: int) -> list[replay.BlockRow]:
    """`count` brackets spread over the bars: a limit entry 0.2 % from the last close on the side of
    the day's trend, the stop 1 % away, targets at 1 % and 2 % (half each), closed after a day at
    most, and before the next one starts (a one-way account nets a long and a short of one market)."""
    rows, every = [], (len(bars) - 1_500) // count
    lives = min(DAY, every * 60_000 * 9 // 10) // 1000
    for i in range(count):
        at = 1_440 + i * every
        close, day_ago = Decimal(str(bars[at - 1, 4])), bars[at - 1_440, 4]
        side = Side.LONG if float(close) >= day_ago else Side.SHORT
        sign = 1 if side is Side.LONG else -1
        entry = _tick(close * (1 - sign * Decimal("0.002")))
        request = BlockRequest(
            symbol=SYMBOL,
            side=side,
            entry_type=EntryType.LIMIT,
            entry_price=entry,
            stop_price=_tick(entry * (1 - sign * Decimal("0.01"))),
            targets=(
                TargetSpec(_tick(entry * (1 + sign * Decimal("0.01"))), Decimal("0.5")),
                TargetSpec(_tick(entry * (1 + sign * Decimal("0.02"))), Decimal("0.5")),
            ),
            size_mode=SizeMode.BASE,
            size_value=Decimal("0.002"),
            max_duration_s=lives,
        )
        rows.append(replay.BlockRow(i + 2, int(bars[at, 0]), request))
    return rows


def baseline(bars: np.ndarray, rows: list[replay.BlockRow]) -> float:
    """backtesting.py: one Backtest per bracket on the same bars (each target a half-size order with
    its own tp and the shared sl, placed on the block's bar)."""
    from backtesting import Backtest, Strategy  # the baseline only; a dev requirement

    class Bracket(Strategy):
        at = pd.Timestamp(0)  # the parameters one run() sets
        long = True
        entry = stop = 0.0
        targets: tuple[float, ...] = ()

        def init(self) -> None:
            self.placed = False

        def next(self) -> None:
            if self.placed or self.data.index[-1] < self.at:
                return
            self.placed = True
            order = self.buy if self.long else self.sell
            for target in self.targets:
                order(size=0.05, limit=self.entry, sl=self.stop, tp=target)

    frame = pd.DataFrame(bars[:, 1:6], columns=["Open", "High", "Low", "Close", "Volume"])
    frame.index = pd.to_datetime(bars[:, 0], unit="ms")
    started = time.perf_counter()
    for row in rows:
        req = row.request
        Backtest(frame, Bracket, cash=10_000_000, commission=0, finalize_trades=True).run(
            at=pd.Timestamp(row.at_ms, unit="ms"),
            long=req.side is Side.LONG,
            entry=float(req.entry_price or 0),
            stop=float(req.stop_price or 0),
            targets=tuple(float(t.price or 0) for t in req.targets),
        )
    return time.perf_counter() - started


def reset_peak_rss() -> None:
    """Start the peak RSS (VmHWM) afresh, so it measures the backtest, not the set-up (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak_rss_mb() -> float:
    with open("/proc/self/status") as handle:
        line = next(row for row in handle if row.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def demo_bars(days: int) -> np.ndarray:
    """The demo BTC/USDT 1m bars of the bench's period (made again for the baseline: the backtest
    reads its own from the store)."""
    end = START + days * DAY
    return DemoExchange(clock=lambda: end + DAY).candles(SYMBOL, "1m", START, end)


def main() -> int:
    args = parse_args(__doc__ or "")
    days, count = (14, 20) if args.quick else (366, 100)
    with scratch_engine() as engine:
        print(f"database: {database_label(engine)}; {days} days of 1m bars, {count} blocks")
        runtime, user_id, bars = desk(engine, days)
        rows = blocks(bars, count)
        total = len(bars)
        del bars
        runtime.sources.clear()  # the demo feed's caches: the backtest reads the store only
        gc.collect()
        reset_peak_rss()
        started = time.perf_counter()
        run = replay.run_backtest(runtime, user_id, rows, "demo", "1m", START, START + days * DAY)
        ours = time.perf_counter() - started
        if run.status is not replay.RunStatus.DONE or run.blocks != count:
            print(f"the backtest did not run every block: {run}")
            return 1
        rss = peak_rss_mb()
        print(
            f"ours: {total:,} bars, {run.blocks} blocks, {run.trades_closed} closed trades in {ours:.2f} s "
            f"({total / ours:,.0f} bars/s); peak RSS during the backtest {rss:,.0f} MB "
            f"(the process's, with the set-up: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB)"
        )
        theirs = baseline(demo_bars(days), rows)
        print(f"backtesting.py, one Backtest per bracket: {theirs:.2f} s")
        met = ours <= TARGET_S and theirs / ours >= TARGET_RATIO and rss <= TARGET_RSS_MB
        verdict = "(they are for the full size)" if args.quick else ("met" if met else "MISSED")
        print(
            f"targets {verdict}: <= {TARGET_S:.0f} s, >= {TARGET_RATIO:.0f}x backtesting.py, <= {TARGET_RSS_MB:.0f} MB"
        )
        print_ratio(theirs, ours)
    return 0


if __name__ == "__main__":
    sys.exit(main())
