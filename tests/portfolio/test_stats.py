"""Every statistic of engine.portfolio.stats on small hand-worked examples, and its edge cases: no trades,
all wins, all losses, one day."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

import pytest

from engine.portfolio import stats
from engine.portfolio.stats import StatDay, TradeResult, summarize

D = Decimal
# Five trades: +30, -10, +20, -20, 0 -> net 20; 2 wins (50), 2 losses (-30), 1 break-even.
PNLS = [D(30), D(-10), D(20), D(-20), D(0)]


def test_net_win_rate_and_averages() -> None:
    assert stats.net(PNLS) == D(20)
    assert stats.win_rate(PNLS) == D("0.4")  # 2 of 5: a break-even trade is no win
    assert stats.average(stats.wins(PNLS)) == D(25)
    assert stats.average(stats.losses(PNLS)) == D(-15)
    assert stats.win_loss_ratio(PNLS) == D("1.666666666667")  # 25 / 15
    assert stats.largest_win(PNLS) == D(30)
    assert stats.largest_loss(PNLS) == D(-20)


def test_profit_factor_and_expectancy() -> None:
    assert stats.profit_factor(PNLS) == D("1.666666666667")  # 50 / 30
    assert stats.expectancy(PNLS) == D(4)  # 20 / 5
    # = win rate x avg win + loss rate x avg loss: 0.4 x 25 + 0.4 x (-15) = 4
    assert D("0.4") * 25 + D("0.4") * -15 == D(4)


def test_streaks_count_runs_and_break_even_ends_both() -> None:
    assert stats.streaks([D(1), D(2), D(-1), D(3), D(4), D(5), D(-1), D(-2)]) == (3, 2)
    assert stats.streaks([D(1), D(0), D(1)]) == (1, 0)
    assert stats.streaks([]) == (0, 0)


def test_max_drawdown_in_money_and_percent() -> None:
    # Equity 100 -> 110 -> 88 -> 99 -> 120 -> 114: the worst fall is 110 -> 88 = 22 (20% of 110).
    money, pct = stats.max_drawdown([D(10), D(-22), D(11), D(21), D(-6)], D(100))
    assert money == D(22)
    assert pct == D("0.2")
    # Without a known start equity: money from cumulative P&L, no percentage.
    assert stats.max_drawdown([D(10), D(-22)]) == (D(22), None)
    assert stats.max_drawdown([], D(100)) == (D(0), D(0))


def test_sharpe_and_sortino_on_hand_worked_returns() -> None:
    returns = [0.01, -0.02, 0.03, 0.0]
    mean = 0.005
    std = math.sqrt(((0.005) ** 2 + 0.025**2 + 0.025**2 + 0.005**2) / 3)
    assert stats.sharpe(returns) == pytest.approx(mean / std * math.sqrt(365))
    downside = math.sqrt(0.02**2 / 4)  # only the -2% day, over all four days
    assert stats.sortino(returns) == pytest.approx(mean / downside * math.sqrt(365))


def test_ratios_are_undefined_rather_than_zero() -> None:
    assert stats.sharpe([0.01]) is None  # one day
    assert stats.sharpe([0.01, 0.01]) is None  # no variation
    assert stats.sortino([0.01, 0.02]) is None  # no losing day
    assert stats.win_rate([]) is None
    assert stats.profit_factor([D(5)]) is None  # no loss: infinite
    assert stats.profit_factor([D(-5)]) == D(0)
    assert stats.win_loss_ratio([D(5)]) is None


def test_daily_returns_use_start_of_day_equity_and_skip_unknown_days() -> None:
    assert stats.daily_returns([D(10), D(-5), D(3)], [D(1000), None, D(0)]) == [0.01]


def days(*pnls: str, start: str = "1000") -> list[StatDay]:
    out, equity, day = [], D(start), date(2024, 1, 1)  # a Monday
    for p in pnls:
        out.append(StatDay(day, D(p), equity, D(p) / equity * 100, D(p) / 10))
        equity += D(p)
        day += timedelta(days=1)
    return out


def trade(i: int, pnl: str, symbol: str = "BTC/USDT", day: int = 1) -> TradeResult:
    return TradeResult(i, symbol, date(2024, 1, day), D(pnl), D("0.5"))


def test_summarize_a_mixed_period() -> None:
    trades = [trade(1, "30", day=1), trade(2, "-10", "ETH/USDT", day=2), trade(3, "20", day=2)]
    result = summarize(trades, days("30", "10", "0"), fees=D("1.5"), start=D(1000))
    assert (result.trades, result.net_pnl, result.fees) == (3, D(40), D("1.5"))
    assert result.win_rate == D("0.666666666667")
    assert result.by_symbol == {"BTC/USDT": D(50), "ETH/USDT": D(-10)}
    assert result.by_weekday == {"Mon": D(30), "Tue": D(10)}
    assert (result.longest_win_streak, result.longest_loss_streak) == (1, 1)
    assert result.max_drawdown == D(0)
    assert result.sharpe is not None
    assert result.sortino is None  # no losing day


def test_summarize_no_trades() -> None:
    result = summarize([], [], fees=D(0))
    assert result.trades == 0
    assert result.net_pnl == D(0)
    assert result.win_rate is result.expectancy is result.profit_factor is result.sharpe is None
    assert result.largest_win is result.largest_loss is None
    assert (result.max_drawdown, result.max_drawdown_pct) == (D(0), None)
    assert result.by_symbol == {}
    assert result.by_weekday == {}


def test_summarize_all_wins() -> None:
    result = summarize([trade(1, "5"), trade(2, "7", day=2)], days("5", "7"), fees=D(1), start=D(1000))
    assert result.win_rate == D(1)
    assert result.profit_factor is None
    assert result.win_loss_ratio is None
    assert result.average_loss is None
    assert (result.longest_win_streak, result.longest_loss_streak) == (2, 0)
    assert result.max_drawdown == D(0)
    assert result.sortino is None


def test_summarize_all_losses() -> None:
    result = summarize([trade(1, "-5"), trade(2, "-5", day=2)], days("-5", "-5"), fees=D(1), start=D(1000))
    assert result.win_rate == D(0)
    assert result.profit_factor == D(0)
    assert result.expectancy == D(-5)
    assert (result.longest_win_streak, result.longest_loss_streak) == (0, 2)
    assert result.max_drawdown == D(10)
    assert result.max_drawdown_pct == D("0.01")
    assert result.sharpe is not None
    assert result.sharpe < 0


def test_summarize_one_day() -> None:
    result = summarize([trade(1, "12")], days("12"), fees=D(0), start=D(1000))
    assert (result.trades, result.net_pnl, result.largest_win) == (1, D(12), D(12))
    assert result.sharpe is None
    assert result.sortino is None


@pytest.mark.parametrize("value", [0.0011, 0.1, 1 / 3, 0.07])
def test_a_constant_return_series_has_no_sharpe_despite_float_noise(value: float) -> None:
    # A sum of equal floats is not n x value exactly: the "variance" is ~1e-36, and mean / sqrt of it
    # gave 1e17. Zero deviation up to noise is no variation: undefined, as the docs say.
    returns = [value] * 30
    assert stats.sharpe(returns) is None
    assert stats.sortino([-value] * 30) == pytest.approx(-math.sqrt(365))  # a real downside stays defined
    assert stats.sortino([value] * 29 + [-value * 1e-12]) is None  # a loss of float noise is no loss


def test_summarize_in_r_and_percent_follows_the_unit() -> None:
    # Risks of 10: +30 = +3R, -10 = -1R, +20 = +2R; equity 1000: +3%, -1%, +2% of it.
    trades = [
        TradeResult(i, "BTC/USDT", date(2024, 1, d), D(p), D(0), pct=D(p) / 10, r=D(p) / 10)
        for i, (p, d) in enumerate([("30", 1), ("-10", 2), ("20", 3)], start=1)
    ]
    series = days("30", "-10", "20")
    money = summarize(trades, series, fees=D(1), start=D(1000))
    r = summarize(trades, series, fees=D(1), start=D(1000), unit="r")
    pct = summarize(trades, series, fees=D(1), start=D(1000), unit="percent")
    assert (r.unit, r.net_pnl, r.average_win, r.average_loss, r.largest_win, r.expectancy) == (
        "r", D(4), D("2.5"), D(-1), D(3), D("1.333333333333"))  # fmt: skip
    assert r.max_drawdown == D(1)  # the -1R day from the +3R peak
    assert r.by_symbol == {"BTC/USDT": D(4)}
    assert r.by_weekday == {"Mon": D(3), "Tue": D(-1), "Wed": D(2)}
    # Percent: the period compounds its days (1.03 x 1030/1000 ... as the calendar does).
    assert pct.net_pnl == pytest.approx(D("4.00"), abs=D("0.01"))
    assert pct.max_drawdown == money.max_drawdown_pct * 100  # the same fall, in % of the peak
    assert pct.largest_loss == D(-1)
    # Unit-free figures do not change with the unit; money stays money.
    for other in (r, pct):
        assert (other.trades, other.win_rate, other.sharpe, other.fees) == (3, money.win_rate, money.sharpe, D(1))
    assert money.net_pnl == D(40)


def test_summarize_in_r_leaves_out_trades_without_a_risk() -> None:
    trades = [TradeResult(1, "BTC/USDT", date(2024, 1, 1), D(5), D(0), r=None), trade(2, "-5")]
    result = summarize(trades, days("0"), fees=D(0), unit="r")
    assert result.trades == 2
    assert result.net_pnl == D(0)  # only the trade with a figure in R (its r defaults to None too)
    assert result.largest_win is None
