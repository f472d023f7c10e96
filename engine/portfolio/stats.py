"""Trading statistics as pure functions of trade results and daily figures (formulas: docs/pnl.md).

Money stays Decimal (exact); averages and ratios are Decimal too, rounded to 12 decimal places
(division is the only inexact step). Sharpe and Sortino involve square roots and are floats. A
statistic that is not defined for the input (a ratio with nothing to divide by) is None, never 0,
so the page can show "—" instead of a misleading number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from engine.common.precision import wide_context
from engine.portfolio.calendar import compound

ZERO = Decimal(0)
PERIODS_PER_YEAR = 365  # crypto trades every day: daily figures are annualised over 365 days
PLACES = Decimal("1e-12")  # ratios and averages: exact to 12 decimal places
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _div(a: Decimal, b: Decimal) -> Decimal | None:
    if not b:
        return None
    with wide_context():
        return (a / b).quantize(PLACES)


def net(pnls: Iterable[Decimal]) -> Decimal:
    with wide_context():
        return sum(pnls, ZERO)


def wins(pnls: Sequence[Decimal]) -> list[Decimal]:
    return [p for p in pnls if p > 0]


def losses(pnls: Sequence[Decimal]) -> list[Decimal]:
    return [p for p in pnls if p < 0]


def win_rate(pnls: Sequence[Decimal]) -> Decimal | None:
    """Winning trades / all trades (a break-even trade is not a win); None without trades."""
    return _div(Decimal(len(wins(pnls))), Decimal(len(pnls)))


def average(values: Sequence[Decimal]) -> Decimal | None:
    return _div(net(values), Decimal(len(values)))


def win_loss_ratio(pnls: Sequence[Decimal]) -> Decimal | None:
    """Average win / |average loss|; None without a win or without a loss."""
    avg_win, avg_loss = average(wins(pnls)), average(losses(pnls))
    if avg_win is None or avg_loss is None:
        return None
    return _div(avg_win, -avg_loss)


def profit_factor(pnls: Sequence[Decimal]) -> Decimal | None:
    """Gross profit / gross loss; None without a loss (infinite), 0 with losses only."""
    return _div(net(wins(pnls)), -net(losses(pnls)))


def expectancy(pnls: Sequence[Decimal]) -> Decimal | None:
    """Net P&L per trade (= win rate x average win + loss rate x average loss)."""
    return average(pnls)


def largest_win(pnls: Sequence[Decimal]) -> Decimal | None:
    return max(wins(pnls), default=None)


def largest_loss(pnls: Sequence[Decimal]) -> Decimal | None:
    return min(losses(pnls), default=None)


def streaks(pnls: Sequence[Decimal]) -> tuple[int, int]:
    """(longest run of winning trades, longest run of losing trades), in trade order. A break-even
    trade ends both runs."""
    best_win = best_loss = run_win = run_loss = 0
    for p in pnls:
        run_win = run_win + 1 if p > 0 else 0
        run_loss = run_loss + 1 if p < 0 else 0
        best_win, best_loss = max(best_win, run_win), max(best_loss, run_loss)
    return best_win, best_loss


def max_drawdown(daily_pnl: Sequence[Decimal], start: Decimal | None = None) -> tuple[Decimal, Decimal | None]:
    """(largest fall from a peak in money, the same as a fraction of that peak) of the equity curve
    start + cumulative daily P&L. The curve starts at `start` (0 when unknown, and the fraction is
    then None; also None when a peak is not positive)."""
    equity = start if start is not None else ZERO
    peak, worst, worst_pct = equity, ZERO, ZERO if start is not None else None
    with wide_context():
        for p in daily_pnl:
            equity += p
            peak = max(peak, equity)
            fall = peak - equity
            worst = max(worst, fall)
            if worst_pct is not None:
                worst_pct = None if peak <= 0 else max(worst_pct, fall / peak)
    return worst, worst_pct


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


# A deviation below this share of the largest |return| is float noise (a constant series gives
# ~1e-18, not 0), not variation: dividing by it would print ratios of 1e17.
NOISE = 1e-9


def _negligible(deviation: float, returns: Sequence[float]) -> bool:
    """Whether a standard or downside deviation is zero up to float noise."""
    return deviation <= NOISE * max((abs(r) for r in returns), default=0.0)


def sharpe(returns: Sequence[float]) -> float | None:
    """Annualised Sharpe ratio of daily returns (risk-free rate 0): mean / sample standard deviation
    x sqrt(365). None with fewer than two days or no variation (float noise included)."""
    if len(returns) < 2:
        return None
    mean = _mean(returns)
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    if _negligible(std, returns):
        return None
    return mean / std * math.sqrt(PERIODS_PER_YEAR)


def sortino(returns: Sequence[float]) -> float | None:
    """Annualised Sortino ratio: mean / downside deviation x sqrt(365), the downside deviation being
    sqrt(mean of min(r, 0)^2) over all days (target 0). None with fewer than two days or no loss."""
    if len(returns) < 2:
        return None
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    if _negligible(downside, returns):
        return None
    return _mean(returns) / downside * math.sqrt(PERIODS_PER_YEAR)


def daily_returns(pnl: Sequence[Decimal], start_equity: Sequence[Decimal | None]) -> list[float]:
    """Each day's P&L / equity at the start of that day; days without a positive equity are left out."""
    out = []
    for p, e in zip(pnl, start_equity, strict=True):
        if e is not None and e > 0:
            out.append(float(p / e))
    return out


def by_key(items: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    with wide_context():
        for key, value in items:
            out[key] = out.get(key, ZERO) + value
    return out


def in_unit(unit: str, money: Decimal, pct: Decimal | None, r: Decimal | None) -> Decimal | None:
    """A P&L figure in the page's unit: "percent", "r", else money."""
    return {"percent": pct, "r": r}.get(unit, money)


@dataclass(frozen=True)
class TradeResult:
    """One trade's realized result in the period (all its exit fills' P&L), for the statistics."""

    trade_id: int
    symbol: str
    last_day: date  # the day of its last exit in the period: the order of streaks
    pnl: Decimal
    fees: Decimal
    pct: Decimal | None = None  # its P&L in % of the equity at the start of each day it booked on
    r: Decimal | None = None  # its P&L in R; None without a risk

    def value(self, unit: str) -> Decimal | None:
        return in_unit(unit, self.pnl, self.pct, self.r)


@dataclass(frozen=True)
class StatDay:
    """One day of the period for the statistics: its P&L in each unit, and its starting equity."""

    day: date
    pnl: Decimal
    start_equity: Decimal | None
    pct: Decimal | None = None
    r: Decimal | None = None

    def value(self, unit: str) -> Decimal | None:
        return in_unit(unit, self.pnl, self.pct, self.r)


@dataclass(frozen=True)
class Stats:
    """A period's statistics. Figures of P&L (net, averages, largest, expectancy, drawdown, the
    breakdowns) are in `unit`: money, percent or R; counts, rates and ratios are unit-free."""

    trades: int
    net_pnl: Decimal | None  # None only in % without a known equity
    win_rate: Decimal | None
    win_loss_ratio: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    largest_win: Decimal | None
    largest_loss: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None
    max_drawdown: Decimal | None  # None only in % without a known equity
    max_drawdown_pct: Decimal | None
    longest_win_streak: int
    longest_loss_streak: int
    sharpe: float | None
    sortino: float | None
    fees: Decimal
    by_symbol: dict[str, Decimal] = field(default_factory=dict)
    by_weekday: dict[str, Decimal] = field(default_factory=dict)
    unit: str = "money"
    funding: Decimal = ZERO  # perpetual funding of the period, in money: in the net P&L (money) too


def summarize(
    trades: Sequence[TradeResult],
    days: Sequence[StatDay],
    fees: Decimal,
    start: Decimal | None = None,
    unit: str = "money",
    funding: Sequence[tuple[str, Decimal]] = (),
) -> Stats:
    """Every statistic of a period: `trades` in the order they finished, `days` for every day of the
    period in order, `fees` the fees charged, `start` the equity when the period began (for the
    drawdown in %), `unit` what P&L figures are in ("money", "percent" or "r"), `funding` the
    (symbol, amount) funding paid. A trade or day without a figure in that unit (no equity, no risk)
    is left out of those figures only.

    Funding is no trade: the per-trade figures (win rate, averages, streaks) leave it out; the net
    P&L and P&L by symbol in money count it, as the days (and so drawdown, % and ratios) do. In R
    it has no figure (no risk was planned for it)."""
    ordered = sorted(trades, key=lambda t: (t.last_day, t.trade_id))
    pnls = [t.pnl for t in ordered]  # win rate and streaks: the sign is the same in every unit
    values = [v for v in (t.value(unit) for t in ordered) if v is not None]
    won, lost = streaks(pnls)
    day_pnl = [d.pnl for d in days]
    drawdown, drawdown_pct = max_drawdown(day_pnl, start)
    if unit == "r":
        drawdown, drawdown_pct = max_drawdown([d.r or ZERO for d in days])[0], None
    elif unit == "percent":  # the same fall, as a percentage of its peak
        drawdown = drawdown_pct * 100 if drawdown_pct is not None else None
    returns = daily_returns(day_pnl, [d.start_equity for d in days])
    weekday = by_key((WEEKDAYS[d.day.weekday()], v) for d in days if d.pnl and (v := d.value(unit)) is not None)
    paid = net(amount for _, amount in funding)
    money = unit not in ("percent", "r")
    total = compound([d.pct for d in days if d.pct is not None]) if unit == "percent" else net(values)
    if money:
        total = net([total, paid])
    symbols = [(t.symbol, v) for t in ordered if (v := t.value(unit)) is not None]
    return Stats(
        trades=len(pnls),
        net_pnl=total,
        win_rate=win_rate(pnls),
        win_loss_ratio=win_loss_ratio(values),
        average_win=average(wins(values)),
        average_loss=average(losses(values)),
        largest_win=largest_win(values),
        largest_loss=largest_loss(values),
        profit_factor=profit_factor(values),
        expectancy=expectancy(values),
        max_drawdown=drawdown,
        max_drawdown_pct=drawdown_pct,
        longest_win_streak=won,
        longest_loss_streak=lost,
        sharpe=sharpe(returns),
        sortino=sortino(returns),
        fees=fees,
        by_symbol=by_key([*symbols, *funding] if money else symbols),
        by_weekday={k: weekday[k] for k in WEEKDAYS if k in weekday},
        unit=unit,
        funding=paid,
    )
