"""Who may call the REST API: `Authorization: Bearer <token>` and nothing else.

The browser's session never authorizes a call (web.auth's guard leaves /api/ alone and nothing here
reads the session), and a token never opens a page (the guard reads only the session). Each route
declares, with `@allow(scope, roles)`, the token scope and the user roles it needs, like the pages'
callbacks declare roles with `require_role`; the blueprint checks them before spectree reads the
request, so an anonymous or under-scoped caller learns nothing about its input. Refusals are JSON
(web.api.schemas.ApiError): 401 without a valid token, 403 for the wrong role or a read token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g, jsonify, request

from db.enums import Role
from engine.users.api import TokenUser, authenticate
from web.auth import current_runtime

F = TypeVar("F", bound=Callable[..., Any])


def refusal(status: int, message: str, fields: dict[str, str] | None = None) -> Response:
    response = jsonify(error=message, fields=fields or {})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tradeblock"'
    return response


def allow(scope: str, roles: tuple[Role, ...]) -> Callable[[F], F]:
    """The token scope ("read" or "trade") and the user roles a route needs."""

    def mark(func: F) -> F:
        func.api_scope = scope  # type: ignore[attr-defined]
        func.api_roles = roles  # type: ignore[attr-defined]
        return func

    return mark


def bearer_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def authorize() -> Response | None:
    """The blueprint's before_request: the caller's token, scope and role, or a refusal."""
    view = current_app.view_functions.get(request.endpoint or "")
    scope = getattr(view, "api_scope", None)
    if scope is None:
        return None  # not an API operation (an unknown path answers 404 on its own)
    token = bearer_token()
    if token is None:
        return refusal(401, "Send your API token: Authorization: Bearer <token>.")
    caller = authenticate(current_runtime(), token)
    if caller is None:
        return refusal(401, "This token is not valid (unknown or revoked), or its user is disabled.")
    if caller.user.role not in getattr(view, "api_roles", ()):
        return refusal(403, f"Not for your role ({caller.user.role.value}).")
    if scope == "trade" and caller.scope != "trade":
        return refusal(403, "This token may only read: make a trade token in Settings to place or cancel blocks.")
    g.api_caller = caller
    return None


def caller() -> TokenUser:
    """The authorized caller of this request (set by `authorize`)."""
    return g.api_caller
