"""A local HTTP endpoint that stands in for a notification service: it records every request (path
and JSON or form body) and answers as Telegram's Bot API does. `telegram_here` points apprise's
Telegram plugin at it (the plugin builds `{notify_url}{bot_token}/sendMessage`, notify_url being
https://api.telegram.org/bot), so a real tgram:// URL goes through apprise's own code to 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from apprise.plugins.telegram import NotifyTelegram

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT_ID = "5550001"
TELEGRAM_URL = f"tgram://{BOT_TOKEN}/{CHAT_ID}/"


@dataclass
class Endpoint:
    port: int = 0
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200  # set to 500 to make the service fail

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def texts(self) -> list[str]:
        return [str(body.get("text", body.get("message", ""))) for _path, body in self.requests]


def _handler(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            try:
                body = json.loads(raw) if raw.startswith("{") else {k: v[0] for k, v in parse_qs(raw).items()}
            except ValueError:
                body = {"raw": raw}
            endpoint.requests.append((self.path, body))
            answer = json.dumps({"ok": endpoint.status == 200, "result": {"message_id": len(endpoint.requests)}})
            self.send_response(endpoint.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_endpoint() -> Iterator[Endpoint]:
    endpoint = Endpoint()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint))
    endpoint.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()


def telegram_here(monkeypatch: pytest.MonkeyPatch, endpoint: Endpoint) -> None:
    """apprise's Telegram plugin posts to the endpoint instead of api.telegram.org."""
    monkeypatch.setattr(NotifyTelegram, "notify_url", f"{endpoint.base}/bot")
