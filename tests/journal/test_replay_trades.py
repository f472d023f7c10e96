"""Replay and backtest trades in the journal: left out by default (practice is not real results),
listed and marked `replay` when the filter asks for them, with their % of the replay account's own
equity (its starting balance plus what it booked), not of the live and paper accounts'."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.journal.api import TradeFilter, cumulative_profit, trade_page
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account, add_close, add_replay_account, add_trade, ms
from tests.helpers.trading import add_user

D = Decimal


def test_replay_trades_are_left_out_unless_asked_for_and_marked(runtime: Runtime) -> None:
    alice = add_user(runtime.sessions, "alice")
    paper = add_account(runtime.sessions, alice)
    replay = add_replay_account(runtime.sessions, alice, "Backtest #3", "500")
    add_close(runtime.sessions, alice, paper, date(2024, 4, 30), "1000")
    real = add_trade(runtime.sessions, alice, paper, ms("2024-05-01 10:00"), [(ms("2024-05-01 14:00"), "110")])
    first = add_trade(runtime.sessions, alice, replay, ms("2024-05-01 10:00"), [(ms("2024-05-01 12:00"), "150")])
    second = add_trade(runtime.sessions, alice, replay, ms("2024-05-02 10:00"), [(ms("2024-05-02 12:00"), "90")])

    default = trade_page(runtime, alice, "UTC", TradeFilter())
    assert ([r.trade_id for r in default.rows], default.total) == ([real], 1)
    assert [p.trade_id for p in cumulative_profit(runtime, alice, "UTC", TradeFilter())] == [real]

    everything = trade_page(runtime, alice, "UTC", TradeFilter(replay=True))
    rows = {r.trade_id: r for r in everything.rows}
    assert set(rows) == {real, first, second}
    assert (rows[real].replay, rows[first].replay, rows[second].replay) == (False, True, True)
    assert rows[real].pct == D(1)  # +10 of the paper account's 1,000
    assert rows[first].pct == D(10)  # +50 of the replay's 500
    assert rows[second].pct is not None
    assert round(rows[second].pct, 6) == D("-1.818182")  # -10 of 550: 500 and the first trade's +50
    profit = cumulative_profit(runtime, alice, "UTC", TradeFilter(replay=True))
    assert profit[-1].cumulative == D(50)  # +10 +50 -10
