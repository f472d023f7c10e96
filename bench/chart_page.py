"""Bench: the chart page in headless Chromium against a page that sends the raw year in one figure.

One year of 1m candles (quick: 30 days) is stored with its rollups and put on a user's watchlist;
the real app (engine off) is served on a local port. Measured, from navigation (page.goto) to the
candlestick trace holding data and its candles painted: ours (the chart page, which draws the
newest candles and reads more on zoom) and the baseline (a tiny Dash app in this file whose layout
reads every 1m row of the series and sends them in one dcc.Graph figure). Then the bytes of one
live update (the /_dash-update-component answer of the live-poll callback, caught with
page.on("response")): the forming candle moving and a new one appended. And the server's part of
adding an indicator to the year view: engine.market.api's point-budgeted read of the whole year
plus its indicator compute, per indicator. Targets (issue 10): first candles <= 800 ms median, a
live update <= 5 KB, an indicator <= 100 ms. The last line is the first-candles speed-up
(baseline median / ours median).

    .venv/bin/python -m bench.chart_page [--quick] [--baseline-candles N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine, text

from app import create_app
from bench._common import (
    MINUTE,
    T0,
    app_database_url,
    database_label,
    make_series,
    percentiles,
    print_ratio,
    scratch_engine,
    synthetic_candles,
)
from db.enums import BackfillStatus, Role
from db.models import Series, Watch
from db.session import make_session_factory
from engine.config import load_settings
from engine.market import api as market
from engine.market.api import ingest_candles
from engine.users.api import add_user
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, serve, wait_for_js

DAY = 1_440 * MINUTE
USER, PASSWORD = "bench", "bench password 1"
VIEWPORT = {"width": 1280, "height": 800}
PAINT_TARGET_MS, INDICATOR_TARGET_MS = 800, 100  # issue 10's targets (the live update's is 5 KB)
# Drawn: the figure's first trace holds candles and plotly painted their paths.
# An expression, not a function: wait_for_js polls Boolean(DRAWN_JS), and a function is always truthy
# (the bench then timed nothing and read the graph before the page had drawn it).
DRAWN_JS = """(() => {
    const gd = document.querySelector('#chart-graph .js-plotly-plot');
    const trace = gd && gd.data && gd.data[0];
    return !!(trace && trace.type === 'candlestick' && trace.x && trace.x.length > 0
        && gd.querySelector('.boxlayer path'));
})()"""
CANDLES_JS = "document.querySelector('#chart-graph .js-plotly-plot').data[0].x.length"


class BenchFeed:
    """The series' exchange for the app: a clock half a minute into the candle after the stored
    ones, and that forming candle (what a live poll appends)."""

    id = "bench"

    def __init__(self, now_ms: int, last_close: float) -> None:
        self.now_ms, self.last_close = now_ms, last_close

    def milliseconds(self) -> int:
        return self.now_ms

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list[list[float]]:
        opens = self.now_ms - self.now_ms % MINUTE
        price = self.last_close
        return [[opens, price, price * 1.0005, price * 0.9995, price * 1.0002, 3.0]]


def store_year(engine: Engine, count: int) -> tuple[int, float, float]:
    """Store `count` 1m candles with rollups on a watched series; (user id, seconds, last close)."""
    series_id = make_series(engine)
    arr = synthetic_candles(count)
    start = time.perf_counter()
    with engine.begin() as conn:
        ingest_candles(conn, series_id, "1m", arr)
    elapsed = time.perf_counter() - start
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.get(Series, series_id).backfill_status = BackfillStatus.DONE
    return series_id, elapsed, float(arr[-1, 4])


def watch(runtime: Any, series_id: int) -> int:
    """The bench user, watching the series; its id."""
    user = add_user(runtime, USER, PASSWORD, Role.TRADER)
    with runtime.sessions.begin() as session:
        session.add(Watch(user_id=user.id, series_id=series_id))
    return user.id


def indicator_times(runtime: Any, user_id: int, series_id: int, repeat: int) -> dict[str, tuple[float, float]]:
    """(p50, p95) seconds per indicator of adding it to the year view: the chart's point-budgeted
    read of everything stored (what a zoom-out to the year shows) plus the indicator's compute,
    both through engine.market.api (the server's part; the figure's trace is not built here)."""
    window = market.stored_window(runtime, user_id, series_id)
    assert window is not None

    def add(name: str) -> Callable[[], object]:
        def run() -> object:
            candles = market.chart_candles(runtime, user_id, series_id, window.start_ms, window.end_ms)
            return market.compute(name, candles)

        return run

    return {name: percentiles(add(name), repeat) for name in market.INDICATORS}


def baseline_app(engine: Engine, series_id: int, limit: int) -> Any:
    """A one-graph Dash app whose layout sends the newest `limit` raw 1m candles in one figure."""
    import plotly.graph_objects as go
    from dash import Dash, dcc, html

    query = text(
        "SELECT ts, open, high, low, close FROM candles WHERE series_id = :sid AND tf_ms = :tf "
        "ORDER BY ts DESC LIMIT :limit"
    )

    def layout() -> Any:
        with engine.connect() as conn:
            rows = conn.execute(query, {"sid": series_id, "tf": MINUTE, "limit": limit}).all()[::-1]
        ts, o, h, lo, c = (list(col) for col in zip(*rows, strict=True))
        figure = go.Figure(go.Candlestick(x=ts, open=o, high=h, low=lo, close=c))
        figure.update_layout(xaxis={"type": "date", "rangeslider": {"visible": False}})
        return html.Div(dcc.Graph(id="chart-graph", figure=figure, style={"height": "68vh"}))

    app = Dash(__name__, title="baseline")
    app.layout = layout
    return app


def time_to_candles(page: Page, url: str, timeout_s: float) -> float:
    start = time.perf_counter()
    # The baseline's server builds its year-long figure before the first byte: past goto's 30 s default.
    page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
    wait_for_js(page, DRAWN_JS, timeout=timeout_s * 1000)
    return time.perf_counter() - start


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#nav-username", timeout=30_000)


def measure(browser: Browser, prepare: Callable[[Page], None], url: str, runs: int, timeout_s: float) -> list[float]:
    """Seconds to candles of `runs` navigations, each in a fresh page of one signed-in context
    (the browser cache warm after the first, as for a returning user)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    prepare(page)
    samples = []
    for _ in range(runs):
        samples.append(time_to_candles(page, url, timeout_s))
    context.close()
    return samples


def live_update_bytes(browser: Browser, base_url: str) -> tuple[int, str]:
    """Bytes of the first live-poll answer that carries candles, and its body."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, base_url)
    answers: list[Any] = []

    def on_response(response: Any) -> None:
        # Dash adds a query string (?endId=...) to callback requests.
        callback = "/_dash-update-component" in response.url and response.status == 200
        posted = response.request.post_data or ""
        # Other callbacks (the block overlays) poll too: keep the chart's own answers.
        if callback and '"live-poll"' in posted and "chart-graph.figure" in posted:
            answers.append(response)

    page.on("response", on_response)
    page.goto(base_url + "/")
    wait_for_js(page, DRAWN_JS, timeout=60_000)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        for answer in answers:
            body = answer.body()
            # The first answer that patches the figure (on a busy machine one may carry the view alone).
            if "operations" in json.loads(body)["response"].get("chart-graph", {}).get("figure", {}):
                context.close()
                return len(body), body.decode()
        answers.clear()
    raise SystemExit("no live update of the figure arrived within 30 s")


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def fmt(samples: list[float]) -> str:
    median, first, worst = (x * 1e3 for x in (statistics.median(samples), samples[0], max(samples)))
    return f"median {median:7.0f} ms (first {first:.0f}, max {worst:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller size that finishes within a minute")
    parser.add_argument("--baseline-candles", type=int, help="candles the baseline sends (default: all stored)")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    days = 30 if args.quick else 365
    runs, baseline_runs = (3, 1) if args.quick else (15, 3)
    count = days * DAY // MINUTE
    with scratch_engine() as engine, tempfile.TemporaryDirectory(prefix="tradeblock-bench-") as instance:
        print(f"database: {database_label(engine)}")
        series_id, stored_s, last_close = store_year(engine, count)
        print(f"stored {count:,} 1m candles with rollups in {stored_s:.1f} s")
        env = {
            "DATABASE_URL": app_database_url(engine),
            "TRADEBLOCK_INSTANCE_DIR": instance,
            "SECRET_KEY": "bench-secret-key-bench-secret-key",
            "TRADEBLOCK_ENGINE": "off",
            "TRADEBLOCK_LOG_LEVEL": "WARNING",
        }
        app = create_app(load_settings(env), start_engine=False, secure_cookies=False)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        runtime = app.server.config["TRADEBLOCK_RUNTIME"]
        runtime.sources["bench"] = BenchFeed(T0 + count * MINUTE + 30_000, last_close)
        user_id = watch(runtime, series_id)
        year = market.chart_candles(runtime, user_id, series_id, T0, T0 + count * MINUTE)
        indicators = indicator_times(runtime, user_id, series_id, 20 if args.quick else 50)
        worst_indicator = max(p95 for _p50, p95 in indicators.values())
        for name, (p50, p95) in indicators.items():
            print(
                f"indicator {name}: read of all stored ({len(year)} x {year.timeframe}) + compute"
                f" p50 {p50 * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms"
            )
        limit = min(args.baseline_candles or count, count)
        baseline = baseline_app(engine, series_id, limit)
        with sync_playwright() as playwright, serve(app.server) as ours_url, serve(baseline.server) as base_url:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ours = measure(browser, lambda page: sign_in(page, ours_url), ours_url + "/", runs, 60)
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            sign_in(page, ours_url)
            page.goto(ours_url + "/")
            wait_for_js(page, DRAWN_JS, timeout=60_000)
            drawn = page.evaluate(CANDLES_JS)
            context.close()
            print(f"ours: first candles {fmt(ours)} over {runs} loads; {drawn} candles drawn")
            size, body = live_update_bytes(browser, ours_url)
            patched = json.loads(body)["response"]["chart-graph"]["figure"]
            print(f"ours: one live update {size:,} bytes ({len(patched['operations'])} patch operations)")
            base = measure(browser, lambda page: None, base_url + "/", baseline_runs, 600)
            label = f"baseline ({limit:,} raw 1m candles in one figure)"
            print(f"{label}: first candles {fmt(base)} over {baseline_runs} loads")
            browser.close()
        paint_ms, indicator_ms = statistics.median(ours) * 1e3, worst_indicator * 1e3
        print(
            f"targets: first candles <= {PAINT_TARGET_MS} ms: {met(paint_ms <= PAINT_TARGET_MS)};"
            f" live update <= 5 KB: {met(size <= 5_000)};"
            f" an indicator on the year view <= {INDICATOR_TARGET_MS} ms: {met(indicator_ms <= INDICATOR_TARGET_MS)}"
        )
        # The machine is shared: a busy one slows the page (and the baseline) down.
        print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print_ratio(statistics.median(base), statistics.median(ours))


if __name__ == "__main__":
    sys.exit(main())
