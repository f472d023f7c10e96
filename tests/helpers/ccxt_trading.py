"""Helpers for the ccxt trading venue tests: offline venues, a path router standing in for the network,
venue error answers run through ccxt's own error handling, and the expected values read from ccxt's
recorded unified output (parsedResponse)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import ccxt

from engine.exchanges.ccxt_venue import CcxtTradingVenue
from tests.helpers.ccxt_replay import FIXTURES, Request, Transport, offline_client

Answer = Any  # a JSON body, an exception to raise, or a callable(Request) -> body


def offline(exchange_id: str) -> ccxt.Exchange:
    client = offline_client(exchange_id)
    if exchange_id == "bybit":  # a unified trading account: ccxt would otherwise ask the venue which it is
        client.options["enableUnifiedAccount"] = True
        client.options["enableUnifiedMargin"] = False
    return client


def make_venue(exchange_id: str, market_type: str = "spot", **kwargs: Any) -> CcxtTradingVenue:
    return CcxtTradingVenue(offline(exchange_id), retry_attempts=3, retry_wait=0, market_type=market_type, **kwargs)


def cancel_fixture(exchange_id: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "cancel_orders.json").read_text())[exchange_id]


def empty_list(exchange_id: str) -> Any:
    """Each venue's answer to an order-list query that matches nothing."""
    if exchange_id == "okx":
        return {"code": "0", "data": [], "msg": ""}
    if exchange_id == "bybit":
        return {"retCode": 0, "retMsg": "OK", "result": {"list": [], "nextPageCursor": ""}, "retExtInfo": {}, "time": 1}
    return []


class Router:
    """Answers requests by the first route whose path fragment is in the URL path (and method, if
    given); keeps every request. Routes can be re-pointed between calls."""

    def __init__(self, client: ccxt.Exchange, routes: list[tuple[str, str | None, Answer]]) -> None:
        self.routes = list(routes)
        self.transport = Transport(self._answer)
        client.fetch = self.transport

    @property
    def requests(self) -> list[Request]:
        return self.transport.requests

    def calls(self, fragment: str, method: str | None = None) -> list[Request]:
        return [r for r in self.requests if fragment in urlsplit(r.url).path and method in (None, r.method)]

    def _answer(self, url: str, method: str, headers: Any, body: Any) -> Any:
        path = urlsplit(url).path
        for fragment, route_method, answer in self.routes:
            if fragment in path and route_method in (None, method):
                if isinstance(answer, BaseException):
                    raise answer
                if callable(answer):
                    return answer(Request(url, method, headers, body))
                return json.loads(json.dumps(answer))
        raise AssertionError(f"no route for {method} {url}")


def venue_refusal(client: ccxt.Exchange, status: int, body: Any) -> Callable[[Request], Any]:
    """An answer that raises what ccxt raises for this HTTP error body (its own handle_errors)."""

    def answer(request: Request) -> Any:
        text = json.dumps(body)
        client.handle_errors(status, "", request.url, request.method, {}, text, body, request.headers, request.body)
        client.handle_http_status_code(status, "", request.url, request.method, text)
        raise AssertionError(f"ccxt did not treat {text} as an error")

    return answer


def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def expected_order_fields(parsed: dict[str, Any], size: Decimal = Decimal(1)) -> dict[str, Any]:
    """What a VenueOrder must say, read off ccxt's recorded unified order."""
    fee = parsed.get("fee") or {}
    amount = dec(parsed["amount"]) * size
    filled = (dec(parsed["filled"]) or Decimal(0)) * size  # ccxt's null: nothing filled yet
    remaining = dec(parsed["remaining"])
    return {
        "id": parsed["id"],
        "client_order_id": parsed.get("clientOrderId") or "",
        "symbol": parsed["symbol"],
        "status": parsed["status"],
        "side": parsed["side"],
        "amount": amount,
        "filled": filled,
        "remaining": amount - filled if remaining is None else remaining * size,
        "fee": dec(fee.get("cost")) or Decimal(0),
        "fee_currency": fee.get("currency"),
        "ts": parsed["timestamp"],
    }


def order_fields(order: Any) -> dict[str, Any]:
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "status": order.status.value,
        "side": order.side.value,
        "amount": order.amount,
        "filled": order.filled,
        "remaining": order.remaining,
        "fee": order.fee,
        "fee_currency": order.fee_currency,
        "ts": order.ts,
    }
