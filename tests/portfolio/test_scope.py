"""Which accounts the calendar counts (engine.portfolio.scope): live and paper by default, replay
accounts left out; one account alone when asked, refused when it is someone else's; a replay
account's equity from its starting balance and the P&L it booked (it has no snapshots), with
hand-checked numbers; the admins' overviews leave replays out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.models import AccountBalance, EquitySnapshot, ExchangeAccount, PaperBalance, PaperFill, PaperOrder
from engine.portfolio import api as portfolio
from engine.portfolio import views as pv
from engine.portfolio.scope import starting_balance
from engine.runtime import Runtime
from engine.users.api import AccountAccessError
from tests.helpers.portfolio import add_account, add_close, add_replay_account, add_trade, ms
from tests.helpers.trading import add_user

D = Decimal
JUNE = date(2024, 6, 1)
END = date(2024, 6, 30)


def desk(runtime: Runtime) -> tuple[int, int, int]:
    """alice: a paper account that made +1 on 3 June, a replay account (1,000 USDT) that made +20 on
    20 May, +10 on 3 June and -5 on 5 June."""
    uid = add_user(runtime.sessions, "alice")
    paper = add_account(runtime.sessions, uid)
    replay = add_replay_account(runtime.sessions, uid, "Backtest #3", "1000")
    add_trade(runtime.sessions, uid, paper, ms("2024-06-03 08:00"), [(ms("2024-06-03 09:00"), "101")])
    add_trade(runtime.sessions, uid, replay, ms("2024-05-20 09:00"), [(ms("2024-05-20 10:00"), "120")])
    add_trade(runtime.sessions, uid, replay, ms("2024-06-02 09:00"), [(ms("2024-06-03 10:00"), "110")])
    add_trade(runtime.sessions, uid, replay, ms("2024-06-04 09:00"), [(ms("2024-06-05 15:00"), "95")])
    return uid, paper, replay


def month(runtime: Runtime, uid: int, account_id: int | None = None) -> portfolio.CalendarPage:
    return pv.calendar_page(runtime, uid, "UTC", "month", JUNE, "money", END, account_id)


def test_by_default_only_live_and_paper_accounts_count(runtime: Runtime) -> None:
    uid, paper, replay = desk(runtime)
    everything = month(runtime, uid)
    assert (everything.stats.trades, everything.stats.net_pnl) == (1, D(1))
    assert [d.booking.pnl for d in pv.day_trades(runtime, uid, "UTC", date(2024, 6, 3))] == [D(1)]
    _, table = pv.export_table(runtime, uid, "UTC", "month", JUNE, "trades", END)
    assert len(table.rows) == 1
    groups = portfolio.group_stats(runtime, uid, JUNE, END, "UTC", "symbol")
    assert [(g.trades, g.pnl) for g in groups] == [(1, D(1))]
    # The paper account alone is the same; the replay account alone is its own three trades.
    assert month(runtime, uid, paper).stats.net_pnl == D(1)
    alone = month(runtime, uid, replay)
    assert (alone.stats.trades, alone.stats.net_pnl) == (2, D(5))  # June's two; May's is before
    assert [d.booking.pnl for d in pv.day_trades(runtime, uid, "UTC", date(2024, 6, 3), replay)] == [D(10)]
    _, table = pv.export_table(runtime, uid, "UTC", "month", JUNE, "daily", END, replay)
    assert sum(1 for row in table.rows if any(cell == D(10) for cell in row)) == 1
    groups = portfolio.group_stats(runtime, uid, JUNE, END, "UTC", "symbol", replay)
    assert [(g.trades, g.pnl) for g in groups] == [(2, D(5))]


def test_a_replay_accounts_equity_is_its_starting_balance_plus_what_it_booked(runtime: Runtime) -> None:
    uid, _, replay = desk(runtime)
    page = month(runtime, uid, replay)
    equity = page.period.equity
    # 1,000 funded, +20 on 20 May: 1,020 when June starts; +10 on the 3rd, -5 on the 5th.
    assert (equity[date(2024, 6, 1)], equity[date(2024, 6, 3)]) == (D(1020), D(1020))
    assert (equity[date(2024, 6, 4)], equity[date(2024, 6, 6)]) == (D(1030), D(1025))
    assert page.month is not None
    cell = next(c for c in page.month.days() if c.day == date(2024, 6, 3))
    assert cell.start_equity == D(1020)
    assert round(cell.pct or 0, 6) == D("0.980392")  # 10 / 1,020
    assert (page.curve[0].day, page.curve[0].equity) == (JUNE, D(1020))
    assert (page.curve[-1].day, page.curve[-1].equity) == (END, D(1025))
    assert min(p.drawdown for p in page.curve) == D(-5)
    assert page.stats.max_drawdown == D(5)
    assert round(page.stats.max_drawdown_pct or 0, 8) == D("0.00485437")  # 5 of the 1,030 peak, a fraction
    # The year starts with the account's history (20 May), from the 1,000 it was funded with.
    year = pv.calendar_page(runtime, uid, "UTC", "year", JUNE, "money", END, replay)
    assert (year.curve[0].day, year.curve[0].equity) == (date(2024, 5, 20), D(1020))
    assert year.period.equity[date(2024, 5, 20)] == D(1000)
    # The journal's % of a replay trade is of the replay's equity.
    assert portfolio.equity_at_day_start(runtime, uid, "UTC", [date(2024, 6, 5)], replay) == {date(2024, 6, 5): D(1030)}


def test_a_replay_without_trades_has_no_curve_and_no_equity(runtime: Runtime) -> None:
    uid = add_user(runtime.sessions, "alice")
    replay = add_replay_account(runtime.sessions, uid)
    page = month(runtime, uid, replay)
    assert page.curve == []
    assert set(page.period.equity.values()) == {None}


def test_the_starting_balance_undoes_every_paper_fill(runtime: Runtime) -> None:
    uid = add_user(runtime.sessions, "alice")
    replay = add_replay_account(runtime.sessions, uid, balance="1000")
    with runtime.sessions.begin() as s:
        paper_id = s.scalar(select(ExchangeAccount.paper_account_id).where(ExchangeAccount.id == replay))
        fills = [  # side, symbol, price, amount, fee: a long round trip, then a short still open
            ("buy", "BTC/USDT", "100", "1", "0.1"),
            ("sell", "BTC/USDT", "110", "1", "0.11"),
            ("sell", "ETH/USDT:USDT", "50", "2", "0.05"),
        ]
        for i, (side, symbol, price, amount, fee) in enumerate(fills):
            order = PaperOrder(account_id=paper_id, client_order_id=f"c{i}", symbol=symbol, side=side, type="market",
                               amount=D(amount), status="closed", created_ts=0, updated_ts=0)  # fmt: skip
            s.add(order)
            s.flush()
            s.add(PaperFill(account_id=paper_id, order_id=order.id, symbol=symbol, side=side, price=D(price),
                            amount=D(amount), fee=D(fee), fee_currency="USDT", taker_or_maker="taker",
                            ts=i))  # fmt: skip
        balance = s.scalar(select(PaperBalance).where(PaperBalance.account_id == paper_id))
        assert balance is not None
        # What the paper exchange leaves: 1000 - 100 - 0.1 + 110 - 0.11 + 100 - 0.05, some of it locked.
        balance.free, balance.used = D("1000.74"), D("109")
        s.add(PaperBalance(account_id=paper_id, currency="BTC", free=D(0), used=D(0)))
    with runtime.sessions() as s:
        assert starting_balance(s, replay) == D(1000)
        assert starting_balance(s, add_account(runtime.sessions, uid, "no paper")) is None


def test_another_users_account_is_refused(runtime: Runtime) -> None:
    uid, _, replay = desk(runtime)
    mallory = add_user(runtime.sessions, "mallory")
    with pytest.raises(AccountAccessError):
        month(runtime, mallory, replay)
    with pytest.raises(AccountAccessError):
        pv.day_trades(runtime, mallory, "UTC", date(2024, 6, 3), replay)
    with pytest.raises(AccountAccessError):
        pv.export(runtime, mallory, "UTC", "month", JUNE, "trades", END, replay)
    with pytest.raises(AccountAccessError):
        portfolio.group_stats(runtime, mallory, JUNE, END, "UTC", "tag", replay)
    with pytest.raises(AccountAccessError):
        portfolio.open_positions(runtime, mallory, replay)
    with pytest.raises(AccountAccessError):
        month(runtime, uid, 999_999)  # no such account: the same refusal


def test_open_positions_follow_the_scope(runtime: Runtime) -> None:
    uid = add_user(runtime.sessions, "alice")
    paper = add_account(runtime.sessions, uid)
    replay = add_replay_account(runtime.sessions, uid)
    add_trade(runtime.sessions, uid, paper, ms("2024-06-03 08:00"), [])
    add_trade(runtime.sessions, uid, replay, ms("2024-06-03 08:00"), [])
    assert [p.account_id for p in portfolio.open_positions(runtime, uid)] == [paper]
    assert [p.account_id for p in portfolio.open_positions(runtime, uid, replay)] == [replay]


def test_the_admins_overviews_leave_replays_out(runtime: Runtime) -> None:
    uid, _, _ = desk(runtime)
    rows = {r.user_id: r for r in pv.overview(runtime, 2024, 6)}
    assert rows[uid].month.pnl == D(1)
    desk_view = portfolio.desk_overview(runtime, JUNE, END, datetime(2024, 7, 1, tzinfo=UTC))
    (figures,) = desk_view.users
    assert (figures.pnl, figures.blocks) == (D(1), 1)
    assert figures.volume == (("USDT", D(201)),)  # 100 in, 101 out; the replay's trades not at all
    assert desk_view.totals[-1].cumulative == D(1)


def test_replay_accounts_get_no_snapshot(runtime: Runtime) -> None:
    uid = add_user(runtime.sessions, "alice")
    paper = add_account(runtime.sessions, uid)
    replay = add_replay_account(runtime.sessions, uid)
    add_close(runtime.sessions, uid, paper, date(2024, 6, 1), "500")
    with runtime.sessions.begin() as s:
        for account in (paper, replay):
            s.add(AccountBalance(account_id=account, currency="USDT", free=D(9), used=D(0), total=D(9)))
    portfolio.snapshot_equity(runtime, datetime(2024, 6, 2, 12, tzinfo=UTC))
    with runtime.sessions() as s:
        taken = s.execute(select(EquitySnapshot.account_id, EquitySnapshot.day)).all()
    assert sorted(taken) == [(paper, date(2024, 6, 1)), (paper, date(2024, 6, 2))]
