"""HTTP hardening of the whole app: refusing cross-site POSTs by their Origin, security headers
(Flask-Talisman) with a Content-Security-Policy that Dash runs under, and 404 for a callback id
the server has no function for (clientside or unknown) instead of Dash's 500.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any
from urllib.parse import urlsplit

from dash import Dash
from flask import Flask, Response, jsonify, request
from flask_talisman import Talisman

from web.login_page import THEME_SCRIPT

log = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DASH_UPDATE = "/_dash-update-component"


def _refuse(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


def foreign_origin() -> str | None:
    """The Origin (or, without one, the Referer) of this request when it names another host."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return None  # neither sent (curl, old clients): SameSite=Lax still keeps the cookie home
    # Hosts only, not schemes: behind a TLS proxy the app sees http while the browser says https.
    host = urlsplit(source).netloc.lower() if source != "null" else ""
    return None if host == request.host.lower() else source


def _check_origin() -> Response | None:
    # The REST API ignores cookies (Bearer tokens only) and a webhook is authorized by its secret
    # alone, so a cross-site page gains nothing there.
    if request.method not in STATE_CHANGING or request.path.startswith(("/api/", "/hooks/")):
        return None
    source = foreign_origin()
    if source is None:
        return None
    log.warning("refused %s %s from origin %r", request.method, request.path, source[:200])
    return _refuse(403, "cross-site request refused")


def _server_callback_ids(app: Dash) -> set[str]:
    return {key for key, spec in app.callback_map.items() if "callback" in spec}


def _check_callback_id(app: Dash) -> Response | None:
    # Dash answers an output id it has no server function for with a KeyError, i.e. HTTP 500.
    if request.method != "POST" or request.path != DASH_UPDATE:
        return None
    body = request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, str):
        return _refuse(400, "malformed callback request")
    if output not in _server_callback_ids(app):
        return _refuse(404, "no such callback")
    return None


def script_sources(app: Dash) -> list[str]:
    """This origin, Dash's inline scripts and the sign-in page's, each allowed by its hash."""
    login = base64.b64encode(hashlib.sha256(THEME_SCRIPT.encode()).digest()).decode()
    return ["'self'", *app.csp_hashes(), f"'sha256-{login}'"]


def content_security_policy(app: Dash) -> dict[str, Any]:
    """The CSP: everything from this origin only; Dash's own inline scripts (the renderer's start,
    clientside callbacks) by their hashes; inline styles, which Dash components set everywhere."""
    return {
        "default-src": "'self'",
        "script-src": script_sources(app),
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_origin_check(server: Flask) -> None:
    """Refuse cross-site state-changing requests (403); register before the sign-in guard, so a
    hostile page learns nothing else either."""
    server.before_request(_check_origin)


def init_hardening(app: Dash, secure_cookies: bool) -> None:
    """The callback-id check (register after the sign-in guard: signed-out callers get 401 and
    learn no ids) and the security headers, on `app`'s server."""
    server = app.server
    server.before_request(lambda: _check_callback_id(app))
    talisman = Talisman(
        server,
        force_https=secure_cookies,  # behind TLS only: plain http on localhost must keep working
        strict_transport_security=secure_cookies,
        session_cookie_secure=secure_cookies,
        frame_options="DENY",
        content_security_policy=content_security_policy(app),
        referrer_policy="same-origin",
    )

    hashed: list[bool] = []

    # Pages' clientside callbacks reach the app at its first request (in Dash's own before_request,
    # which runs before this one): hash them then, once.
    def _hash_inline_scripts() -> None:
        if not hashed:
            talisman.content_security_policy["script-src"] = script_sources(app)
            hashed.append(True)

    server.before_request(_hash_inline_scripts)
