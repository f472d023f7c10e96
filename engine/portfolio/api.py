"""The portfolio package's public surface: balances and equity snapshots (engine jobs), open
positions, and what the calendar pages show: realized P&L booked per trading day in the user's
timezone, month/week/year grids, statistics, the equity curve, exports, the admins'
overview, and statistics grouped by symbol, setup or tag."""

from engine.portfolio.balances import PortfolioReport, Position, open_positions, snapshot_equity, sync_balances
from engine.portfolio.bookings import Booking, day_of, day_totals, start_equity
from engine.portfolio.calendar import DayCell, Month, Week, build_year, colour, month_days, percent, strong
from engine.portfolio.day_equity import equity_at_day_start
from engine.portfolio.groups import GroupBy, GroupStats, group_stats
from engine.portfolio.stats import Stats
from engine.portfolio.views import (
    VIEWS,
    CalendarPage,
    CurvePoint,
    DayTrade,
    Period,
    UserMonth,
    calendar_page,
    day_trades,
    export,
    overview,
    period_stats,
    shift,
)

__all__ = [
    "VIEWS",
    "Booking",
    "CalendarPage",
    "CurvePoint",
    "DayCell",
    "DayTrade",
    "GroupBy",
    "GroupStats",
    "Month",
    "Period",
    "PortfolioReport",
    "Position",
    "Stats",
    "UserMonth",
    "Week",
    "build_year",
    "calendar_page",
    "colour",
    "day_of",
    "day_totals",
    "day_trades",
    "equity_at_day_start",
    "export",
    "group_stats",
    "month_days",
    "open_positions",
    "overview",
    "percent",
    "period_stats",
    "shift",
    "snapshot_equity",
    "start_equity",
    "strong",
    "sync_balances",
]
