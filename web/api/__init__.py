"""The REST API (/api/v1, Bearer tokens) and its docs page (/api/docs): `init_api` puts both on
the Flask server. The routes are in web.api.routes (conditional blocks in web.api.conditions,
backtests in web.api.backtests, price alerts in web.api.alerts), their schemas in web.api.schemas
(web.api.condition_schemas, web.api.backtest_schemas, web.api.alert_schemas), who may call them in
web.api.access."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import NotFound

from web.api import alerts, backtests, conditions, docs, routes
from web.api.access import refusal
from web.api.spec import spec


def _no_such_path(rest: str) -> Response:
    # Without this, Dash's catch-all page route would answer an unknown /api/ path with its HTML.
    return refusal(404, f"No such API path: /api/{rest[:100]}.")


def _not_found(error: NotFound) -> Response:
    # What even the catch-all cannot match (a path with a newline in it) is a JSON 404 too under /api/.
    if request.path.startswith("/api/"):
        return _no_such_path(request.path.removeprefix("/api/"))
    return error.get_response()


def init_api(server: Flask) -> None:
    server.register_blueprint(routes.bp)
    server.register_blueprint(conditions.bp)
    server.register_blueprint(backtests.bp)
    server.register_blueprint(alerts.bp)
    server.register_blueprint(docs.bp)
    spec.register(server)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    server.add_url_rule("/api/<path:rest>", "api_not_found", _no_such_path, methods=methods)
    server.register_error_handler(NotFound, _not_found)
