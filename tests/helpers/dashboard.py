"""Helpers of the dashboard tests: the app on the test database with a demo exchange on a fixed
clock, users, signing in through the real form, and well-formed requests for every callback."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from typing import Any

from dash import Dash
from flask.testing import FlaskClient

from app import create_app
from db.enums import Role
from db.models import Series
from engine.config import Settings
from engine.exchanges.demo import DemoExchange
from engine.market import jobs
from engine.runtime import Runtime
from engine.users.directory import UserView, add_user

MIN = 60_000
# 2024-02-01 00:00 UTC plus a bit: the demo exchange's fixed "now" (mid-candle on purpose).
NOW = 1_706_745_600_000 + 17_000
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class SlowSource:
    """A demo exchange whose pages take `delay_s` each, so a backfill's progress can be seen."""

    def __init__(self, inner: DemoExchange, delay_s: float) -> None:
        self.inner, self.delay_s, self.id = inner, delay_s, inner.id

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list:
        time.sleep(self.delay_s)
        return self.inner.fetch_ohlcv(symbol, timeframe, since, limit)


# Every app built, so that its database pool is closed when its test module ends
# (tests/conftest.py): each app has its own runtime and pool, and PostgreSQL's 100 connections ran
# out before the suite did.
BUILT: list[Dash] = []


def dispose_built_apps() -> None:
    while BUILT:
        app_runtime(BUILT.pop()).db.dispose()


def build_app(settings: Settings, delay_s: float = 0.0, celery_broker: str | None = None) -> Dash:
    """The real app (engine off), its market data from a demo exchange frozen at NOW; background
    callbacks on diskcache, or on Celery over `celery_broker`."""
    app = create_app(settings, start_engine=False, secure_cookies=False, celery_broker=celery_broker)
    BUILT.append(app)
    demo = DemoExchange(seed=7, clock=lambda: NOW)
    app_runtime(app).sources["demo"] = SlowSource(demo, delay_s) if delay_s else demo
    # Dash moves the pages' callbacks into the app at its first request: make that happen now, so
    # app.callback_map lists every callback and the next app built gets its own copy.
    assert app.server.test_client().get("/login").status_code == 200
    return app


def app_runtime(app: Dash) -> Runtime:
    return app.server.config["TRADEBLOCK_RUNTIME"]


def make_user(runtime: Runtime, username: str, role: Role) -> UserView:
    return add_user(runtime, username, PASSWORD, role)


def watch_backfilled(runtime: Runtime, user_id: int, symbol: str = "BTC/USDT", timeframe: str = "1m") -> Series:
    """Watch a series and backfill it right here (no scheduler in tests)."""
    series = jobs.watch(runtime, user_id, "demo", symbol, timeframe)
    jobs.backfill_recent(runtime, series)
    return series


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, next_path: str = "") -> Any:
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    form = {"csrf_token": token, "username": username, "password": password, "next": next_path}
    return client.post("/login", data=form)


def _split_outputs(key: str) -> list[tuple[Any, str]]:
    """The (id, property) outputs of a callback_map key ("a.b" or "..a.b...c.d..")."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        prop = prop.split("@")[0]  # allow_duplicate outputs carry a hash suffix
        outputs.append((json.loads(ident) if ident.startswith("{") else ident, prop))
    return outputs


def _concrete(ident: Any) -> Any:
    """A pattern id with its wildcards replaced by a real-looking value."""
    if isinstance(ident, dict):
        return {k: (1 if isinstance(v, list) else v) for k, v in ident.items()}
    return ident


def _argument(spec: dict) -> Any:
    ident = json.loads(spec["id"]) if spec["id"].startswith("{") else spec["id"]
    if isinstance(ident, dict) and any(v == ["ALL"] for v in ident.values()):
        return [{"id": _concrete(ident), "property": spec["property"], "value": 1}]
    return {"id": _concrete(ident), "property": spec["property"], "value": None}


def signed_in(app: Dash, username: str) -> FlaskClient:
    """A test client of `app` signed in as `username` (with the shared test password)."""
    client = app.server.test_client()
    assert login(client, username).status_code == 302
    return client


def body_of(app: Dash, output: str) -> dict:
    """A fresh copy of the well-formed request of the callback whose output key holds `output`:
    the one holding it as a plain output first (a duplicate one's key reads `output@<hash>`)."""
    whole = re.compile(rf"(^|\.){re.escape(output)}(\.|$)")
    bodies = list(callback_bodies(app))
    found = [body for key, body in bodies if whole.search(key)] or [body for key, body in bodies if output in key]
    return copy.deepcopy(found[0])


def post(client: FlaskClient, body: dict) -> dict:
    """Send a callback request that must be answered 200; its response's outputs."""
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["response"]


def key_of(app: Dash, output: str) -> str:
    """The callback_map key of the callback whose outputs start with `output` (e.g. "accounts-table")."""
    keys = [k for k in app.callback_map if k.lstrip(".").startswith(output + ".")]
    assert len(keys) == 1, keys
    return keys[0]


def outputs_of(key: str) -> Any:
    """The `outputs` of a callback request for the callback_map key `key`."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]} for p in parts]
    return outs if key.startswith("..") else outs[0]


def callback_bodies(app: Dash) -> Iterator[tuple[str, dict]]:
    """(key, body) of a well-formed /_dash-update-component request for each server callback."""
    for key, entry in app.callback_map.items():
        if "callback" not in entry:
            continue  # clientside: runs in the browser, nothing on the server to call
        inputs = [_argument(s) for s in entry["inputs"]]
        state = [_argument(s) for s in entry["state"]]
        outputs = [{"id": _concrete(i), "property": p} for i, p in _split_outputs(key)] if "." in key else []
        first = entry["inputs"][0]
        body = {
            "output": key,
            "outputs": outputs[0] if len(outputs) == 1 and not key.startswith("..") else outputs,
            "inputs": inputs,
            "state": state,
            "changedPropIds": [f"{first['id']}.{first['property']}"],
        }
        yield key, body


def call(client: FlaskClient, output: str, inputs: list, state: list | None = None, outputs: Any = None) -> Any:
    """POST one callback request the way dash-renderer does."""
    body = {"output": output, "outputs": outputs, "inputs": inputs, "state": state or [], "changedPropIds": []}
    if inputs:
        first = inputs[0]
        body["changedPropIds"] = [
            f"{json.dumps(first['id']) if isinstance(first['id'], dict) else first['id']}.{first['property']}"
        ]
    return client.post("/_dash-update-component", json=body)


def route(client: FlaskClient, path: str) -> Any:
    """Ask the pages router for `path`'s layout, as the browser does on client-side navigation."""
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }
    return client.post("/_dash-update-component", json=body)
