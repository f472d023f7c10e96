"""Binance spot's public ticker streams for a BinanceSpotSim, served on a local websocket (aiohttp).

ccxt.pro's binance `watch_tickers([...])` (and `watch_ticker`) connects to `urls['api']['ws']['spot']`
+ "/<stream index>", sends `{"method": "SUBSCRIBE", "params": ["ltcusdt@miniTicker"], "id": n}` and
gets `{"result": null, "id": n}`; events then come raw, `{"e": "24hrMiniTicker", "s": "LTCUSDT", "c":
last, ...}` (`@ticker`: "24hrTicker"). This server speaks exactly that, so ccxt.pro's real binance code
subscribes and parses. The path holds "/stream", which is how ccxt tells a spot stream url.

Prices are the simulator's: `publish()` sends its current price on every subscribed stream (the desk
calls it after each `move_price`), and every `every_s` the server sends it again, as Binance's ticker
streams update each second. `drop()` closes every connection now (the stream dies; prices sent while
no one is subscribed are lost).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.helpers.binance_spot_sim import BinanceSpotSim
from tests.helpers.local_ws import LocalWebSocketServer

WS_PATH = "/stream/ws"
EVENTS = {"miniTicker": "24hrMiniTicker", "ticker": "24hrTicker"}


class BinanceTickerStream(LocalWebSocketServer):
    """The public ticker streams of one simulated market; `url` is the base ccxt appends its index to."""

    def __init__(self, sim: BinanceSpotSim, every_s: float | None = 1.0) -> None:
        super().__init__("binance-ticker-stream", WS_PATH + "/{index}", WS_PATH)
        self.sim = sim
        self.every_s = every_s
        self.subscriptions = 0  # SUBSCRIBE requests answered
        self.sent = 0  # ticker events written
        self.drops = 0  # drop() calls
        self._sockets: dict[web.WebSocketResponse, set[str]] = {}  # socket -> its streams
        self._tasks: list[asyncio.Task[None]] = []

    # --- the test's controls ---

    def publish(self) -> None:
        """Send the simulator's current price on every subscribed stream (waits until it is written)."""
        self.run(self._send_all())

    def drop(self) -> None:
        self.drops += 1
        self.run(self._close_all())

    def streams(self) -> set[str]:
        """The streams subscribed now, over every connection."""
        return set().union(*self._sockets.values()) if self._sockets else set()

    def ccxt_options(self) -> dict[str, Any]:
        """What points a ccxt.pro binance client's public spot streams at this server."""
        return {"urls": {"api": {"ws": {"spot": self.url}}}}

    # --- the server ---

    async def on_start(self) -> None:
        if self.every_s:
            self._tasks.append(asyncio.ensure_future(self._every()))

    async def on_stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self._close_all()

    async def _every(self) -> None:
        assert self.every_s
        while True:
            await asyncio.sleep(self.every_s)
            await self._send_all()

    async def _close_all(self) -> None:
        for ws in list(self._sockets):
            self._sockets.pop(ws, None)
            await ws.close()

    async def _send_all(self) -> None:
        for ws, streams in list(self._sockets.items()):
            for stream in sorted(streams):
                try:
                    await ws.send_str(json.dumps(self._event(stream)))
                except ConnectionError:
                    continue
                self.sent += 1

    def _event(self, stream: str) -> dict[str, Any]:
        market_id, channel = stream.split("@", 1)
        last = f"{self.sim.price:.8f}"
        now = int(self.sim.client.milliseconds())
        return {
            "e": EVENTS[channel], "E": now, "s": market_id.upper(), "c": last, "o": last, "h": last, "l": last,
            "b": last, "a": last, "v": "1000.00000000", "q": "100000.00000000", "O": now - 86_400_000, "C": now,
        }  # fmt: skip

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets[ws] = set()
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                call = json.loads(message.data)
                streams = self._sockets.get(ws)
                if streams is None:
                    break
                if call.get("method") == "SUBSCRIBE":
                    streams.update(call["params"])
                    self.subscriptions += 1
                elif call.get("method") == "UNSUBSCRIBE":
                    streams.difference_update(call["params"])
                await ws.send_str(json.dumps({"result": None, "id": call.get("id")}))
        finally:
            self._sockets.pop(ws, None)
        return ws
