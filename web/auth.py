"""Sign-in and authorization on the server: flask-login on server-side sessions (web.sessions),
one `before_request` guard for every route (as dash-auth does) with an explicit list of public
routes, the login/logout/health routes, and `require_role` for Dash callbacks.

Which roles may open a page is read from the page's own `dash.register_page(..., roles=...)` in
`dash.page_registry`: the guard refuses a page's URL, and the pages router's request for its
layout, to any other role. A page registered without roles is refused to everyone (fail closed).

The user is loaded from the database on every request, so a disabled user is signed out and a
role change applies at once; nothing the browser sends about its user is ever trusted. Loading it
also stamps when the user was last seen (at most once a minute, for the admins). A session also
records the user's session version it was opened with; a password change or an admin's
"end sessions" bumps the version, and every session holding an older one is refused.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import dash
from flask import Flask, Response, abort, current_app, jsonify, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from db.enums import Role
from engine.health import health
from engine.runtime import Runtime
from engine.users.api import UserView, check_login, load_user, seen_is_stale, touch_last_seen
from web.login_page import render_login, render_refused
from web.security import CSRF_FIELD, AttemptLimiter, csrf_token, csrf_valid, safe_next
from web.sessions import new_session_id

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

# Everything else needs a signed-in, enabled user.
PUBLIC_PATHS = frozenset({"/login", "/healthz", "/assets/00-bootstrap.min.css", "/_favicon.ico"})
# The REST API and its docs authorize by Bearer token only (web.api.access), never by this session.
API_PATHS = "/api/"
HOOK_PATHS = "/hooks/"  # the TradingView webhook (web.hooks): its secret authorizes it
# The pages router's callback: its request names the page to render (client-side navigation).
ROUTER_OUTPUT = "_pages_content.children"
ROUTER_INPUT = "_pages_location"
READERS = (Role.ADMIN, Role.TRADER, Role.ANALYST)
TRADERS = (Role.ADMIN, Role.TRADER)
ADMINS = (Role.ADMIN,)
SESSION_LIFETIME = timedelta(hours=12)
# The session key holding the user's session version at sign-in (see the module docstring).
VERSION_KEY = "_tb_session_version"


class WebUser(UserMixin):
    """The signed-in user for flask-login: a UserView with the attributes it expects."""

    def __init__(self, view: UserView) -> None:
        self.view = view

    def get_id(self) -> str:
        return str(self.view.id)

    @property
    def is_active(self) -> bool:
        return self.view.is_active

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)


def current_runtime() -> Runtime:
    return current_app.config["TRADEBLOCK_RUNTIME"]


def current_view() -> UserView:
    """The signed-in user (call only behind the guard or `require_role`)."""
    if not current_user.is_authenticated:
        abort(401)
    return current_user.view


def has_role(*roles: Role) -> bool:
    return bool(current_user.is_authenticated and current_user.view.role in roles)


def require_role(*roles: Role) -> Callable[[F], F]:
    """Refuse the call (401 signed out, 403 wrong role) before the wrapped callback runs.
    Put it under `@callback`, so Dash registers the guarded function."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if current_user.view.role not in roles:
                log.warning("%s (%s) refused %s", current_user.view.username, current_user.view.role, func.__name__)
                abort(403)
            return func(*args, **kwargs)

        guarded.required_roles = roles  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def init_auth(server: Flask, secure_cookies: bool) -> None:
    """Sessions, the guard and the auth routes, on the Dash app's Flask server."""
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="tradeblock_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # Store the session only when it changes: a page has several requests in flight, and each
        # re-saving its copy could undo another's change (the form secret, a sign-out).
        # Sessions therefore end SESSION_LIFETIME after sign-in, however active.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    manager = LoginManager()
    manager.init_app(server)
    manager.user_loader(_load_user)
    server.extensions["tradeblock_login_limiter"] = AttemptLimiter(limit=5, window_s=900)
    server.extensions["tradeblock_ip_limiter"] = AttemptLimiter(limit=50, window_s=900)
    # Wrong current passwords on the settings page, per user (web.password_change).
    server.extensions["tradeblock_password_limiter"] = AttemptLimiter(limit=5, window_s=900)
    server.before_request(_guard)
    server.add_url_rule("/login", "login", _login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", _logout, methods=["POST"])
    server.add_url_rule("/healthz", "healthz", _healthz, methods=["GET"])


def _load_user(user_id: str) -> WebUser | None:
    if not user_id.isdigit():
        return None
    view = load_user(current_runtime(), int(user_id))
    if view is None or not view.is_active:
        return None  # disabled: treated as signed out from this request on
    if session.get(VERSION_KEY) != view.session_version:
        return None  # ended by a password change or an admin: signed out from this request on
    # Activity for the admins' overview: the row just loaded says whether it is a minute old, so
    # most requests write nothing.
    if seen_is_stale(view.last_seen_at, datetime.now(UTC)):
        touch_last_seen(current_runtime(), view.id)
    return WebUser(view)


def restamp_session(version: int) -> None:
    """Keep the current session open after the user's session version went up to `version`."""
    session[VERSION_KEY] = version


def _guard() -> Response | None:
    path = request.path
    if path in PUBLIC_PATHS or path.startswith((API_PATHS, HOOK_PATHS)):
        return None
    if not current_user.is_authenticated:
        session.pop("_user_id", None)
        if request.method == "GET" and not path.startswith(("/_dash", "/assets/", "/_reload")):
            return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/')}")
        return _refuse(401, "sign in first")
    roles = page_roles(_requested_page(path))
    if roles is not None and current_user.view.role not in roles:
        view = current_user.view
        log.warning("%s (%s) refused page %s", view.username, view.role, path)
        if request.method == "GET":  # the page itself (callbacks are POSTs): an HTML page, not JSON
            return Response(render_refused(view.username, str(view.role)), 403, mimetype="text/html")
        return _refuse(403, "not for your role")
    return None


def page_roles(path: str | None) -> tuple[Role, ...] | None:
    """The roles that may open the registered page at `path`; None when no page is there (Dash's
    own routes and assets, or its "not found" page), () for a page that declares no roles."""
    if path is None:
        return None
    wanted = path.strip("/")
    for page in dash.page_registry.values():
        if page["path"].strip("/") == wanted:
            return tuple(page.get("roles") or ())
    return None


def _requested_page(path: str) -> str | None:
    """The page path a request asks for: its own path, or for the pages router's callback the
    pathname it is asked to render."""
    if path != "/_dash-update-component":
        return path
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or ROUTER_OUTPUT not in str(body.get("output", "")):
        return None
    for item in body.get("inputs") or []:
        if isinstance(item, dict) and item.get("id") == ROUTER_INPUT and item.get("property") == "pathname":
            return str(item.get("value") or "/")
    return None


def _refuse(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


def _limiters() -> tuple[AttemptLimiter, AttemptLimiter]:
    ext = current_app.extensions
    return ext["tradeblock_login_limiter"], ext["tradeblock_ip_limiter"]


def _page(status: int, next_path: str, username: str = "", error: str | None = None) -> Response:
    body = render_login(csrf_token(), next_path, username, error)
    return Response(body, status=status, mimetype="text/html")


def _login() -> Response:
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_path)  # type: ignore[return-value]
        return _page(200, next_path)
    username = request.form.get("username", "").strip()[:64]
    if not csrf_valid(request.form.get(CSRF_FIELD)):
        return _page(400, next_path, username, "The form expired. Please sign in again.")
    per_user, per_ip = _limiters()
    ip = request.remote_addr or "?"
    key = f"{username.lower()}|{ip}"
    # Per user: counted before the password is checked (atomic), so parallel guesses cannot all
    # slip through. Per address: only failures count (a success cannot be taken back from a
    # moving window, and an office behind one address signs in often), checked first.
    if per_ip.retry_after(ip) or not per_user.hit(key):
        wait = max(per_user.retry_after(key), per_ip.retry_after(ip), 1)
        minutes = -(-wait // 60)
        return _page(429, next_path, username, f"Too many failed attempts. Try again in {minutes} min.")
    view = check_login(current_runtime(), username, request.form.get("password", ""))
    if view is None:
        per_ip.hit(ip)
        log.warning("failed sign-in for %r from %s", username, ip)
        return _page(401, next_path, username, "Wrong username or password.")
    per_user.reset(key)
    session.clear()  # a fresh session: nothing set before sign-in carries over (fixation)
    login_user(WebUser(view))
    session[VERSION_KEY] = view.session_version
    session.permanent = True
    new_session_id(current_app)  # and a fresh id: the one the browser had before is deleted
    # The form secret is set now, not when the first page asks for a token: requests the page
    # makes in parallel each send the session cookie back, and one carrying the session from
    # before the secret existed would drop it.
    csrf_token()
    log.info("%s signed in from %s", view.username, ip)
    return redirect(next_path)  # type: ignore[return-value]


def _logout() -> Response:
    if not csrf_valid(request.form.get(CSRF_FIELD)):
        return _refuse(400, "invalid form token")
    logout_user()
    session.clear()  # deleted from the server store: a copy of the cookie opens nothing now
    return redirect("/login")  # type: ignore[return-value]


def _healthz() -> Response:
    report = health(current_runtime())  # engine.health: database reachable, an engine ticking
    response = jsonify(report.as_json())
    response.status_code = 200 if report.ok else 503
    return response
