"""Offline ccxt for tests: real exchange classes fed recorded or synthetic HTTP bodies, no network.

- `offline_client(id)` builds a ccxt exchange from tests/fixtures/ccxt/<id>.markets.json (normalised as
  that folder's README says) with the fixture's options.
- `Transport` replaces `client.fetch` (the one method every ccxt request goes through) and records
  each request, so tests can assert on the URL ccxt built.
- `binance_kline_server(candles)` and `okx_candle_server(candles)` answer candle requests from an
  in-memory series in each exchange's raw JSON format, honouring the paging parameters ccxt sends
  (binance: startTime/endTime/limit; okx: before/after/limit, newest first).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ccxt

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ccxt"
# Fields newer ccxt expects on every market; older snapshots lack them (see the fixture README).
_MARKET_DEFAULTS = ("linear", "inverse", "settle", "settleId", "contractSize", "expiry", "strike", "optionType")
# Exchanges whose stored snapshot gives precision as decimal places while ccxt now uses tick sizes.
_DECIMAL_PLACE_SNAPSHOTS = frozenset({"binance"})

Handler = Callable[[str, str, Any, Any], Any]
Candle = Sequence[float]


@cache
def _read_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def fixture(exchange_id: str) -> dict[str, Any]:
    """The recorded responses file `<id>.json` (a fresh copy: callers may mutate it)."""
    return json.loads(json.dumps(_read_json(f"{exchange_id}.json")))


def fixture_entries(exchange_id: str, method: str) -> list[dict[str, Any]]:
    """The enabled recorded entries of one method (e.g. "fetchOHLCV")."""
    return [e for e in fixture(exchange_id)["methods"].get(method, []) if not e.get("disabled")]


def raw_markets(exchange_id: str) -> dict[str, dict[str, Any]]:
    """The markets snapshot exactly as stored (a fresh copy)."""
    return json.loads(json.dumps(_read_json(f"{exchange_id}.markets.json")))


def normalise_markets(markets: dict[str, dict[str, Any]], decimal_places: bool) -> dict[str, dict[str, Any]]:
    """Make an old snapshot loadable by ccxt 4.5: missing contract fields as null and, when the
    snapshot stores decimal places, precision converted to tick sizes (n -> 10**-n)."""
    for market in markets.values():
        for key in _MARKET_DEFAULTS:
            market.setdefault(key, None)
        if decimal_places:
            precision = market.get("precision") or {}
            for key, value in precision.items():
                if isinstance(value, int | float) and float(value).is_integer():
                    precision[key] = float(f"1e-{int(value)}")
    return markets


def fixture_markets(exchange_id: str) -> dict[str, dict[str, Any]]:
    return normalise_markets(raw_markets(exchange_id), exchange_id in _DECIMAL_PLACE_SNAPSHOTS)


def offline_client(exchange_id: str, markets: dict[str, dict[str, Any]] | None = None) -> ccxt.Exchange:
    """A ccxt exchange with the fixture markets loaded and a transport that refuses to go online."""
    markets = fixture_markets(exchange_id) if markets is None else markets
    client = getattr(ccxt, exchange_id)(
        {
            "markets": markets,
            "enableRateLimit": False,
            "apiKey": "key",
            "secret": "secretsecret",
            "password": "password",
        }
    )
    client.extend_exchange_options(fixture(exchange_id).get("options") or {})
    client.fetch = Transport(_offline)
    return client


def _offline(url: str, method: str, headers: Any, body: Any) -> Any:
    raise AssertionError(f"unexpected HTTP request in a test: {method} {url}")


@dataclass
class Request:
    url: str
    method: str
    headers: Any
    body: Any

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, str]:
        return query(self.url)


@dataclass
class Transport:
    """Stands in for `client.fetch`: answers through `handler` and keeps every request made."""

    handler: Handler
    requests: list[Request] = field(default_factory=list)

    def __call__(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        self.requests.append(Request(url, method, headers, body))
        return self.handler(url, method, headers, body)

    @property
    def urls(self) -> list[str]:
        return [r.url for r in self.requests]


def replay(client: ccxt.Exchange, response: Any) -> Transport:
    """Make `client` answer every request with one recorded body; returns the transport."""
    transport = Transport(lambda *_args: json.loads(json.dumps(response)))
    client.fetch = transport
    return transport


def query(url: str) -> dict[str, str]:
    """The query string of `url` as a flat dict (last value wins)."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def _num(value: float) -> str:
    return repr(float(value))


def _window(candles: Sequence[Candle], lo: int | None, hi: int | None) -> list[Candle]:
    """Candles with lo <= ts <= hi (either bound optional), oldest first."""
    return [c for c in candles if (lo is None or c[0] >= lo) and (hi is None or c[0] <= hi)]


def binance_kline_server(candles: Sequence[Candle], step_ms: int = 60_000) -> Transport:
    """Binance /klines over `candles` (oldest first): startTime/endTime inclusive, limit default
    500 capped at 1000, the most recent ones when no startTime is given."""

    def handler(url: str, method: str, headers: Any, body: Any) -> Any:
        if "klines" not in urlsplit(url).path.lower():
            raise AssertionError(f"binance fake: unexpected request {url}")
        q = query(url)
        limit = min(int(q.get("limit", 500)), 1000)
        start, end = q.get("startTime"), q.get("endTime")
        rows = _window(candles, int(start) if start else None, int(end) if end else None)
        rows = rows[:limit] if start else rows[-limit:]
        return [
            [int(c[0]), *(_num(x) for x in c[1:6]), int(c[0]) + step_ms - 1, _num(c[4] * c[5]), 10, "0", "0", "0"]
            for c in rows
        ]

    return Transport(handler)


def okx_candle_server(candles: Sequence[Candle]) -> Transport:
    """OKX /market/candles and /market/history-candles over `candles`: `after` returns records
    older than it, `before` newer than it (both exclusive), newest first, limit default 100
    capped at 300. Like the real API, a window holding more than `limit` candles yields its newest ones."""

    def handler(url: str, method: str, headers: Any, body: Any) -> Any:
        path = urlsplit(url).path
        if not path.endswith(("/market/candles", "/market/history-candles")):
            raise AssertionError(f"okx fake: unexpected request {url}")
        q = query(url)
        limit = min(int(q.get("limit", 100)), 300)
        after, before = q.get("after"), q.get("before")
        rows = [c for c in candles if (after is None or c[0] < int(after)) and (before is None or c[0] > int(before))]
        newest_first = list(reversed(rows))[:limit]
        data = [[str(int(c[0])), *(_num(x) for x in c[1:6]), _num(c[5]), _num(c[4] * c[5]), "1"] for c in newest_first]
        return {"code": "0", "msg": "", "data": data}

    return Transport(handler)


def synthetic_candles(start_ms: int, count: int, step_ms: int = 60_000, price: float = 100.0) -> list[list[float]]:
    """A simple, exactly representable candle series for paging tests (oldest first)."""
    out: list[list[float]] = []
    for i in range(count):
        o = price + (i % 50) * 0.5
        c = o + (0.5 if i % 3 else -0.5)
        out.append([start_ms + i * step_ms, o, max(o, c) + 1.0, min(o, c) - 1.0, c, float(1 + i % 7)])
    return out
