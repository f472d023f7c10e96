"""Bench: the PDF account report of a user-year (three trades a day, two symbols, setups and tags,
daily equity snapshots), against a naive report that reads its daily figures with one query per
day instead of the one bookings query.

Ours: `engine.reports.api.report_file(view="year")`: the calendar page's figures (one bookings
query + snapshots), group_stats by symbol and setup, the HTML with SVG charts and grids, WeasyPrint.
Baseline: the day's trades read with one `day_trades` query for each of the 365 days (what a report
that walks the calendar day by day does), then the same rendering. Target: <= 3 s a user-year.
The last line is baseline p50 / ours p50.

    .venv/bin/python -m bench.report [--quick]      (--quick: fewer runs)
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta

from bench._common import database_label, parse_args, percentiles, print_ratio, scratch_engine
from db.session import make_session_factory
from engine.portfolio import api as portfolio
from engine.reports import api as reports
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account
from tests.helpers.trading import add_user
from tests.reports.conftest import seed_year

YEAR = 2025
TARGET_S = 3.0
TODAY = date(YEAR + 1, 1, 10)


def baseline(runtime: Runtime, user_id: int) -> bytes:
    first = date(YEAR, 1, 1)
    for i in range(365):
        portfolio.day_trades(runtime, user_id, "UTC", first + timedelta(days=i))
    data = reports.gather(runtime, user_id, "year", first, TODAY)
    return reports.render(data)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    runs = 3 if args.quick else 10
    with scratch_engine() as engine:
        print(database_label(engine))
        runtime = Runtime(None, engine, make_session_factory(engine))  # type: ignore[arg-type]
        started = time.perf_counter()
        uid = add_user(runtime.sessions, "bench")
        seed_year(runtime, uid, add_account(runtime.sessions, uid), YEAR, per_day=3, step=1)
        print(f"1 user-year of trades written in {time.perf_counter() - started:.1f} s")
        _, pdf = reports.report_file(runtime, uid, "year", date(YEAR, 1, 1), TODAY)
        print(f"report: {len(pdf):,} bytes")
        ours = percentiles(lambda: reports.report_file(runtime, uid, "year", date(YEAR, 1, 1), TODAY), runs)
        base = percentiles(lambda: baseline(runtime, uid), runs)
        print(f"ours:     p50 {ours[0]:.2f} s   p95 {ours[1]:.2f} s   ({runs} calls)")
        print(f"baseline: p50 {base[0]:.2f} s   p95 {base[1]:.2f} s   ({runs} calls)")
        print(f"target: p95 <= {TARGET_S:.0f} s: {'met' if ours[1] <= TARGET_S else 'NOT met'}")
        print_ratio(base[0], ours[0])
    sys.stdout.flush()


if __name__ == "__main__":
    main()
