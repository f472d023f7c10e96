"""The settings page's TradingView webhook card, in headless Chromium on the real app: a trader
makes the webhook (URL and secret shown once), a template with a bad stop shows its message at
the field and is not saved, the fixed one is; an alert posted to the URL with that secret places
a block and shows in the log beside a forged call; the secret is nowhere on the page after a
reload. Light and dark screenshots."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from dash import Dash
from playwright.sync_api import Page, expect

from db.enums import Role
from engine.exchanges.demo import DemoExchange
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account
from engine.users.directory import set_theme
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import NOW, app_runtime, make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    sync_markets(fresh_database.sessions, DemoExchange(seed=7))
    trader = make_user(fresh_database, "trader", Role.TRADER)
    account = open_paper_account(fresh_database.sessions, trader.id, "Paper")
    return {"trader": trader.id, "account": account.id}


def field(page: Page, name: str) -> str:
    return f'[id=\'{{"name":"{name}","type":"wh-field"}}\']'


def fill(page: Page, name: str, value: str) -> None:
    box = page.locator(field(page, name))
    box.fill(value)
    box.press("Tab")


def alert_body(secret: str) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    close = str(DemoExchange(seed=7, clock=lambda: NOW).fetch_ticker("BTC/USDT").last)  # the app's paper price
    body = {"secret": secret, "ticker": "BTCUSDT", "exchange": "BINANCE", "action": "buy", "close": close}
    return json.dumps({**body, "time": now, "timenow": now}).encode()


def test_the_webhook_card(new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", "/settings")
    expect(page.locator("#webhook-url")).to_have_text("No webhook yet.")
    page.click("#webhook-rotate")
    expect(page.locator("#webhook-secret")).to_contain_text("Copy the secret now")
    secret = page.locator("#webhook-new-secret").inner_text().strip()
    url = page.locator("#webhook-url-text").inner_text().strip()
    assert "/hooks/tv/" in url
    fill(page, "stop", "-5")
    fill(page, "targets", "2000")
    page.select_option(field(page, "size_mode"), "base")
    fill(page, "size_value", "0.001")
    page.click("#webhook-save")
    expect(page.locator('[id=\'{"name":"stop","type":"wh-error"}\']')).to_have_text('"-5" is not a positive number.')
    expect(page.locator("#webhook-save-error")).to_contain_text("see the message at each field")
    fill(page, "stop", "1000")
    page.click("#webhook-save")
    expect(page.locator("#webhook-save-message")).to_have_text("Template saved.")
    client = app.server.test_client()
    path = url.split(base_url.rstrip("/"), 1)[-1]
    placed = client.post(path, data=alert_body(secret), content_type="text/plain")
    assert placed.status_code == 201, placed.get_json()
    assert client.post(path, data=alert_body("forged"), content_type="application/json").status_code == 401
    page.reload()
    page.wait_for_selector("#webhook-calls tbody tr")
    rows = page.locator("#webhook-calls tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Unknown webhook or wrong secret.")
    expect(rows.nth(1)).to_contain_text(f"block {placed.get_json()['block_id']}")
    assert secret not in page.content()
    expect(page.locator(field(page, "stop"))).to_have_value("1000")  # the saved template comes back
    page.locator("#webhook-section").scroll_into_view_if_needed()
    shot(page, "settings-webhook-light")
    set_theme(app_runtime(app), desk["trader"], "dark")
    dark = new_page(dark=True)
    sign_in(dark, base_url, "trader", "/settings")
    dark.wait_for_selector("#webhook-calls tbody tr")
    assert dark.get_attribute("html", "data-bs-theme") == "dark"
    dark.locator("#webhook-section").scroll_into_view_if_needed()
    shot(dark, "settings-webhook-dark")
