"""The portfolio package's public surface: balances and equity snapshots (engine jobs), open
positions, and what the calendar pages show: realized P&L booked per trading day in the user's
timezone, month/week/year grids, statistics, the equity curve, exports, the admins' month overview,
and their desk overview (activity, blocks, volume and P&L per user, the desk's P&L over time)."""

from engine.portfolio.balances import PortfolioReport, Position, open_positions, snapshot_equity, sync_balances
from engine.portfolio.bookings import Booking, day_of, day_totals, start_equity, zone
from engine.portfolio.calendar import DayCell, Month, Week, build_year, colour, month_days, strong
from engine.portfolio.overview import DeskOverview, TotalDay, UserFigures, desk_overview
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
    "DeskOverview",
    "Month",
    "Period",
    "PortfolioReport",
    "Position",
    "Stats",
    "TotalDay",
    "UserFigures",
    "UserMonth",
    "Week",
    "build_year",
    "calendar_page",
    "colour",
    "day_of",
    "day_totals",
    "day_trades",
    "desk_overview",
    "export",
    "month_days",
    "open_positions",
    "overview",
    "period_stats",
    "shift",
    "snapshot_equity",
    "start_equity",
    "strong",
    "sync_balances",
    "zone",
]
