"""Backtests through the real engine on stored candles: hand-checked fills and P&L, refused blocks,
progress, cancel, the run's report, deleting a run with everything it traded, and a run whose
process died settled instead of "running" for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.enums import AccountKind
from db.models import Block, ExchangeAccount, Fill, Order, PaperOrder, ReplayRun
from engine.replay import api as replay
from engine.replay import store as replay_store
from engine.runtime import Runtime
from tests.helpers.replay import flat, store_bars, trader
from tests.helpers.trading import MIN, T0, request

D = Decimal
# A dip through the 100 entry on bar 5, then 106 (target 105) on bar 9 and 111 (target 110) on bar 13.
RISE = [
    *flat(101, 5),
    (101, 101, 99.5, 100.5),
    *flat(102, 3),
    (102, 106, 102, 105.5),
    *flat(104, 3),
    (104, 111, 104, 110),
    *flat(108, 3),
]


def test_a_limit_block_fills_and_takes_both_targets_at_their_prices(runtime: Runtime) -> None:
    store_bars(runtime, RISE)
    user = trader(runtime)
    seen: list[tuple[int, int]] = []
    rows = [replay.BlockRow(2, T0 + MIN, request())]
    run = replay.run_backtest(runtime, user, rows, "demo", "1m", progress=lambda d, t: seen.append((d, t)))
    assert (run.status, run.blocks, run.trades_closed, run.bars_total) == (replay.RunStatus.DONE, 1, 2, 16)
    assert seen[-1] == (16, 16)  # the last report says the whole period was played
    report = replay.run_report(runtime, user, run.id)
    first, second = report.trades
    # 0.5 bought at 100 (fee 0.1 % = 0.05), sold at 105 (fee 0.0525): 2.5 - 0.1025 = 2.3975.
    assert (first.entry_price, first.exit_price, first.net_pnl, first.close_reason) == (
        D("100"),
        D("105"),
        D("2.3975"),
        "target",
    )
    # sold at 110 (fee 0.055): 5 - 0.105 = 4.895.
    assert (second.exit_price, second.net_pnl) == (D("110"), D("4.895"))
    assert first.closed_ms == T0 + 10 * MIN  # the close of bar 9, where the engine saw the fill
    assert run.net_pnl == D("7.2925")
    assert [e for _, e in report.equity] == [D("10000"), D("10002.3975"), D("10007.2925")]
    assert (report.win_rate, report.profit_factor, report.max_drawdown_pct) == (D(100), None, D(0))
    with runtime.sessions() as s:  # the stop beside each target was canceled: nothing left resting
        assert s.scalar(select(func.count(PaperOrder.id)).where(PaperOrder.status == "open")) == 0
        account = s.get(ExchangeAccount, run.account_id)
        assert account is not None
        assert account.kind is AccountKind.REPLAY


def test_a_stop_hit_books_the_loss_and_the_drawdown(runtime: Runtime) -> None:
    store_bars(runtime, [*flat(101, 3), (101, 101, 99, 99.5), (99.5, 99.5, 94, 94.5), *flat(94, 3)])
    user = trader(runtime)
    run = replay.run_backtest(runtime, user, [replay.BlockRow(2, T0, request(targets=("110",)))], "demo", "1m")
    (trade,) = replay.run_report(runtime, user, run.id).trades
    # 1 bought at 100 (fee 0.1), stopped at 95 (fee 0.095): -5 - 0.195.
    assert (trade.exit_price, trade.net_pnl, trade.close_reason) == (D("95"), D("-5.195"), "stop")
    report = replay.run_report(runtime, user, run.id)
    assert report.max_drawdown_pct == D("-5.195") / D("10000") * 100
    assert report.win_rate == 0


def test_a_block_the_engine_refuses_is_named_and_the_rest_still_run(runtime: Runtime) -> None:
    store_bars(runtime, RISE)
    user = trader(runtime)
    bad = request(stop="101")  # a long's stop above its entry
    rows = [replay.BlockRow(2, T0 + MIN, request()), replay.BlockRow(3, T0 + MIN, bad)]
    run = replay.run_backtest(runtime, user, rows, "demo", "1m")
    assert run.blocks == 1
    assert run.error is not None
    assert run.error.startswith("line 3: stop_price:")


def test_nothing_to_run_is_refused_before_any_row_is_written(runtime: Runtime) -> None:
    user = trader(runtime)
    with pytest.raises(replay.RunRejected, match="no stored series"):
        replay.run_backtest(runtime, user, [replay.BlockRow(2, T0, request())], "demo", "1m")
    with pytest.raises(replay.RunRejected, match="no blocks"):
        replay.run_backtest(runtime, user, [], "demo", "1m")
    with runtime.sessions() as s:
        assert s.scalar(select(func.count(ReplayRun.id))) == 0
        assert s.scalar(select(func.count(ExchangeAccount.id))) == 0


def test_a_cancelled_run_stops_between_events_and_says_so(runtime: Runtime) -> None:
    store_bars(runtime, RISE)
    user = trader(runtime)
    rows = [replay.BlockRow(2, T0 + MIN, request())]
    run = replay.run_backtest(runtime, user, rows, "demo", "1m", cancelled=lambda: True)
    assert run.status is replay.RunStatus.CANCELED
    assert run.trades_closed == 0


def test_runs_are_their_owners_and_deleting_one_removes_what_it_traded(runtime: Runtime) -> None:
    store_bars(runtime, RISE)
    alice, bob = trader(runtime), trader(runtime, "bob")
    run = replay.run_backtest(runtime, alice, [replay.BlockRow(2, T0 + MIN, request())], "demo", "1m")
    assert [r.id for r in replay.backtest_runs(runtime, alice)] == [run.id]
    assert replay.backtest_runs(runtime, bob) == []
    for call in (replay.get_run, replay.run_report, replay.delete_run):
        with pytest.raises(replay.RunAccessError):
            call(runtime, bob, run.id)
    replay.delete_run(runtime, alice, run.id)
    with runtime.sessions() as s:
        for model in (ReplayRun, ExchangeAccount, Block, Order, Fill, PaperOrder):
            assert s.scalar(select(func.count()).select_from(model)) == 0, model


def _beat(runtime: Runtime, run_id: int, status: str, ago_s: float) -> None:
    """Leave the run `status` with its last heartbeat `ago_s` seconds ago, as a process that died then."""
    with runtime.sessions.begin() as s:
        row = s.get(ReplayRun, run_id)
        row.status, row.updated_at, row.finished_at = status, datetime.now(UTC) - timedelta(seconds=ago_s), None


def test_a_backtest_whose_process_died_is_shown_interrupted_not_running_for_ever(runtime: Runtime) -> None:
    store_bars(runtime, RISE)
    user = trader(runtime)
    dead = replay.run_backtest(runtime, user, [replay.BlockRow(2, T0 + MIN, request())], "demo", "1m")
    alive = replay.run_backtest(runtime, user, [replay.BlockRow(2, T0 + MIN, request())], "demo", "1m")
    _beat(runtime, dead.id, "running", ago_s=90)
    _beat(runtime, alive.id, "running", ago_s=5)  # a slow bar, not a dead process
    shown = {r.id: r for r in replay.backtest_runs(runtime, user)}
    assert shown[dead.id].status is replay.RunStatus.FAILED
    assert "Interrupted" in (shown[dead.id].error or "")
    assert shown[alive.id].status is replay.RunStatus.RUNNING
    # A late save from the dead run's process does not bring it back.
    with runtime.sessions() as s:
        cursor = s.get(ReplayRun, dead.id).cursor_ms
    replay_store.save_progress(runtime, dead.id, cursor, 3, replay.RunStatus.RUNNING)
    assert replay.get_run(runtime, user, dead.id).status is replay.RunStatus.FAILED


def test_a_replay_whose_process_died_is_paused_where_it_stopped(runtime: Runtime) -> None:
    store_bars(runtime, RISE)
    user = trader(runtime)
    run = replay.start_replay(runtime, user, "demo", "SOL/USDT", "1m", T0)
    _beat(runtime, run.id, "running", ago_s=120)
    assert replay.get_run(runtime, user, run.id).status is replay.RunStatus.PAUSED
