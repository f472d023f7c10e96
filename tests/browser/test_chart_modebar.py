"""The chart page's toolbar and console, as an analyst and a trader see them: the modebar offers
only local tools (no "share" to a public cloud, no Chart Studio link), and an analyst's chart, which
has no trade-block form, logs no callback error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from db.enums import Role
from engine.exchanges.demo import DemoExchange
from engine.runtime import Runtime
from tests.helpers.browser import NewPage, sign_in
from tests.helpers.dashboard import NOW, make_user, watch_backfilled

pytestmark = pytest.mark.browser
CHART_DRAWN = "(document.querySelector('#chart-graph .js-plotly-plot') || {}).data"
LOCAL_TOOLS = {
    "Download plot as a PNG",
    "Zoom",
    "Pan",
    "Zoom in",
    "Zoom out",
    "Autoscale",
    "Reset axes",
    "Draw line",
    "Draw rectangle",
    "Draw open freeform",
    "Erase active shape",
    "Box Select",
    "Lasso Select",
}


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """An analyst and a trader, each watching a backfilled BTC/USDT 1m."""
    fresh_database.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    analyst = make_user(fresh_database, "analyst", Role.ANALYST)
    trader = make_user(fresh_database, "trader", Role.TRADER)
    series = watch_backfilled(fresh_database, analyst.id)
    watch_backfilled(fresh_database, trader.id)
    fresh_database.sources.clear()
    return {"analyst": analyst.id, "trader": trader.id, "series": series.id}


def _open_chart(page: Page, base_url: str, username: str) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base_url, username, ready=CHART_DRAWN)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1_000)  # the first poll answered too
    return errors


@pytest.mark.parametrize("username", ["analyst", "trader"])
def test_the_modebar_offers_only_local_tools(new_page: NewPage, base_url: str, username: str) -> None:
    page = new_page()
    _open_chart(page, base_url, username)
    page.hover("#chart-graph .js-plotly-plot")
    titles = set(page.eval_on_selector_all(".modebar-btn", "els => els.map(e => e.getAttribute('data-title'))"))
    assert titles, "no modebar"
    assert titles <= LOCAL_TOOLS, titles - LOCAL_TOOLS
    assert not page.locator("a.modebar-btn[href], .modebar a[href*='plot.ly'], .modebar a[href*='plotly']").count()


def test_an_analysts_chart_logs_no_error(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    errors = _open_chart(page, base_url, "analyst")
    assert errors == []
