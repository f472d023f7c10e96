"""The TradingView alert webhook's route: POST /hooks/tv/<hook_id>, the alert message as the body
(TradingView sends no custom headers, so the secret travels in the JSON). Unauthenticated by the
session on purpose (web.auth's guard and the origin check leave /hooks/ alone, as they do /api/):
the hook's secret, checked by engine.webhooks.api.receive, is the authorization. The handler only
hands over the bytes and the peer's address and returns the engine's JSON answer."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from engine.webhooks import api as webhooks
from web.auth import current_runtime


def tradingview(hook_id: str) -> Response:
    if (request.content_length or 0) > webhooks.MAX_BODY:
        response = jsonify(error=f"The alert is over {webhooks.MAX_BODY} bytes.")
        response.status_code = 413
        return response
    body = request.get_data(cache=False)[: webhooks.MAX_BODY + 1]
    outcome = webhooks.receive(current_runtime(), hook_id[:64], body, request.remote_addr or "")
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    return response


def _not_here(rest: str) -> Response:
    # Without this, Dash's catch-all page route would answer a GET under /hooks/ with its page.
    response = jsonify(error=f"Webhooks take POST /hooks/tv/<hook_id> only, not /hooks/{rest[:100]}.")
    response.status_code = 405 if rest.startswith("tv/") else 404
    return response


def init_hooks(server: Flask) -> None:
    server.add_url_rule("/hooks/tv/<hook_id>", "tradingview_hook", tradingview, methods=["POST"])
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    server.add_url_rule("/hooks/<path:rest>", "hooks_not_found", _not_here, methods=methods)
