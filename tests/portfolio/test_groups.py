"""Statistics grouped by symbol, setup and tag: the trades the calendar counts (closed in the period
by local close day), a trade with two tags in both tag rows, untagged / setup-less trades in their
own row, sorted by P&L; and the figures themselves."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import update

from db.models import Block, BlockTag, Trade, User
from engine.portfolio import api
from engine.portfolio.groups import NO_SETUP, NO_TAG, summarize_group
from engine.portfolio.stats import TradeResult
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account, add_trade, ms
from tests.helpers.trading import add_user

D = Decimal


def _journal(runtime: Runtime, trade_id: int, setup: str | None, tags: list[str]) -> None:
    with runtime.sessions.begin() as s:
        block_id = s.get(Trade, trade_id).block_id
        s.execute(update(Block).where(Block.id == block_id).values(setup=setup))
        s.add_all(BlockTag(block_id=block_id, tag=t) for t in tags)


@pytest.fixture
def trader(runtime: Runtime) -> int:
    """A Berlin trader's March: four closed trades, one open, one closed after local midnight."""
    uid = add_user(runtime.sessions, "gina")
    with runtime.sessions.begin() as s:
        s.execute(update(User).where(User.id == uid).values(timezone="Europe/Berlin"))
    acc = add_account(runtime.sessions, uid)
    entry = ms("2024-03-01 08:00")
    t1 = add_trade(runtime.sessions, uid, acc, entry, [(ms("2024-03-02 10:00"), "130")], exit_fee="1")  # +29, 2.9R
    t2 = add_trade(runtime.sessions, uid, acc, entry, [(ms("2024-03-03 10:00"), "95")])  # -5, -0.5R
    t3 = add_trade(runtime.sessions, uid, acc, entry, [(ms("2024-03-04 10:00"), "110")], symbol="ETH/USDT")  # +10
    t4 = add_trade(runtime.sessions, uid, acc, entry, [(ms("2024-03-05 10:00"), "98")], symbol="ETH/USDT")  # -2
    add_trade(runtime.sessions, uid, acc, entry, [])  # still open: not a closed trade
    # 23:30 UTC on Mar 31 is 01:30 on Apr 1 in Berlin: outside March, as the calendar books it.
    late = add_trade(runtime.sessions, uid, acc, entry, [(ms("2024-03-31 23:30"), "200")])
    _journal(runtime, t1, "breakout", ["news", "a+"])
    _journal(runtime, t2, "breakout", ["news"])
    _journal(runtime, t3, "pullback", [])
    _journal(runtime, t4, None, ["fomo"])
    _journal(runtime, late, "breakout", ["news"])
    return uid


def stats(runtime: Runtime, uid: int, by: api.GroupBy) -> dict[str, api.GroupStats]:
    rows = api.group_stats(runtime, uid, date(2024, 3, 1), date(2024, 3, 31), "Europe/Berlin", by)
    assert [g.pnl for g in rows] == sorted((g.pnl for g in rows), reverse=True)
    return {g.key: g for g in rows}


def test_by_symbol_counts_the_closed_trades_the_calendar_counts(runtime: Runtime, trader: int) -> None:
    got = stats(runtime, trader, "symbol")
    assert list(got) == ["BTC/USDT", "ETH/USDT"]
    btc, eth = got["BTC/USDT"], got["ETH/USDT"]
    assert (btc.trades, btc.wins, btc.losses, btc.pnl, btc.fees) == (2, 1, 1, D(24), D(1))
    assert (eth.trades, eth.pnl) == (2, D(8))
    assert btc.win_rate == D("0.5")
    assert btc.profit_factor == D("5.8")  # 29 / 5
    assert btc.expectancy == D(12)
    assert btc.avg_r == D("1.2")  # (2.9 - 0.5) / 2
    # The same total as the calendar's month statistics.
    page = api.calendar_page(runtime, trader, "Europe/Berlin", "month", date(2024, 3, 1), "money")
    assert page.stats.trades == sum(g.trades for g in got.values())
    assert page.stats.net_pnl == sum(g.pnl for g in got.values())


def test_by_setup_puts_setup_less_trades_in_their_own_row(runtime: Runtime, trader: int) -> None:
    got = stats(runtime, trader, "setup")
    assert list(got) == ["breakout", "pullback", NO_SETUP]
    assert (got["breakout"].trades, got["breakout"].pnl) == (2, D(24))
    assert (got["pullback"].trades, got["pullback"].pnl) == (1, D(10))
    assert (got[NO_SETUP].trades, got[NO_SETUP].pnl, got[NO_SETUP].profit_factor) == (1, D(-2), D(0))


def test_by_tag_counts_a_trade_once_per_tag(runtime: Runtime, trader: int) -> None:
    got = stats(runtime, trader, "tag")
    assert list(got) == ["a+", "news", NO_TAG, "fomo"]
    assert (got["a+"].trades, got["a+"].pnl, got["a+"].profit_factor) == (1, D(29), None)  # no loss: undefined
    assert (got["news"].trades, got["news"].wins, got["news"].pnl) == (2, 1, D(24))
    assert (got[NO_TAG].trades, got[NO_TAG].pnl) == (1, D(10))
    assert (got["fomo"].trades, got["fomo"].pnl) == (1, D(-2))


def test_an_empty_period_and_another_user_have_no_groups(runtime: Runtime, trader: int) -> None:
    assert api.group_stats(runtime, trader, date(2023, 1, 1), date(2023, 12, 31), "Europe/Berlin", "tag") == []
    other = add_user(runtime.sessions, "hugo")
    assert api.group_stats(runtime, other, date(2024, 3, 1), date(2024, 3, 31), "Europe/Berlin", "symbol") == []
    with pytest.raises(ValueError, match="cannot group"):
        api.group_stats(runtime, trader, date(2024, 3, 1), date(2024, 3, 31), "UTC", "weekday")  # type: ignore[arg-type]


def test_summarize_group_without_risk_has_no_average_r() -> None:
    day = date(2024, 1, 1)
    results = [TradeResult(1, "X/Y", day, D(3), D("0.1")), TradeResult(2, "X/Y", day, D(0), D(0))]
    g = summarize_group("x", results)
    assert (g.trades, g.wins, g.losses, g.pnl, g.fees, g.avg_r) == (2, 1, 0, D(3), D("0.1"), None)
    assert g.win_rate == D("0.5")  # a break-even trade is not a win
    assert g.expectancy == D("1.5")
