"""The settings page, served by the real Dash app and driven in headless Chromium: open a paper
account, add a live one (its secret never reaches the page), switch live trading on through the
confirmation, change the timezone, change the password and sign in with it. With
TRADEBLOCK_SCREENSHOTS=1, light and dark screenshots of the page are saved there.
"""

from __future__ import annotations

import re

import pytest
from dash import Dash
from playwright.sync_api import Page, expect

from db.enums import Role
from engine.runtime import Runtime
from engine.users import settings as acc
from engine.users.directory import load_user, set_theme
from engine.users.passwords import MIN_PASSWORD
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import PASSWORD, app_runtime, make_user

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 900}
API_KEY, API_SECRET, PASSPHRASE = "browser-key-000-9876", "browser-secret-never-on-the-page", "browser-pass"
NEW_PASSWORD = "a fresh long password"


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """A trader and an analyst, nothing else."""
    runtime_session = fresh_database
    trader = make_user(runtime_session, "trader", Role.TRADER)
    analyst = make_user(runtime_session, "analyst", Role.ANALYST)
    return {"trader": trader.id, "analyst": analyst.id}


def pick(page: Page, dropdown: str, typed: str, option: str) -> None:
    page.click(dropdown)
    # Dash 4 focuses the selected option of a dropdown with a value, not its search box.
    page.get_by_placeholder("Search").fill(typed)
    page.get_by_role("option", name=option, exact=True).click()


def live_account(app: Dash, user_id: int) -> acc.AccountView:
    return next(a for a in acc.list_accounts(app_runtime(app), user_id) if a.name == "Binance main")


def test_a_trader_opens_a_paper_account_and_sees_it_listed(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    page.goto(base_url + "/")
    page.fill("#username", "trader")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.click("#nav-settings")
    page.wait_for_selector("#accounts-table")
    page.fill("#paper-name", "Paper desk")
    page.fill("#paper-balance", "2500")
    page.click("#paper-open")
    expect(page.locator("#accounts-alert")).to_have_text("Opened paper account Paper desk (2,500.00 USDT).")
    expect(page.locator("#accounts")).to_contain_text("Paper desk")
    expect(page.locator("#accounts")).to_contain_text("2,500.00 USDT")
    expect(page.locator("#paper-name")).to_have_value("")
    page.context.close()


def test_a_live_account_is_added_its_secret_never_shown_and_switched_on_after_confirming(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", "/settings")
    page.fill("#live-name", "Binance main")
    pick(page, "#live-exchange", "binance", "binance")
    page.fill("#live-key", API_KEY)
    page.fill("#live-secret", API_SECRET)
    page.fill("#live-passphrase", PASSPHRASE)
    page.click("#live-add")
    expect(page.locator("#accounts-alert")).to_have_text(
        "Added live account Binance main on binance; live trading is off."
    )
    row = page.locator("#accounts tr", has_text="Binance main")
    expect(row).to_contain_text("key ••••9876")
    expect(row).to_contain_text("off")
    for field in ("#live-key", "#live-secret", "#live-passphrase"):
        expect(page.locator(field)).to_have_value("")
    html = page.content()
    assert API_SECRET not in html
    assert PASSPHRASE not in html
    assert API_KEY not in html
    page.reload()
    page.wait_for_selector("#accounts")
    assert API_SECRET not in page.content()

    # Live trading: the switch asks first; Cancel leaves it off, Switch on turns it on.
    switch = row.locator("input[type=checkbox]")
    switch.click()
    expect(page.locator("#live-confirm-modal")).to_be_visible()
    expect(page.locator("#live-confirm-text")).to_contain_text("real orders with real money")
    page.click("#live-confirm-no")
    expect(page.locator("#live-confirm-modal")).to_be_hidden()
    expect(row.locator("input[type=checkbox]")).not_to_be_checked()
    assert not live_account(app, desk["trader"]).live_enabled
    row.locator("input[type=checkbox]").click()
    page.click("#live-confirm-yes")
    expect(page.locator("#accounts-alert")).to_have_text("Live trading is on for Binance main.")
    expect(row.locator("input[type=checkbox]")).to_be_checked()
    assert live_account(app, desk["trader"]).live_enabled
    page.wait_for_timeout(300)  # the modal's fade
    shot(page, "settings-light")
    page.context.close()


def test_the_settings_page_opens_dark_for_a_user_with_the_dark_theme(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    set_theme(app_runtime(app), desk["trader"], "dark")
    page = new_page()
    sign_in(page, base_url, "trader", "/settings")
    assert page.get_attribute("html", "data-bs-theme") == "dark"
    page.wait_for_selector("#accounts")
    page.wait_for_timeout(300)
    shot(page, "settings-dark")
    page.context.close()
    set_theme(app_runtime(app), desk["trader"], "light")


def test_an_analyst_has_no_accounts_section_and_changes_the_timezone(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    page = new_page()
    sign_in(page, base_url, "analyst", "/settings")
    expect(page.locator("#accounts-section")).to_have_count(0)  # analysts read charts only
    pick(page, "#tz-select", "Europe/Zur", "Europe/Zurich")
    page.click("#tz-save")
    expect(page.locator("#tz-alert")).to_have_text("Timezone set to Europe/Zurich.")
    view = load_user(app_runtime(app), desk["analyst"])
    assert view is not None
    assert view.timezone == "Europe/Zurich"
    page.reload()
    expect(page.locator("#tz-select")).to_contain_text("Europe/Zurich")
    page.context.close()


def test_a_password_change_refuses_bad_input_at_its_field_then_the_new_one_signs_in(
    new_page: NewPage, base_url: str
) -> None:
    page = new_page()
    sign_in(page, base_url, "analyst", "/settings")
    page.fill("#pw-current", "not my password")
    page.fill("#pw-new", NEW_PASSWORD)
    page.fill("#pw-repeat", NEW_PASSWORD)
    page.click("#pw-save")
    expect(page.locator("#pw-current-feedback")).to_have_text("That is not your current password.")
    expect(page.locator("#pw-current")).to_have_class(re.compile(r"\bis-invalid\b"))
    page.fill("#pw-current", PASSWORD)
    page.fill("#pw-new", "short")
    page.fill("#pw-repeat", "short")
    page.click("#pw-save")
    expect(page.locator("#pw-new-feedback")).to_have_text(f"Use at least {MIN_PASSWORD} characters.")
    page.fill("#pw-new", NEW_PASSWORD)
    page.fill("#pw-repeat", NEW_PASSWORD + "!")
    page.click("#pw-save")
    expect(page.locator("#pw-repeat-feedback")).to_have_text("The two new passwords differ.")
    page.fill("#pw-repeat", NEW_PASSWORD)
    page.click("#pw-save")
    expect(page.locator("#pw-done")).to_have_text("Password changed.")
    expect(page.locator("#pw-current")).to_have_value("")
    with page.expect_navigation(url=base_url + "/login", timeout=10_000):
        page.click("#logout-button")
    page.fill("#username", "analyst")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    page.fill("#password", NEW_PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#nav-username")).to_have_text("analyst", timeout=15_000)
    page.context.close()
