"""The REST API (/api/v1, Bearer tokens) and its docs page (/api/docs): `init_api` puts both on
the Flask server. The routes are in web.api.routes (conditional blocks in web.api.conditions),
their schemas in web.api.schemas (web.api.condition_schemas), who may call them in
web.api.access."""

from __future__ import annotations

from flask import Flask, Response

from web.api import conditions, docs, routes
from web.api.access import refusal
from web.api.spec import spec


def _no_such_path(rest: str) -> Response:
    # Without this, Dash's catch-all page route would answer an unknown /api/ path with its HTML.
    return refusal(404, f"No such API path: /api/{rest[:100]}.")


def init_api(server: Flask) -> None:
    server.register_blueprint(routes.bp)
    server.register_blueprint(conditions.bp)
    server.register_blueprint(docs.bp)
    spec.register(server)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    server.add_url_rule("/api/<path:rest>", "api_not_found", _no_such_path, methods=methods)
