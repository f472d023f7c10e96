"""The admins' desk overview in headless Chromium on seeded trades: activity cards, each user's
row (volume and P&L to the cent), the chart of the desk's P&L over time, the empty state of a
period without trades, and a trader refused the page. TRADEBLOCK_SCREENSHOTS=1 saves it light
and dark (admin-overview-light.png / -dark.png)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dash import Dash
from playwright.sync_api import expect

from db.enums import Role
from engine.runtime import Runtime
from engine.users.directory import set_theme
from pages.components.calendar_page import today_for
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import make_user
from tests.helpers.portfolio import add_account, add_replay_account, add_trade, ms

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """An admin and two traders with trades in the last days (prices give P&L with cents); tina's
    backtest made +500 on a replay account, which no figure of the overview counts."""
    runtime = fresh_database
    users = {name: make_user(runtime, name, role).id for name, role in
             (("admin", Role.ADMIN), ("tina", Role.TRADER), ("bob", Role.TRADER))}  # fmt: skip
    today = today_for("UTC")
    for name, trades in (("tina", [(3, "112.345"), (2, "96.5")]), ("bob", [(1, "104.125")])):
        account = add_account(runtime.sessions, users[name])
        for back, price in trades:
            at = ms(f"{today - timedelta(days=back):%Y-%m-%d} 10:00")
            add_trade(runtime.sessions, users[name], account, at - 3_600_000, [(at, price)], risk="20")
    replay = add_replay_account(runtime.sessions, users["tina"])
    at = ms(f"{today - timedelta(days=2):%Y-%m-%d} 12:00")
    add_trade(runtime.sessions, users["tina"], replay, at - 3_600_000, [(at, "600")])
    return users


def test_the_overview_shows_activity_users_and_the_pnl_chart(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    page = new_page()
    sign_in(page, base_url, "admin", "/")
    page.click("#nav-admin-overview")
    expect(page.locator("#ov-active-day")).to_have_text("1", timeout=15_000)  # the admin, just now
    expect(page.locator("#ov-users")).to_have_text("3 enabled")
    expect(page.locator("#ov-user-tina")).to_contain_text("+8.85")  # 12.345 - 3.5, to the cent
    expect(page.locator("#ov-user-tina")).to_contain_text("408.85 USDT")  # 200 in + 208.845 out, half up
    expect(page.locator("#ov-user-bob")).to_contain_text("+4.13")
    expect(page.locator("#ov-user-tina")).to_contain_text("never")
    expect(page.locator("#ov-total-pnl")).to_have_text("+12.97")  # not the replay's +500
    expect(page.locator("#ov-scope")).to_contain_text("replays and backtests are not counted")
    expect(page.locator("#ov-chart .bars path")).to_have_count(30, timeout=10_000)  # a bar a day of the 30
    shot(page, "admin-overview-light")
    page.context.close()

    runtime = app.server.config["TRADEBLOCK_RUNTIME"]
    set_theme(runtime, desk["admin"], "dark")
    try:
        dark = new_page()
        sign_in(dark, base_url, "admin", "/admin/overview")
        assert dark.get_attribute("html", "data-bs-theme") == "dark"
        expect(dark.locator("#ov-total-pnl")).to_have_text("+12.97", timeout=15_000)
        expect(dark.locator("#ov-chart .bars path")).to_have_count(30, timeout=10_000)  # a bar a day of the 30
        shot(dark, "admin-overview-dark")
        dark.context.close()
    finally:
        set_theme(runtime, desk["admin"], "light")


def test_a_trader_has_no_overview_link_and_is_refused_the_page(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "tina", "/")
    assert page.locator("#nav-admin-overview").count() == 0
    response = page.goto(base_url + "/admin/overview")
    assert response is not None
    assert response.status == 403
    page.context.close()
