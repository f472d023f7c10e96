"""The sample backtest a newcomer runs from the empty calendar: demo blocks over the stored demo
history, every block accepted, real trades booked on the run's own account."""

from __future__ import annotations

import pytest

from engine.exchanges.api import DemoExchange
from engine.replay import api as replay
from engine.runtime import Runtime
from tests.helpers.replay import store_rows, trader

START = 1_706_745_600_000  # 2024-02-01 00:00 UTC
DAY = 86_400_000


def test_the_sample_backtest_trades_the_stored_demo_history(runtime: Runtime) -> None:
    demo = DemoExchange(clock=lambda: START + 10 * DAY)
    store_rows(runtime, "BTC/USDT", demo.candles("BTC/USDT", "1m", START, START + 4 * DAY))
    user = trader(runtime)
    seen: list[int] = []
    run = replay.sample_backtest(runtime, user, lambda done, total: seen.append(done))
    assert run.status is replay.RunStatus.DONE
    assert run.error is None  # every sample block was accepted and none overlapped another
    assert run.blocks == 10  # every 6 hours from the second day 06:00, up to 6 hours before the end
    assert run.trades_closed >= 2 * run.blocks - 2
    assert seen[-1] == 4 * 1440
    report = replay.run_report(runtime, user, run.id)
    assert {t.close_reason for t in report.trades} >= {"stop", "time"}


def test_without_stored_demo_history_the_sample_says_what_to_wait_for(runtime: Runtime) -> None:
    user = trader(runtime)
    with pytest.raises(replay.RunRejected, match="backfills it"):
        replay.sample_backtest(runtime, user)
