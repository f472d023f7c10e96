"""Binance spot's user-data stream for a BinanceSpotSim, served on a local websocket (aiohttp).

ccxt 4.5 subscribes to the spot user-data stream over Binance's WebSocket API (no listenKey): it
sends `userDataStream.subscribe.signature` (signed parameters) to ws-api/v3 and gets
`{"id", "status": 200, "result": {"subscriptionId": 0}}`; events then come as
`{"subscriptionId": 0, "event": {"e": "executionReport", ...}}`. This server speaks exactly that,
so ccxt.pro's real binance `watch_orders` code connects, authenticates and parses.

Events are the simulator's own changes: the stream wraps the simulator's HTTP layer (`client.fetch`)
and `move_price`, and after each call sends an executionReport for every order whose status or fill
changed (NEW, TRADE with the last fill, CANCELED). `drop_before_next_event()` makes the server close
every connection instead of sending the next event (the stream dies mid-fill: that event is lost).
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aiohttp import WSMsgType, web

from tests.helpers.binance_spot_sim import BinanceSpotSim
from tests.helpers.local_ws import LocalWebSocketServer

WS_PATH = "/ws-api/v3"
SUBSCRIBE = "userDataStream.subscribe.signature"


class BinanceUserStream(LocalWebSocketServer):
    """The user-data stream of one simulated Binance spot account; `url` is its ws-api address."""

    def __init__(self, sim: BinanceSpotSim) -> None:
        super().__init__("binance-user-stream", WS_PATH, WS_PATH)
        self.sim = sim
        self.lock = threading.RLock()  # the engine's threads and the test both drive the simulator
        self.seen = {oid: _mark(o) for oid, o in sim.orders.items()}
        self.sent: list[dict[str, Any]] = []  # events written to a subscriber
        self.subscriptions = 0  # subscribe requests answered
        self.drops = 0  # connections closed by drop_before_next_event
        self._drop = False
        self._sockets: set[web.WebSocketResponse] = set()
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        sim.client.fetch = self._fetch

    # --- the test's controls ---

    def move_price(self, price: str) -> list[str]:
        with self.lock:
            filled = self.sim.move_price(price)
            self._publish()
        return filled

    def drop_before_next_event(self) -> None:
        self._drop = True

    def ccxt_options(self) -> dict[str, Any]:
        """What points a ccxt.pro binance client at this server (runtime.push_options["binance"])."""
        return {"urls": {"api": {"ws": {"ws-api": {"spot": self.url}}}}}

    # --- the simulator's side ---

    def _fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        with self.lock:
            try:
                return self.sim(url, method, headers, body)
            finally:
                self._publish()

    def _publish(self) -> None:
        for oid, order in self.sim.orders.items():
            mark = _mark(order)
            if self.seen.get(oid) != mark:
                before = self.seen.get(oid)
                self.seen[oid] = mark
                event = execution_report(self.sim, order, before)
                self._loop.call_soon_threadsafe(self._enqueue, event)

    # --- the server ---

    def _enqueue(self, event: dict[str, Any]) -> None:
        assert self._queue is not None
        self._queue.put_nowait(event)

    async def on_start(self) -> None:
        self._queue = asyncio.Queue()
        self._sender = asyncio.ensure_future(self._send_events())

    async def on_stop(self) -> None:
        self._sender.cancel()
        for ws in list(self._sockets):
            await ws.close()

    async def _send_events(self) -> None:
        assert self._queue is not None
        while True:
            event = await self._queue.get()
            if self._drop:
                self._drop = False
                self.drops += 1
                for ws in list(self._sockets):
                    self._sockets.discard(ws)
                    await ws.close()
                continue
            for ws in list(self._sockets):
                await ws.send_str(json.dumps({"subscriptionId": 0, "event": event}))
                self.sent.append(event)

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._answer(ws, json.loads(message.data))
        finally:
            self._sockets.discard(ws)
        return ws

    async def _answer(self, ws: web.WebSocketResponse, call: dict[str, Any]) -> None:
        params = call.get("params") or {}
        if call.get("method") != SUBSCRIBE or params.get("apiKey") != self.sim.client.apiKey:
            error = {"code": -1002, "msg": "You are not authorized to execute this request."}
            await ws.send_str(json.dumps({"id": call.get("id"), "status": 401, "error": error}))
            return
        assert params.get("signature"), "ccxt signs the subscription"
        self.subscriptions += 1
        await ws.send_str(json.dumps({"id": call["id"], "status": 200, "result": {"subscriptionId": 0}}))
        self._sockets.add(ws)


def _mark(order: dict[str, Any]) -> tuple[str, str]:
    return order["status"], order["executedQty"]


def execution_report(sim: BinanceSpotSim, order: dict[str, Any], before: tuple[str, str] | None) -> dict[str, Any]:
    """Binance's executionReport for `order` after a change from `before` (None: a new order)."""
    status = order["status"]
    fill = next((t for t in reversed(sim.trades) if t["orderId"] == order["orderId"]), None)
    traded = fill is not None and (before is None or before[1] != order["executedQty"])
    execution = "TRADE" if traded else ("NEW" if status in ("NEW",) else status)
    now = sim.now
    return {
        "e": "executionReport", "E": now, "s": order["symbol"], "c": order["clientOrderId"], "S": order["side"],
        "o": order["type"], "f": order["timeInForce"], "q": order["origQty"], "p": order["price"],
        "P": order["stopPrice"], "F": "0.00000000", "g": -1, "C": "", "x": execution, "X": status, "r": "NONE",
        "i": int(order["orderId"]), "l": fill["qty"] if traded else "0.00000000",
        "z": order["executedQty"], "L": fill["price"] if traded else "0.00000000",
        "n": fill["commission"] if traded else "0", "N": fill["commissionAsset"] if traded else None,
        "T": int(order["updateTime"]), "t": int(fill["id"]) if traded else -1, "I": 1, "w": order["isWorking"],
        "m": bool(fill["isMaker"]) if traded else False, "M": False, "O": int(order["time"]),
        "Z": order["cummulativeQuoteQty"], "Y": fill["quoteQty"] if traded else "0.00000000",
        "Q": "0.00000000",
    }  # fmt: skip
