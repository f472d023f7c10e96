"""A small stateful stand-in for Alpaca's trading API (paper endpoint), at the HTTP layer.

It replaces `client.fetch` of a real ccxt alpaca client, so ccxt's own request building, error mapping
and parsing run for real. Bodies: the clock, the crypto assets, the account and a FILL activity are
RECORDED (tests/fixtures/ccxt/alpaca.json, copied from ccxt's static responses); ccxt's fixtures
have no order, position, stock asset nor stock snapshot body, so those follow the examples of
Alpaca's API documentation (the order body is the one ccxt quotes in alpaca.create_order, itself
Alpaca's example), with our order's fields put in. The stock tickers are made up: AAPL's asset is
fractionable (as on Alpaca), WSHR is a made-up ticker whose asset is not.

Alpaca's rules kept: orders are accepted while the market is closed and wait for the open (a
`market` order fills at the open); a fractional quantity is refused on an asset that is not
fractionable and unless it is a day order; a client order id is refused while another order holds
it; buys need the cash; an unknown order is 40410000; day orders left at the close expire. `limit`
orders fill when the price reaches them, `stop_limit` orders when the price reaches the stop (at the
stop price, the limit taken as met).
"""

from __future__ import annotations

import copy
import json
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt

from tests.helpers.ccxt_replay import Request, fixture_entries

D = Decimal
ZERO = D(0)


def _recorded(method: str) -> Any:
    return fixture_entries("alpaca", method)[0]["httpResponse"]


CLOCK = _recorded("fetchTime")  # GET /v2/clock
CRYPTO_ASSETS = _recorded("fetchMarkets")  # GET /v2/assets?asset_class=crypto
ACCOUNT = _recorded("fetchBalance")  # GET /v2/account
FILL = _recorded("fetchMyTrades")[0]  # one GET /v2/account/activities/FILL row

# Alpaca's documentation: GET /v2/assets (us_equity), an order (POST /v2/orders), a position.
STOCK_ASSET = {
    "id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
    "class": "us_equity",
    "exchange": "NASDAQ",
    "symbol": "AAPL",
    "name": "Apple Inc. Common Stock",
    "status": "active",
    "tradable": True,
    "marginable": True,
    "shortable": True,
    "easy_to_borrow": True,
    "fractionable": True,
}
WHOLE_SHARE_ASSET = {**STOCK_ASSET, "id": "0f3b6a8e-0000-4000-8000-000000000001", "symbol": "WSHR"}
WHOLE_SHARE_ASSET |= {"name": "Whole Shares Only Inc. (made up)", "fractionable": False}
ORDER = {
    "id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
    "client_order_id": "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4",
    "created_at": "2021-03-16T18:38:01.942282Z",
    "updated_at": "2021-03-16T18:38:01.942282Z",
    "submitted_at": "2021-03-16T18:38:01.937734Z",
    "filled_at": None,
    "expired_at": None,
    "canceled_at": None,
    "failed_at": None,
    "replaced_at": None,
    "replaced_by": None,
    "replaces": None,
    "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
    "symbol": "AAPL",
    "asset_class": "us_equity",
    "notional": None,
    "qty": "1",
    "filled_qty": "0",
    "filled_avg_price": None,
    "order_class": "",
    "order_type": "market",
    "type": "market",
    "side": "buy",
    "time_in_force": "day",
    "limit_price": None,
    "stop_price": None,
    "status": "accepted",
    "extended_hours": False,
    "legs": None,
    "trail_percent": None,
    "trail_price": None,
    "hwm": None,
}
NOT_FOUND = (404, {"code": 40410000, "message": "order is not found."})
TAKEN = (422, {"code": 40010001, "message": "client_order_id must be unique"})
NOT_FRACTIONABLE = (422, {"code": 40310000, "message": "requested asset is not fractionable"})
NOT_DAY = (422, {"code": 42210000, "message": "fractional orders must be DAY orders"})
NO_CASH = (403, {"code": 40310000, "message": "insufficient buying power"})
OPEN = ("new", "accepted", "partially_filled")


class AlpacaSim:
    """One Alpaca paper account: its orders, fills, positions and cash; `client.fetch` is this object."""

    def __init__(self, client: ccxt.Exchange, prices: dict[str, str], cash: str, is_open: bool, now: int) -> None:
        self.client = client
        self.prices = {k: D(v) for k, v in prices.items()}  # market id (AAPL, AAVE/USD) -> last price
        self.cash = D(cash)
        self.is_open = is_open
        self.now = now
        self.next_open, self.next_close = now + 3_600_000, now + 7_200_000
        self.orders: dict[str, dict[str, Any]] = {}  # id -> the order in Alpaca's fields
        self.positions: defaultdict[str, Decimal] = defaultdict(D)
        self.fills: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.posts: Counter[str] = Counter()  # POST /v2/orders per client_order_id (reaching the venue)
        self._next_id = 1
        client.fetch = self

    # --- the test's controls ---

    def open_market(self, until: int) -> None:
        """The market opens now (the clock says so) and closes at `until`; waiting orders execute."""
        self.is_open, self.next_close = True, until
        self._execute()

    def close_market(self, next_open: int, next_close: int) -> None:
        """The market closes now: day orders left unfilled expire (Alpaca's rule), the others wait."""
        self.is_open, self.next_open, self.next_close = False, next_open, next_close
        for order in self.open_orders():
            if order["time_in_force"] == "day":
                order |= {"status": "expired", "expired_at": self.client.iso8601(self.now)}

    def move_price(self, market_id: str, price: str) -> None:
        self.prices[market_id] = D(price)
        self._execute()

    def by_client_id(self, client_order_id: str) -> dict[str, Any] | None:
        return next((o for o in self.orders.values() if o["client_order_id"] == client_order_id), None)

    def open_orders(self) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o["status"] in OPEN]

    # --- HTTP ---

    def __call__(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        request = Request(url, method, headers, body)
        self.requests.append(request)
        path = urlsplit(url).path
        params = dict(parse_qsl(urlsplit(url).query)) | (json.loads(body) if body else {})
        if path.startswith("/v2/orders/"):
            path, params["order_id"] = "/v2/orders/{id}", path.rsplit("/", 1)[1]
        route = {
            ("GET", "/v2/clock"): self._clock,
            ("GET", "/v2/assets"): self._assets,
            ("POST", "/v2/orders"): self._create,
            ("GET", "/v2/orders"): self._list,
            ("GET", "/v2/orders/{id}"): self._get,
            ("DELETE", "/v2/orders/{id}"): self._cancel,
            ("GET", "/v2/account"): self._account,
            ("GET", "/v2/positions"): self._positions,
            ("GET", "/v2/account/activities/FILL"): self._fills,
            ("GET", "/v2/stocks/snapshots"): self._snapshots,
        }.get((method, path))
        if route is None:
            raise AssertionError(f"alpaca sim: unexpected request {method} {url}")
        answer = route(params)
        if isinstance(answer, tuple):  # (HTTP status, Alpaca's error body)
            status, error = answer
            text = json.dumps(error)
            self.client.handle_errors(status, "refused", url, method, {}, text, error, None, body)
            self.client.handle_http_status_code(status, "refused", url, method, text)
            raise AssertionError(f"ccxt did not treat {text} as an error")
        return json.loads(json.dumps(answer))

    # --- endpoints ---

    def _clock(self, p: dict[str, Any]) -> Any:
        return {
            **CLOCK,
            "timestamp": self.client.iso8601(self.now),
            "is_open": self.is_open,
            "next_open": self.client.iso8601(self.next_open),
            "next_close": self.client.iso8601(self.next_close),
        }

    def _assets(self, p: dict[str, Any]) -> Any:
        return {"crypto": CRYPTO_ASSETS, "us_equity": [STOCK_ASSET, WHOLE_SHARE_ASSET]}[p["asset_class"]]

    def _create(self, p: dict[str, Any]) -> Any:
        cid = p["client_order_id"]
        self.posts[cid] += 1
        if any(o["client_order_id"] == cid for o in self.orders.values()):
            return TAKEN
        qty = D(p["qty"])
        asset = next((a for a in [STOCK_ASSET, WHOLE_SHARE_ASSET, *CRYPTO_ASSETS] if a["symbol"] == p["symbol"]), None)
        assert asset is not None, p["symbol"]
        if qty % 1 and not asset["fractionable"]:
            return NOT_FRACTIONABLE
        if qty % 1 and asset["class"] == "us_equity" and p["time_in_force"] != "day":
            return NOT_DAY
        price = D(p.get("limit_price") or self.prices[p["symbol"]])
        if p["side"] == "buy" and qty * price > self.cash:
            return NO_CASH
        order = copy.deepcopy(ORDER) | {
            "id": f"a1b2c3d4-0000-4000-8000-{self._next_id:012d}",
            "client_order_id": cid,
            "submitted_at": self.client.iso8601(self.now),
            "asset_id": asset["id"],
            "symbol": p["symbol"],
            "asset_class": asset["class"],
            "qty": p["qty"],
            "order_type": p["type"],
            "type": p["type"],
            "side": p["side"],
            "time_in_force": p["time_in_force"],
            "limit_price": p.get("limit_price"),
            "stop_price": p.get("stop_price"),
        }
        self._next_id += 1
        self.orders[order["id"]] = order
        self._execute()
        return order

    def _list(self, p: dict[str, Any]) -> Any:
        wanted = {"open": OPEN, "closed": ("filled", "canceled", "expired", "rejected")}.get(p.get("status", "open"))
        symbols = p.get("symbols")
        return [
            o
            for o in self.orders.values()
            if (wanted is None or o["status"] in wanted) and (symbols is None or o["symbol"] == symbols)
        ]

    def _get(self, p: dict[str, Any]) -> Any:
        return self.orders.get(p["order_id"]) or NOT_FOUND

    def _cancel(self, p: dict[str, Any]) -> Any:
        order = self.orders.get(p["order_id"])
        if order is None or order["status"] not in OPEN:
            return NOT_FOUND
        order["status"], order["canceled_at"] = "canceled", self.client.iso8601(self.now)
        return ""  # 204 No Content

    def _account(self, p: dict[str, Any]) -> Any:
        held = sum((self.positions[s] * self.prices[s] for s in self.positions), ZERO)
        return {**ACCOUNT, "cash": str(self.cash), "equity": str(self.cash + held), "position_market_value": str(held)}

    def _positions(self, p: dict[str, Any]) -> Any:
        # Alpaca's documented position fields (as ccxt quotes them in alpaca.parse_balance).
        return [
            {
                "symbol": s,
                "asset_class": "us_equity" if "/" not in s else "crypto",
                "qty": str(q),
                "qty_available": str(q),
            }
            for s, q in self.positions.items()
            if q
        ]

    def _fills(self, p: dict[str, Any]) -> Any:
        return self.fills

    def _snapshots(self, p: dict[str, Any]) -> Any:
        stamp = self.client.iso8601(self.now)
        return {
            s: {"latestTrade": {"t": stamp, "p": float(self.prices[s]), "s": 100}, "latestQuote": {"t": stamp}}
            for s in p["symbols"].split(",")
        }

    # --- matching ---

    def _execute(self) -> None:
        if not self.is_open:
            return  # orders wait for the open
        for order in self.open_orders():
            price = self.prices[order["symbol"]]
            buy = order["side"] == "buy"
            if order["type"] == "market":
                self._fill(order, price)
            elif order["type"] == "limit" and (
                price <= D(order["limit_price"]) if buy else price >= D(order["limit_price"])
            ):
                self._fill(order, D(order["limit_price"]))
            elif order["type"] == "stop_limit" and (
                price >= D(order["stop_price"]) if buy else price <= D(order["stop_price"])
            ):
                self._fill(order, D(order["stop_price"]))

    def _fill(self, order: dict[str, Any], price: Decimal) -> None:
        qty = D(order["qty"])
        sign = 1 if order["side"] == "buy" else -1
        self.cash -= sign * qty * price
        self.positions[order["symbol"]] += sign * qty
        stamp = self.client.iso8601(self.now)
        order |= {"status": "filled", "filled_qty": order["qty"], "filled_avg_price": str(price), "filled_at": stamp}
        self.fills.append(
            FILL
            | {
                "id": f"20240718093000000::{order['id']}",
                "transaction_time": stamp,
                "price": str(price),
                "qty": order["qty"],
                "side": order["side"],
                "symbol": order["symbol"],
                "order_id": order["id"],
                "cum_qty": order["qty"],
            }
        )
