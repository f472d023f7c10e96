"""Filling the chart's trade-block form in a browser test (the chart page and the replay's)."""

from __future__ import annotations

import json

from playwright.sync_api import Page


def target(row: int, kind: str = "price") -> str:
    """The selector of a target row's price (or "share") field."""
    ident = json.dumps({"row": row, "type": f"bf-target-{kind}"}, separators=(",", ":"))
    return f"[id='{ident}']"


def enter(page: Page, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.press(selector, "Tab")  # the inputs are debounced: the value is sent on blur


def fill_form(page: Page, entry: str, stop: str, targets: tuple[str, ...], size: str = "0.01") -> None:
    page.wait_for_selector("#block-form")
    page.select_option("#bf-size-mode", "base")
    enter(page, "#bf-size-value", size)
    enter(page, "#bf-entry-price", entry)
    enter(page, "#bf-stop-price", stop)
    for row, price in enumerate(targets):
        if page.locator(target(row)).count() == 0:
            page.click("#bf-add-target")
        enter(page, target(row), price)
