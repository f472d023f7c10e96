"""Equity at the start of given trading days, as the calendar computes it (snapshots bridged with
the realized P&L, engine.portfolio.bookings.start_equity): what a trade's P&L in % is a share of,
for the pages that list trades outside a calendar (the journal)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from engine.portfolio.periods import load_period
from engine.runtime import Runtime


def equity_at_day_start(
    runtime: Runtime, user_id: int, tz: str, days: Iterable[date], account_id: int | None = None
) -> dict[date, Decimal | None]:
    """Equity at the start of each of `days` in the user's timezone, of their live and paper
    accounts or of `account_id` alone (a replay's own); None where no snapshot says."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    period = load_period(runtime, user_id, tz, wanted[0], wanted[-1], account_id)
    return {d: period.equity.get(d) for d in wanted}
