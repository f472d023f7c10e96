"""Reading the chart in headless Chromium (issue 10: items 1, 2, 6 and 7's reading parts): the time
axis follows new candles while the latest bar is in view and stays put once panned back; the price
axis fits the visible candles after every zoom, pan and new candle, and the wheel moves time only;
one-click timeframes from the stored pyramid, the symbol bar showing what the chart shows, and
the chart's state in a bookmarkable URL; the readout, last price and crosshair labels in the
market's precision and times in the user's timezone.

The demo exchange's clock is a list the tests move forward: each minute is a new forming candle.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from dash import Dash
from playwright.sync_api import Page, expect

from db.enums import Role
from engine.common.timeframes import floor_ts
from engine.exchanges.demo import DemoExchange
from engine.market import chart as charts
from engine.users.api import set_timezone
from tests.helpers.browser import NewPage, shot, sign_in, wait_for_js
from tests.helpers.dashboard import NOW, app_runtime, make_user, watch_backfilled

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 800}
GD = "document.querySelector('#chart-graph .js-plotly-plot')"
CLOCK = [NOW]
PARIS_MIDNIGHT = 1_706_742_000_000  # 2024-02-01 00:00 in Paris, 23:00 UTC the day before


@pytest.fixture(scope="module")
def desk(fresh_database) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A trader in Paris watching a backfilled BTC/USDT 1m."""
    fresh_database.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    trader = make_user(fresh_database, "trader", Role.TRADER)
    set_timezone(fresh_database, trader.id, "Europe/Paris")
    series = watch_backfilled(fresh_database, trader.id)
    fresh_database.sources.clear()
    return {"trader": trader.id, "series": series.id}


@pytest.fixture(autouse=True)
def moving_clock(app: Dash) -> None:
    """The app's demo exchange on a clock the test moves (back at NOW for each test)."""
    CLOCK[0] = NOW
    app_runtime(app).sources["demo"] = DemoExchange(seed=7, clock=lambda: CLOCK[0])
    app_runtime(app).forming.clear()


def x_range(page: Page) -> list[float]:
    return page.evaluate(f"(() => {{ const a = {GD}._fullLayout.xaxis; return a.range.map(a.r2l); }})()")


def y_range(page: Page) -> list[float]:
    return page.evaluate(f"{GD}._fullLayout.yaxis.range.slice()")


def visible_prices(page: Page) -> list[float]:
    """[lowest low, highest high] of the candles inside the x range."""
    return page.evaluate(
        f"""(() => {{
          const gd = {GD}, a = gd._fullLayout.xaxis, r = a.range.map(a.r2l), d = gd.data[0];
          let lo = Infinity, hi = -Infinity;
          d.x.forEach((x, i) => {{
            if (x >= r[0] && x <= r[1]) {{ lo = Math.min(lo, d.low[i]); hi = Math.max(hi, d.high[i]); }}
          }});
          return [lo, hi];
        }})()"""
    )


def candles(page: Page) -> int:
    return page.evaluate(f"({GD} && {GD}.data && {GD}.data[0].x) ? {GD}.data[0].x.length : 0")


def open_chart(new_page: NewPage, base_url: str, path: str = "/", dark: bool = False) -> Page:
    page = new_page(dark=dark)
    sign_in(page, base_url, "trader", path=path)
    wait_for_js(page, f"{GD} && {GD}.data && {GD}.data[0].x && {GD}.data[0].x.length > 0", timeout=20_000)
    wait_for_js(page, f"{GD}._fullLayout.xaxis.tickmode === 'array'", timeout=10_000)  # the reading is set up
    return page


def assert_fitted(page: Page) -> None:
    """The price axis holds the visible candles with a little padding, not the loaded ones."""
    lo, hi = visible_prices(page)
    y0, y1 = y_range(page)
    span = hi - lo
    assert y0 < lo, (y0, lo)
    assert y1 > hi, (y1, hi)
    assert lo - y0 <= 0.15 * span, (y0, lo, span)
    assert y1 - hi <= 0.15 * span, (y1, hi, span)


def test_the_time_axis_follows_new_candles_until_panned_back(new_page: NewPage, base_url: str) -> None:
    page = open_chart(new_page, base_url)
    wait_for_js(page, f"{GD}.data[0].x.at(-1) === {floor_ts(NOW, '1m')}", timeout=15_000)  # the live candle
    count = candles(page)
    expect(page.locator("#chart-count")).to_have_text(f"{count} candles")
    start, end = x_range(page)
    assert end >= floor_ts(NOW, "1m")  # the latest bar is in view
    CLOCK[0] = NOW + 60_000  # a new minute: a new candle
    wait_for_js(page, f"{GD}.data[0].x.length > {count}", timeout=15_000)
    wait_for_js(page, f"{GD}._fullLayout.xaxis.range.map({GD}._fullLayout.xaxis.r2l)[1] >= {end + 59_000}")
    new_start, new_end = x_range(page)
    assert new_end - end == pytest.approx(60_000, abs=1)
    assert new_start - start == pytest.approx(60_000, abs=1)
    expect(page.locator("#chart-count")).to_have_text(f"{candles(page)} candles")
    assert_fitted(page)

    # Panned back (a drag to the right): new candles arrive, the view stays.
    drag(page, 400)
    page.wait_for_timeout(1_500)  # the window re-read
    back = x_range(page)
    assert back[1] < new_end - 1_800_000
    CLOCK[0] = NOW + 120_000
    wait_for_js(page, f"{GD}.data[0].x.at(-1) >= {floor_ts(NOW + 120_000, '1m')}", timeout=15_000)
    page.wait_for_timeout(500)
    assert x_range(page) == pytest.approx(back, abs=1)
    page.context.close()


def plot_centre(page: Page) -> tuple[float, float]:
    box = page.locator("#chart-graph .nsewdrag").first.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def poll(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def drag(page: Page, dx: float) -> None:
    """A user's pan: the mouse dragged `dx` pixels across the plot."""
    x, y = plot_centre(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=8)
    page.mouse.up()


def test_the_price_axis_fits_the_visible_candles_and_the_wheel_zooms_time_only(
    new_page: NewPage, base_url: str
) -> None:
    page = open_chart(new_page, base_url)
    assert_fitted(page)

    # The wheel zooms in (time only: plotly's own relayout has no price axis in it), and the
    # price axis re-fits to the candles left in view; so does a pan.
    page.evaluate(
        f"window.__relayouts = []; {GD}.on('plotly_relayout', e => {{ if (!{GD}._tbOwn) window.__relayouts.push(e); }})"
    )
    before = x_range(page)
    page.mouse.move(*plot_centre(page))
    for _ in range(3):  # plotly drops wheel turns that come while it redraws (a loaded machine): more
        for _ in range(4):
            page.mouse.wheel(0, -200)
            page.wait_for_timeout(100)
        if poll(lambda: (lambda r: r[1] - r[0] < 0.8 * (before[1] - before[0]))(x_range(page)), 3):
            break
    wait_for_js(page, "window.__relayouts.length > 0", timeout=5_000)
    page.wait_for_timeout(1_000)
    after = x_range(page)
    assert after[1] - after[0] < 0.8 * (before[1] - before[0]), (before, after)
    events = page.evaluate("window.__relayouts")
    assert any(any(k.startswith("xaxis") for k in e) for e in events), events
    assert not any(k.startswith("yaxis") for e in events for k in e), events
    assert_fitted(page)
    for _ in range(3):  # a drag begun while plotly redraws (a loaded machine) may pan nothing: again
        drag(page, 250)
        if poll(lambda: x_range(page)[1] < after[1], 5):
            break
    assert x_range(page)[1] < after[1]
    page.wait_for_timeout(1_000)
    assert_fitted(page)

    # Dragging the price axis scales it by hand (and the auto-fit stops).
    axis = page.locator("#chart-graph .nsdrag").first.bounding_box()
    assert axis is not None
    before = y_range(page)
    page.mouse.move(axis["x"] + axis["width"] / 2, axis["y"] + axis["height"] / 2)
    page.mouse.down()
    page.mouse.move(axis["x"] + axis["width"] / 2, axis["y"] + axis["height"] / 2 + 80, steps=5)
    page.mouse.up()
    wait_for_js(page, f"{GD}._tbManual === true", timeout=5_000)
    scaled = y_range(page)
    assert scaled != pytest.approx(before)
    page.context.close()


def test_one_click_timeframes_change_the_chart_and_the_url_bookmarks_it(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    page = open_chart(new_page, base_url)
    buttons = page.locator("#chart-timeframes button")
    expect(buttons).to_have_text(["1m", "5m", "15m", "1h", "4h", "1d"])
    expect(page.locator("#bar-symbol")).to_contain_text("BTC/USDT")
    expect(page.locator("#bar-timeframe")).to_contain_text("1m")
    page.get_by_role("button", name="15m", exact=True).click()
    expect(page.locator("#chart-status")).to_contain_text("BTC/USDT · demo · 15m", timeout=10_000)
    wait_for_js(page, f"{GD}.data[0].x.every(x => x % 900000 === 0)", timeout=10_000)
    expect(page.locator("#bar-timeframe")).to_contain_text("15m")
    runtime = app_runtime(app)
    assert [e.timeframe for e in charts.watchlist(runtime, desk["trader"])] == ["1m"]  # no entry added
    wait_for_js(page, "location.search.includes('timeframe=15m') && location.search.includes('from=')")
    query = parse_qs(urlparse(page.url).query)
    assert (query["exchange"], query["symbol"], query["timeframe"]) == (["demo"], ["BTC/USDT"], ["15m"])
    shown = [int(query["from"][0]), int(query["to"][0])]
    assert shown == pytest.approx(x_range(page), abs=1)

    # The timeframe box changes the chart too, for a level the series stores.
    page.click("#bar-timeframe")
    page.get_by_role("option", name="1h", exact=True).click()
    expect(page.locator("#chart-status")).to_contain_text("BTC/USDT · demo · 1h", timeout=10_000)
    wait_for_js(page, "location.search.includes('timeframe=1h')")
    bookmark = page.url
    page.context.close()

    # The bookmark opens that series, timeframe and range (and adds no watchlist entry).
    path = bookmark[len(base_url) :]
    other = open_chart(new_page, base_url, path=path)
    expect(other.locator("#chart-status")).to_contain_text("BTC/USDT · demo · 1h", timeout=10_000)
    query = parse_qs(urlparse(bookmark).query)
    assert x_range(other) == pytest.approx([int(query["from"][0]), int(query["to"][0])], abs=1)
    expect(other.locator("#chart-timeframes .active")).to_have_text("1h")
    assert [e.timeframe for e in charts.watchlist(runtime, desk["trader"])] == ["1m"]
    other.context.close()


def test_a_live_update_that_answers_after_another_timeframe_is_drawn_is_dropped(
    new_page: NewPage, base_url: str
) -> None:
    """A live update asked for the 1m chart that answers after the 15m chart was drawn (a CI run saw
    it: the bar went back to 1m over a 15m chart, the 1m candles appended to it) changes nothing."""
    page = open_chart(new_page, base_url)
    held: list[Any] = []

    def hold_live(route: Any) -> None:
        body = json.loads(route.request.post_data or "{}")
        inputs = [i for i in body.get("inputs", []) if isinstance(i, dict)]  # an ALL input is a list
        if any(i.get("id") == "live-poll" for i in inputs) and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/_dash-update-component*", hold_live)
    wait_for_js(page, "true", timeout=1_000)
    CLOCK[0] = NOW + 60_000  # a new minute: the held update will bring a 1m candle
    deadline = time.monotonic() + 15
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert held, "a live update was asked for"
    page.get_by_role("button", name="15m", exact=True).click()
    expect(page.locator("#chart-status")).to_contain_text("BTC/USDT · demo · 15m", timeout=10_000)
    wait_for_js(page, f"{GD}.data[0].x.every(x => x % 900000 === 0)", timeout=10_000)
    with page.expect_response(
        lambda r: "update-component" in r.url and r.request.post_data == held[0].request.post_data
    ):
        held[0].continue_()
    page.unroute("**/_dash-update-component*")
    page.wait_for_timeout(500)  # the clientside guard has run
    assert page.evaluate(f"{GD}.data[0].x.every(x => x % 900000 === 0)"), "1m candles on the 15m chart"
    expect(page.locator("#bar-timeframe")).to_contain_text("15m")
    expect(page.locator("#chart-timeframes .active")).to_have_text("15m")
    page.context.close()


def test_the_readout_last_price_and_crosshair_read_in_the_markets_precision_and_the_users_zone(
    new_page: NewPage, base_url: str
) -> None:
    page = open_chart(new_page, base_url)
    wait_for_js(page, f"{GD}.data[0].x.at(-1) === {floor_ts(NOW, '1m')}", timeout=15_000)  # the live candle
    readout = page.locator("#chart-readout")
    expect(readout).to_contain_text("2024-02-01 01:00 Europe/Paris (UTC+01:00)")
    text = readout.inner_text()
    assert re.search(r"O \d{2},\d{3}\.\d{2} H \d{2},\d{3}\.\d{2} L \d{2},\d{3}\.\d{2} C \d{2},\d{3}\.\d{2}", text), text
    assert not re.search(r"\d[kM]\b", text)  # no SI suffix
    last = page.evaluate(f"{GD}.data[0].close.at(-1)")
    label = page.evaluate(f"{GD}.layout.annotations.find(a => a.name === 'last-price').text")
    assert label == f"{last:,.2f}"
    assert page.evaluate(f"{GD}.data[3].y") == [last, last]
    # Time ticks in Paris: its midnight is labelled with the date. They are set by a relayout after
    # the plot, which a figure update landing meanwhile undoes and the next plot sets again: wait.
    # Read in one snapshot: a redraw between two reads can leave the ticks' values without texts.
    both = f"[{GD}._fullLayout.xaxis2.tickvals, {GD}._fullLayout.xaxis2.ticktext]"
    wait_for_js(page, f"(([v, t]) => (v || []).includes({PARIS_MIDNIGHT}) && t && t.length === v.length)({both})")
    ticks = page.evaluate(both)
    assert dict(zip(*ticks, strict=True)).get(PARIS_MIDNIGHT) == "1 Feb", ticks
    assert all(re.fullmatch(r"\d{2}:\d{2}|\d{1,2} \w{3}", t) for t in ticks[1]), ticks

    # The crosshair: its price on the price axis, its candle's time (Paris) on the time axis.
    box = page.locator("#chart-graph .nsewdrag").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.3)
    price = page.locator(".tb-price-label")
    expect(price).to_be_visible()
    assert re.fullmatch(r"\d{2},\d{3}\.\d{2}", price.inner_text()), price.inner_text()
    expect(page.locator(".tb-time-label")).to_have_text(re.compile(r"^2024-0[12]-\d{2} \d{2}:\d{2}$"))
    hovered = int(readout.get_attribute("data-index") or -1)
    assert 0 <= hovered < candles(page) - 1  # the readout shows the candle under the cursor
    shot(page, "chart-reading-light")
    page.mouse.move(5, 5)
    expect(price).to_be_hidden()
    page.context.close()

    dark = open_chart(new_page, base_url, dark=True)
    dark.click("#theme-switch")
    wait_for_js(dark, "document.documentElement.getAttribute('data-bs-theme') === 'dark'")
    dark.wait_for_timeout(800)
    box = dark.locator("#chart-graph .nsewdrag").first.bounding_box()
    assert box is not None
    dark.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    shot(dark, "chart-reading-dark")
    dark.click("#theme-switch")  # back to light for the next sign-in
    dark.wait_for_timeout(300)
    dark.context.close()
