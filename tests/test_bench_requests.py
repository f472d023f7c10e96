"""The load bench builds its callback requests by hand (as dash-renderer sends them); each must
still name an existing callback with its inputs and states, or the bench measures HTTP 500s (it
did: the chart's draw gained a State and the blocks refresh lost an Input). So does the chart-drag
bench's."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from dash import Dash

from bench.chart_drag import drag_body, drag_key
from bench.load import Plan, blocks_body, draw_body, preview_body, preview_output
from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.dashboard import build_app


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


def _name(ident: object) -> object:
    """An id as compared: a pattern id by its type (the map keeps those as JSON text)."""
    if isinstance(ident, str) and ident.startswith("{"):
        ident = json.loads(ident)
    return ident["type"] if isinstance(ident, dict) else ident


@pytest.mark.parametrize("body", [draw_body(Plan(1, {}, 100.0)), blocks_body(1)])
def test_each_bench_request_matches_its_callback(app: Dash, body: dict) -> None:
    _matches(app, body)


def test_the_preview_request_is_built_from_the_servers_callbacks(app: Dash) -> None:
    """As the bench reads them from /_dash-dependencies (dash-renderer's source)."""
    key = preview_output([{"output": key} for key in app.callback_map])
    body = preview_body(Plan(1, {}, 100.0, key), 1, 0)
    _matches(app, body)
    assert len(body["outputs"]) == key.count("...") + 1


def test_the_chart_drag_bench_request_matches_its_callback(app: Dash) -> None:
    _matches(app, drag_body(drag_key(app), 1, Decimal("95"), Decimal("96"), 1))


def _matches(app: Dash, body: dict) -> None:
    entry = app.callback_map.get(body["output"])
    assert entry is not None, f"no callback {body['output']}"
    for sent, declared in ((body["inputs"], entry["inputs"]), (body["state"], entry["state"])):
        assert len(sent) == len(declared), (body["output"], declared)
        for arg, spec in zip(sent, declared, strict=True):
            first = arg[0] if isinstance(arg, list) else arg
            assert (_name(first["id"]), first["property"]) == (_name(spec["id"]), spec["property"]), body["output"]
