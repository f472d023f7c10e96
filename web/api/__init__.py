"""The REST API (/api/v1, Bearer tokens) and its docs page (/api/docs): `init_api` puts both on
the Flask server. The routes are in web.api.routes, their schemas in web.api.schemas, who may call
them in web.api.access."""

from __future__ import annotations

from flask import Flask

from web.api import docs, routes
from web.api.spec import spec


def init_api(server: Flask) -> None:
    server.register_blueprint(routes.bp)
    server.register_blueprint(docs.bp)
    spec.register(server)
