"""Browser-test plumbing: the real app served on a free local port, Debian's headless Chromium
driven by Playwright (no browser download; in CI a missing browser fails the run), signing in
through the real form, and screenshots saved when TRADEBLOCK_SCREENSHOTS asks for them."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from werkzeug.serving import make_server

from tests.helpers.dashboard import PASSWORD

# The `new_page` fixture (tests/browser/conftest.py): new_page(dark=False) -> a page in a fresh context.
NewPage = Callable[..., Page]
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> str:
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: CI must run the browser tests (see .ci/run)")
    pytest.skip("chromium is not installed (apt-get install chromium)")
    raise AssertionError  # unreachable: skip raises


@contextmanager
def serve(flask_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve a WSGI app on 127.0.0.1 in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def screenshots_dir(value: str | None = None) -> Path | None:
    """Where TRADEBLOCK_SCREENSHOTS says to save screenshots: unset for none, `1` (or on/yes/true)
    for docs/screenshots/ in the repository, anything else is a directory."""
    raw = (os.environ.get("TRADEBLOCK_SCREENSHOTS", "") if value is None else value).strip()
    if not raw:
        return None
    if raw.lower() in ("1", "on", "yes", "true"):
        return DOCS_SCREENSHOTS
    return Path(raw)


def shot(page: Page, name: str) -> None:
    """Save the whole page as NAME.png when screenshots are asked for (see `screenshots_dir`)."""
    folder = screenshots_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(400)  # let plotly and Bootstrap's fades finish drawing
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def sign_in(
    page: Page, base_url: str, username: str, path: str = "/", password: str = PASSWORD, ready: str | None = None
) -> None:
    """Open `path` signed out, sign in through the real form and wait for the navbar (and for the
    JavaScript condition `ready`, when given)."""
    page.goto(base_url + path)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_selector("#nav-username", timeout=15_000)
    if ready:
        wait_for_js(page, ready, timeout=20_000)


def wait_for_js(page: Any, expression: str, timeout: float = 30_000) -> None:
    """Wait until the JavaScript `expression` is truthy in `page`, polled every animation frame.

    Playwright's `wait_for_function` compiles its expression with eval inside the page, which the
    app's Content-Security-Policy forbids (no 'unsafe-eval'); here the expression is part of the
    function Playwright itself sends, which the policy does not govern."""
    page.evaluate(
        "() => new Promise((resolve, reject) => {"
        f"  const until = performance.now() + {float(timeout)};"
        "  const poll = () => {"
        "    let ok = false;"
        f"    try {{ ok = Boolean({expression}); }} catch (error) {{ ok = false; }}"
        "    if (ok) { resolve(true); }"
        "    else if (performance.now() > until) {"
        f"      reject(new Error('timed out waiting for ' + {json.dumps(expression)}));"
        "    }"
        "    else { requestAnimationFrame(poll); }"
        "  };"
        "  poll();"
        "})"
    )
