"""Browser-test plumbing: the real app served on a free local port, and Debian's headless Chromium
driven by Playwright (no browser download). In CI a missing browser fails the run."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

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
