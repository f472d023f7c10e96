"""engine/blocks/markers.py: a closed trade gives an entry and an exit marker with its P&L and R;
only the user's own closed trades on that market and on live or paper accounts (a replay's stay on
its own chart), overlapping the window, the newest `limit` of them."""

from __future__ import annotations

from decimal import Decimal

from db.enums import Side
from engine.blocks.markers import closed_markers
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account, add_replay_account, add_trade
from tests.helpers.trading import add_user

MIN = 60_000
T = 1_704_240_000_000


def test_a_closed_trade_is_marked_where_it_was_entered_and_left(runtime: Runtime) -> None:
    user = add_user(runtime.sessions)
    account = add_account(runtime.sessions, user)
    add_trade(runtime.sessions, user, account, T, [(T + 30 * MIN, "110")], entry="100", amount="2", risk="10")
    add_trade(runtime.sessions, user, account, T + 60 * MIN, [], entry="100")  # still open: not marked
    add_trade(runtime.sessions, user, account, T, [(T + MIN, "95")], side=Side.SHORT, risk="10", symbol="ETH/USDT")
    with runtime.sessions() as s:
        entry, exit_ = closed_markers(s, user, "demo", "BTC/USDT", T - MIN, T + 90 * MIN)
    assert (entry.end, entry.ts, entry.price, entry.side, entry.target) == ("entry", T, Decimal(100), Side.LONG, 1)
    assert (exit_.end, exit_.ts, exit_.price) == ("exit", T + 30 * MIN, Decimal(110))
    assert exit_.pnl == Decimal(20)
    assert exit_.r == Decimal(2)  # 20 won on 10 at risk
    assert exit_.quote == "USDT"


def test_only_the_users_own_live_trades_in_the_window_newest_first(runtime: Runtime) -> None:
    user, other = add_user(runtime.sessions, "alice"), add_user(runtime.sessions, "bob")
    paper, replay = add_account(runtime.sessions, user), add_replay_account(runtime.sessions, user)
    theirs = add_account(runtime.sessions, other, "theirs")
    for k in range(5):  # one trade every hour, each 10 minutes long
        add_trade(runtime.sessions, user, paper, T + k * 60 * MIN, [(T + k * 60 * MIN + 10 * MIN, "101")])
    add_trade(runtime.sessions, user, replay, T, [(T + 10 * MIN, "101")])
    add_trade(runtime.sessions, other, theirs, T, [(T + 10 * MIN, "101")])
    with runtime.sessions() as s:
        every = closed_markers(s, user, "demo", "BTC/USDT", T, T + 5 * 60 * MIN)
        newest = closed_markers(s, user, "demo", "BTC/USDT", T, T + 5 * 60 * MIN, limit=2)
        window = closed_markers(s, user, "demo", "BTC/USDT", T + 65 * MIN, T + 125 * MIN)
    assert len(every) == 10  # five trades of the paper account, neither the replay's nor bob's
    assert [m.ts for m in newest] == [T + 180 * MIN, T + 190 * MIN, T + 240 * MIN, T + 250 * MIN]
    assert [m.ts for m in window] == [T + 60 * MIN, T + 70 * MIN, T + 120 * MIN, T + 130 * MIN]  # overlapping
