"""The settings page's Notifications card in headless Chromium on the real app: a URL apprise refuses
is refused at the field; a json:// webhook on a local endpoint is saved (the field empties, the page
shows its scheme only, never the URL), "Send a test" reaches the endpoint and says so, and Remove
forgets it. An analyst has the card too (notifications are not only for trades)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from db.enums import Role
from engine.runtime import Runtime
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import make_user
from tests.helpers.notify_endpoint import Endpoint, running_endpoint

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    trader = make_user(fresh_database, "trader", Role.TRADER)
    analyst = make_user(fresh_database, "analyst", Role.ANALYST)
    return {"trader": trader.id, "analyst": analyst.id}


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    with running_endpoint() as running:
        yield running


def test_a_url_is_checked_saved_tested_and_removed(
    new_page: NewPage, base_url: str, desk: dict[str, int], endpoint: Endpoint
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", "/settings")
    expect(page.locator("#notify-current")).to_have_text("No notification URL: nothing is sent.")
    page.fill("#notify-url", "tgram://not-a-bot-token")
    page.click("#notify-save")
    expect(page.locator("#notify-url-feedback")).to_contain_text("apprise does not accept this URL")
    expect(page.locator("#notify-url")).to_have_class(re.compile(r"\bis-invalid\b"))
    url = f"json://127.0.0.1:{endpoint.port}/hook-secret-path"
    page.fill("#notify-url", url)
    page.click("#notify-save")
    expect(page.locator("#notify-alert")).to_have_text("Saved: notifications go to your json URL.")
    expect(page.locator("#notify-current")).to_contain_text("json://…")
    expect(page.locator("#notify-url")).to_have_value("")
    expect(page.locator("#notify-url-feedback")).not_to_be_visible()
    assert "hook-secret-path" not in page.content()
    page.click("#notify-test")
    expect(page.locator("#notify-alert")).to_have_text("Test sent: check that it arrived.")
    assert [path for path, _body in endpoint.requests] == ["/hook-secret-path"]
    shot(page, "settings-notifications")
    page.reload()
    expect(page.locator("#notify-current")).to_contain_text("json://…")
    assert "hook-secret-path" not in page.content()
    page.click("#notify-remove")
    expect(page.locator("#notify-alert")).to_have_text("Notification URL removed: nothing is sent any more.")
    expect(page.locator("#notify-current")).to_have_text("No notification URL: nothing is sent.")
    page.context.close()


def test_a_failed_test_says_so(new_page: NewPage, base_url: str, desk: dict[str, int], endpoint: Endpoint) -> None:
    endpoint.status = 500
    page = new_page()
    sign_in(page, base_url, "analyst", "/settings")
    page.fill("#notify-url", f"json://127.0.0.1:{endpoint.port}/down")
    page.click("#notify-save")
    expect(page.locator("#notify-current")).to_contain_text("json://…")
    page.click("#notify-test")
    expect(page.locator("#notify-alert")).to_contain_text("The test was not delivered:")
    page.context.close()
