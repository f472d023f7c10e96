"""The settings page's API tokens, in headless Chromium on the real app: a trader makes a trade
token, sees it once, the API answers it and the table then shows its last use; after a reload the
token is nowhere on the page; revoked, the API refuses it. An analyst is offered read tokens only.
The API docs page renders Swagger UI from this app under the Content-Security-Policy."""

from __future__ import annotations

import pytest
from dash import Dash
from playwright.sync_api import expect

from db.enums import Role
from engine.runtime import Runtime
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    trader = make_user(fresh_database, "trader", Role.TRADER)
    analyst = make_user(fresh_database, "analyst", Role.ANALYST)
    return {"trader": trader.id, "analyst": analyst.id}


def me(app: Dash, token: str) -> int:
    return app.server.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_token_is_made_shown_once_used_and_revoked(new_page: NewPage, base_url: str, app: Dash) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", "/settings")
    expect(page.locator("#tokens")).to_have_text("No API tokens yet.")
    page.fill("#token-name", "my bot")
    page.select_option("#token-scope", "trade")
    page.click("#token-create")
    expect(page.locator("#tokens-alert")).to_contain_text("Copy it now: it is not shown again.")
    token = page.locator("#token-new").inner_text().strip()
    assert token.startswith("tb_")
    expect(page.locator("#token-name")).to_have_value("")
    row = page.locator("#tokens tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("my bot")
    expect(row).to_contain_text("trade")
    expect(row).to_contain_text("never")
    shot(page, "settings-api-tokens")
    assert me(app, token) == 200
    page.reload()
    page.wait_for_selector("#tokens tbody tr")
    assert token not in page.content()
    expect(page.locator("#tokens tbody tr")).not_to_contain_text("never")  # last used: just now
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#tokens-alert")).to_have_text("Token revoked: it opens nothing from now on.")
    expect(page.locator("#tokens tbody tr")).to_contain_text("revoked")
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    assert me(app, token) == 401
    page.context.close()


def test_an_analyst_is_offered_read_tokens_only(new_page: NewPage, base_url: str, app: Dash) -> None:
    page = new_page()
    sign_in(page, base_url, "analyst", "/settings")
    page.wait_for_selector("#token-scope")
    assert [t for t in page.locator("#token-scope option").all_inner_texts() if t] == ["read: look only"]
    page.fill("#token-name", "notebook")
    page.click("#token-create")
    token = page.locator("#token-new").inner_text().strip()
    assert me(app, token) == 200
    page.context.close()


def test_the_api_docs_page_renders_offline(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(base_url + "/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tradeblock API", timeout=20_000)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert "/api/v1/blocks" in page.locator("#swagger-ui").inner_text()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    page.context.close()
