"""A local websocket server (aiohttp) on its own event loop and thread, for the simulated venue
streams (binance_user_stream.py, binance_ticker_stream.py): start, stop, and running one of its
coroutines from the test's thread. Subclasses give the path's handler and what runs beside it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from aiohttp import web


class LocalWebSocketServer:
    """Serves `route` (aiohttp's path pattern) on 127.0.0.1 at a free port; `url` is `ws://host:port` + `path`."""

    def __init__(self, name: str, route: str, path: str) -> None:
        self.url = ""
        self._route, self._path = route, path
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)

    def start(self) -> str:
        self._thread.start()
        self.url = self.run(self._serve())
        return self.url

    def stop(self) -> None:
        self.run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run `coroutine` on the server's loop and wait for its result (10 s at most)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _serve(self) -> str:
        await self.on_start()
        app = web.Application()
        app.router.add_get(self._route, self.socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return f"ws://127.0.0.1:{self._runner.addresses[0][1]}{self._path}"

    async def _shutdown(self) -> None:
        await self.on_stop()
        assert self._runner is not None
        await self._runner.cleanup()

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        raise NotImplementedError

    async def on_start(self) -> None:
        """On the loop, before the server listens: start what runs beside the sockets."""

    async def on_stop(self) -> None:
        """On the loop, before the server closes: stop it and close the sockets."""
