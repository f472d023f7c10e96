"""Refusals a person sees in the browser: a page their role may not open is an HTML page that says
so (not raw JSON), and an open tab whose session ended (the user disabled by an admin) goes to the
sign-in page on its next callback instead of failing inside Dash."""

from __future__ import annotations

import re

import pytest
from dash import Dash
from playwright.sync_api import expect

from db.enums import Role
from engine.runtime import Runtime
from engine.users.api import set_active
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import app_runtime, make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """An admin and two traders."""
    admin = make_user(fresh_database, "admin", Role.ADMIN)
    trader = make_user(fresh_database, "trader", Role.TRADER)
    other = make_user(fresh_database, "leaver", Role.TRADER)
    return {"admin": admin.id, "trader": trader.id, "leaver": other.id}


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_a_trader_typing_an_admin_address_gets_a_page_that_says_why(
    new_page: NewPage, base_url: str, dark: bool
) -> None:
    page = new_page(dark=dark)
    sign_in(page, base_url, "trader")
    answer = page.goto(base_url + "/admin/users")
    assert answer is not None
    assert answer.status == 403
    expect(page.locator("#refused")).to_contain_text("Not for your role")
    expect(page.locator("#refused")).to_contain_text("trader (trader)")
    assert "{" not in page.locator("body").inner_text()  # no JSON on the screen
    shot(page, f"refused-{'dark' if dark else 'light'}")
    page.click("#refused-home")
    page.wait_for_selector("#nav-username", timeout=15_000)


def test_a_disabled_users_open_tab_goes_to_the_sign_in_page(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, base_url, "leaver", path="/blocks")
    page.wait_for_load_state("networkidle")
    set_active(app_runtime(app), desk["admin"], desk["leaver"], False)
    # The blocks page refreshes itself every few seconds: its next callback is refused (401).
    page.wait_for_url(re.compile(r"/login\?next=%2Fblocks$"), timeout=20_000)
    expect(page.locator("#login-submit")).to_be_visible()
    assert not [e for e in errors if "body stream" in e], errors
