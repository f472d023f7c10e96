"""The P&L calendar pages in headless Chromium on seeded trades: values and colours of the month
grid, a day's trades on click, the units switch, the year view, the admins' overview of every user,
a trader refused the overview, and the account picker: tina's replay account is left out of her
default figures (and of the overview), shown alone when picked or opened by `?account=<id>`.
TRADEBLOCK_SCREENSHOTS=1 saves the calendar (month and year, light and dark, and one account) and
the overview there (docs/screenshots/ in the repository).

The trades are seeded in the month before the current one (all in the past whenever the test runs);
the page opens on the current month and is moved back once.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from dash import Dash
from playwright.sync_api import Page, expect

from db.enums import Role
from engine.portfolio import calendar as cal
from engine.runtime import Runtime
from engine.users.directory import set_theme
from pages.components.calendar_accounts import ALL_LABEL, NOT_YOURS
from pages.components.calendar_page import today_for
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import make_user
from tests.helpers.portfolio import add_account, add_close, add_replay_account, add_trade, ms

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 900}
D = Decimal
# (day of the seeded month, exit price) of 1-unit long trades entered at 100: P&L = price - 100.
TINA_TRADES = [(3, "220"), (4, "60"), (10, "130"), (17, "60"), (17, "80"), (24, "115"), (24, "101")]
BOB_TRADES = [(5, "150"), (12, "90")]
# Tina's backtest on a 1,000 USDT replay account: +50 on the 6th (+5.00% of 1,000), -20 on the 13th.
REPLAY_TRADES = [(6, "150"), (13, "80")]


def background_trades(month: date) -> list[tuple[date, str]]:
    """Trades on some days of the year's earlier months (a fuller year view): (day, exit price)."""
    out, day = [], date(month.year, 1, 1)
    while day < month:
        n = day.toordinal()
        if (n * 7) % 10 < 4:
            out.append((day, str(100 + (n * 37) % 41 - 18)))
        day += timedelta(days=1)
    return out


def seeded_month() -> date:
    first_of_this = today_for("UTC").replace(day=1)
    return (first_of_this - timedelta(days=1)).replace(day=1)


def _seed(runtime: Runtime, user_id: int, trades: list[tuple[int, str]], month: date, earlier: bool = False) -> int:
    account = add_account(runtime.sessions, user_id)
    add_close(runtime.sessions, user_id, account, month - timedelta(days=1), "10000")
    _book(runtime, user_id, account, trades, month, earlier)
    return account


def _book(runtime: Runtime, user_id: int, account: int, trades: list[tuple[int, str]], month: date,
          earlier: bool = False) -> None:  # fmt: skip
    days = [(month.replace(day=day), price) for day, price in trades]
    for day, price in (background_trades(month) if earlier else []) + days:
        at = ms(f"{day:%Y-%m-%d} 10:00")
        add_trade(runtime.sessions, user_id, account, at - 3_600_000, [(at, price)], risk="20")


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """An admin, two traders with seeded trades (tina's also in the year's earlier months, and a
    backtest's on her replay account), an analyst; and the ids of tina's replay and bob's account."""
    runtime_session = fresh_database
    month = seeded_month()
    users = {
        "admin": make_user(runtime_session, "admin", Role.ADMIN).id,
        "tina": make_user(runtime_session, "tina", Role.TRADER).id,
        "bob": make_user(runtime_session, "bob", Role.TRADER).id,
        "analyst": make_user(runtime_session, "analyst", Role.ANALYST).id,
    }
    _seed(runtime_session, users["tina"], TINA_TRADES, month, earlier=True)
    users["bob_account"] = _seed(runtime_session, users["bob"], BOB_TRADES, month)
    users["tina_replay"] = add_replay_account(runtime_session.sessions, users["tina"], "Backtest #3", "1000")
    _book(runtime_session, users["tina"], users["tina_replay"], REPLAY_TRADES, month)
    return users


def open_seeded_month(page: Page, base_url: str, username: str, prefix: str = "cal") -> date:
    month = seeded_month()
    title = f"{month:%B %Y}"
    expect(page.locator(f"#{prefix}-title")).not_to_be_empty(timeout=15_000)
    page.click(f"#{prefix}-prev")
    expect(page.locator(f"#{prefix}-title")).to_have_text(title, timeout=10_000)
    return month


def box(page: Page, day: date, kind: str = "cal-day"):  # type: ignore[no-untyped-def]
    return page.locator(f'[id=\'{{"day":"{day.isoformat()}","type":"{kind}"}}\']')


def test_the_month_shows_each_days_pnl_trades_and_colour(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "tina", "/calendar")
    month = open_seeded_month(page, base_url, "tina")
    scale = cal.robust_scale([D(120), D(-40), D(30), D(-60), D(16)])  # the month's five trading days
    assert scale == D(120)
    expected = {3: ("+120.00", "1 trade", D(120)), 4: ("-40.00", "1 trade", D(-40)), 17: ("-60.00", "2 trades", D(-60))}
    for day, (pnl, trades, value) in expected.items():
        cell = box(page, month.replace(day=day))
        expect(cell).to_contain_text(pnl, timeout=10_000)
        expect(cell).to_contain_text(trades)
        style = cell.get_attribute("style") or ""
        assert f"background-color: {cal.colour(cal.intensity(value, scale))}" in style, style
    # % of the day's starting equity: 10000 at the start of day 3, 10120 at the start of day 4.
    expect(box(page, month.replace(day=3))).to_contain_text("+1.20%")
    expect(box(page, month.replace(day=4))).to_contain_text("-0.40%")
    neutral = box(page, month.replace(day=5))
    assert "background-color" not in (neutral.get_attribute("style") or "")
    expect(page.locator("#cal-month-total")).to_have_text("+66.00")
    expect(page.locator("#cal-win-days")).to_have_text("3 win days")
    expect(page.locator("#cal-loss-days")).to_have_text("2 loss days")
    expect(page.locator("#stat-net")).to_contain_text("+66.00")
    expect(page.locator("#stat-trades")).to_contain_text("7")
    shot(page, "calendar-month-light")

    # Clicking a day lists its trades with their blocks, entries, exits and P&L.
    box(page, month.replace(day=17)).click()
    expect(page.locator("#cal-day-trades tbody tr")).to_have_count(2, timeout=10_000)
    expect(page.locator("#cal-day-trades")).to_contain_text("BTC/USDT")
    expect(page.locator("#cal-day-trades")).to_contain_text("-40.00")
    expect(page.locator("#cal-day-trades")).to_contain_text("-2.00R")  # -40 / 20

    # The units switch: R multiples (P&L / risk 20).
    page.click("#cal-mode label:has-text('R')")
    expect(box(page, month.replace(day=3))).to_contain_text("+6.00R", timeout=10_000)
    expect(page.locator("#stat-net")).to_contain_text("+3.30R")  # the statistics follow: 66 / 20
    expect(page.locator("#stat-largest-win")).to_contain_text("+6.00R")
    page.context.close()


def test_the_week_and_year_views_and_the_dark_month_show_the_seeded_totals(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    runtime = app.server.config["TRADEBLOCK_RUNTIME"]
    page = new_page()
    sign_in(page, base_url, "tina", "/calendar")
    month = open_seeded_month(page, base_url, "tina")
    page.click("#cal-view label:has-text('Week')")
    monday = cal.week_start(month)  # the anchor is the month's first day
    expect(page.locator("#cal-title")).to_have_text(f"Week of {monday:%d %b %Y}", timeout=10_000)
    expect(page.locator("#cal-week-grid .cal-day")).to_have_count(7)
    shot(page, "calendar-week-light")
    page.click("#cal-view label:has-text('Year')")
    expect(page.locator("#cal-title")).to_have_text(str(month.year), timeout=10_000)
    year_total = 66 + sum(int(price) - 100 for _, price in background_trades(month))
    expect(page.locator("#cal-year-total")).to_have_text(f"{year_total:+,.2f}")
    mini = box(page, month.replace(day=3))
    assert "background-color: rgba(25, 135, 84" in (mini.get_attribute("style") or "")
    shot(page, "calendar-year-light")
    page.context.close()

    set_theme(runtime, desk["tina"], "dark")
    try:
        dark = new_page()
        sign_in(dark, base_url, "tina", "/calendar")
        assert dark.get_attribute("html", "data-bs-theme") == "dark"
        open_seeded_month(dark, base_url, "tina")
        expect(dark.locator("#cal-month-total")).to_have_text("+66.00")
        shot(dark, "calendar-month-dark")
        dark.click("#cal-view label:has-text('Year')")
        expect(dark.locator("#cal-year-total")).to_be_visible(timeout=10_000)
        shot(dark, "calendar-year-dark")
        dark.context.close()
    finally:
        set_theme(runtime, desk["tina"], "light")


def test_the_admin_overview_shows_every_users_month_and_any_users_calendar(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    runtime = app.server.config["TRADEBLOCK_RUNTIME"]
    page = new_page()
    sign_in(page, base_url, "admin", "/")
    page.click("#nav-admin-calendar")
    open_seeded_month(page, base_url, "admin", prefix="adm-cal")
    for name in ("admin", "analyst", "bob", "tina"):
        expect(page.locator(f"#overview-{name}")).to_be_visible()
    expect(page.locator("#overview-tina")).to_contain_text("+66.00")
    expect(page.locator("#overview-bob")).to_contain_text("+40.00")
    expect(page.locator("#overview-total")).to_have_text("+106.00")
    # Any user's calendar: pick tina.
    page.select_option("#adm-cal-user", label="tina")
    expect(page.locator("#adm-cal-user-title")).to_contain_text("tina", timeout=10_000)
    expect(page.locator("#cal-month-total")).to_have_text("+66.00")
    shot(page, "admin-calendar-light")
    box(page, seeded_month().replace(day=24), "adm-cal-day").click()
    expect(page.locator("#cal-day-trades tbody tr")).to_have_count(2, timeout=10_000)
    with page.expect_download(timeout=30_000) as pdf:  # the chosen user's report
        page.click("#adm-cal-report")
    assert pdf.value.suggested_filename.startswith("tradeblock-report-")
    doc = pypdfium2.PdfDocument(Path(pdf.value.path()).read_bytes())
    assert "Trader tina" in doc[0].get_textpage().get_text_range()
    doc.close()
    page.context.close()

    set_theme(runtime, desk["admin"], "dark")
    try:
        dark = new_page()
        sign_in(dark, base_url, "admin", "/admin/calendar")
        assert dark.get_attribute("html", "data-bs-theme") == "dark"
        open_seeded_month(dark, base_url, "admin", prefix="adm-cal")
        expect(dark.locator("#overview-total")).to_have_text("+106.00")
        shot(dark, "admin-calendar-dark")
        dark.context.close()
    finally:
        set_theme(runtime, desk["admin"], "light")


def test_a_trader_has_no_overview_link_and_is_refused_the_overview_page(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "tina", "/")
    expect(page.locator("#nav-calendar")).to_be_visible()
    assert page.locator("#nav-admin-calendar").count() == 0
    response = page.goto(base_url + "/admin/calendar")
    assert response is not None
    assert response.status == 403
    page.context.close()


def test_the_account_picker_and_the_address_bar_show_a_replay_account_alone(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    replay = desk["tina_replay"]
    page = new_page()
    sign_in(page, base_url, "tina", "/calendar")
    month = open_seeded_month(page, base_url, "tina")
    picker = page.locator("#cal-account")
    expect(picker.locator("option:checked")).to_have_text(ALL_LABEL)
    expect(page.locator("#cal-month-total")).to_have_text("+66.00")  # the replay's +30 is not in it
    labels = [t for t in picker.locator("option").all_text_contents() if t]  # dbc.Select's blank placeholder left out
    assert labels == [ALL_LABEL, "paper · demo · paper", "Backtest #3 · replay"]

    page.select_option("#cal-account", label="Backtest #3 · replay")
    expect(page.locator("#cal-month-total")).to_have_text("+30.00", timeout=10_000)
    assert page.url.endswith(f"/calendar?account={replay}")  # bookmarkable
    expect(box(page, month.replace(day=6))).to_contain_text("+50.00")
    expect(box(page, month.replace(day=6))).to_contain_text("+5.00%")  # of the 1,000 it started with
    expect(box(page, month.replace(day=13))).to_contain_text("-1.90%")  # -20 of 1,050
    expect(page.locator("#stat-trades")).to_contain_text("2")
    expect(page.locator("#stat-net")).to_contain_text("+30.00")
    box(page, month.replace(day=13)).click()
    expect(page.locator("#cal-day-trades tbody tr")).to_have_count(1, timeout=10_000)
    expect(page.locator("#cal-day-trades")).to_contain_text("-20.00")
    shot(page, "calendar-account-light")
    page.select_option("#cal-account", label=ALL_LABEL)
    expect(page.locator("#cal-month-total")).to_have_text("+66.00", timeout=10_000)
    assert page.url.endswith("/calendar")
    page.context.close()

    # The address bar picks the account (the backtest page links there), in the dark theme too.
    runtime = app.server.config["TRADEBLOCK_RUNTIME"]
    set_theme(runtime, desk["tina"], "dark")
    try:
        dark = new_page()
        sign_in(dark, base_url, "tina", f"/calendar?account={replay}")
        expect(dark.locator("#cal-account option:checked")).to_have_text("Backtest #3 · replay")
        open_seeded_month(dark, base_url, "tina")
        expect(dark.locator("#cal-month-total")).to_have_text("+30.00")
        shot(dark, "calendar-account-dark")
        # Someone else's account in the address bar: a word at the field, her own default figures.
        dark.goto(base_url + f"/calendar?account={desk['bob_account']}")
        expect(dark.locator("#cal-account-note")).to_have_text(NOT_YOURS)
        expect(dark.locator("#cal-account option:checked")).to_have_text(ALL_LABEL)
        open_seeded_month(dark, base_url, "tina")
        expect(dark.locator("#cal-month-total")).to_have_text("+66.00")
        dark.context.close()
    finally:
        set_theme(runtime, desk["tina"], "light")
