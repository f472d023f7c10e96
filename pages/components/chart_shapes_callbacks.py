"""Callbacks of what the chart draws over the candles (pages/components/chart_shapes.py): the live
blocks' lines and fills, the trader's waiting conditions (pages/components/chart_conditions.py), the
form's proposed block, the price alerts and the user's drawings, sent as one dash.Patch of
layout.shapes (never a redrawn figure); and saving and restoring the drawings per series.

Every reader may draw (analysts too); the blocks drawn are the signed-in user's own, read on the
server for the series they watch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from dash import Input, Output, State, ctx, no_update

from engine.blocks import api as blocks
from engine.market import api as market
from engine.market.api import DrawingError
from pages.components import (
    block_form,
    chart_alerts,
    chart_blocks,
    chart_conditions,
    chart_focus,
    chart_replay,
    chart_shapes,
)
from pages.components.deferred import Deferred
from web.auth import READERS, current_runtime, current_view, require_role

# Registered by pages/chart.py, once per app (see pages/components/deferred.py).
CALLBACKS = Deferred()

log = logging.getLogger(__name__)
NAMES = "chart-shape-names"  # {"key": hash of what was sent, "names": [name of shapes[i]]}
DRAWINGS = "chart-drawings"  # {"series_id": ..., "shapes": [...]}: the drawings as stored
_SHAPE_KEY = re.compile(r"^shapes\[(\d+)\]\.(\w+)$")


def _series(view: dict | None) -> int | None:
    return (view or {}).get("series_id")


@CALLBACKS.callback(
    Output("chart-graph", "figure", allow_duplicate=True),
    Output(NAMES, "data"),
    Input("chart-view", "data"),
    Input(block_form.PREVIEW_STORE, "data"),
    Input(DRAWINGS, "data"),
    Input(block_form.VERSION, "data"),
    Input(chart_alerts.STORE, "data"),
    Input(chart_conditions.SHAPES, "data"),
    Input(chart_blocks.AMENDED, "data"),
    State(NAMES, "data"),
    State(chart_focus.STORE, "data"),
    State(chart_replay.REPLAY, "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def draw_overlays(
    view: dict | None,
    preview: dict | None,
    drawings: dict | None,
    _version: int | None,
    alerts: dict | None,
    waiting: dict | None,
    amended: int | None,
    sent: dict | None,
    focus: dict | None = None,
    replay: dict | None = None,
) -> tuple[Any, Any]:
    """Send the shapes again whenever they differ from what the figure holds (a live tick every
    few seconds sends nothing unless a block moved), and after every amend asked from the chart
    (`amended`, pages/components/chart_blocks_callbacks.py), accepted or not."""
    series_id = _series(view)
    if series_id is None:
        return no_update, no_update
    try:
        # A replay's blocks over its chart only (pages/components/chart_replay.py).
        overlays = chart_replay.shown_overlays(current_runtime(), current_view().id, series_id, replay)
    except market.NotWatchedError:
        return no_update, no_update
    overlays = _with_focused_block(overlays, focus, series_id)
    if (preview or {}).get("series_id") != series_id:
        preview = None
    stored = (drawings or {}).get("shapes") if (drawings or {}).get("series_id") == series_id else []
    shapes, names = chart_shapes.compose(overlays, preview, stored or [], chart_alerts.shapes(alerts, series_id))
    if not (view or {}).get("replay"):  # conditions wait on the live market, not in a replay
        waits = chart_conditions.condition_shapes(waiting, series_id)
        shapes, names = [*waits, *shapes], [*(s["name"] for s in waits), *names]
    fills = chart_shapes.fills_update(overlays)
    key = hashlib.sha1(
        json.dumps([view.get("drawn") if view else None, shapes, fills, amended], sort_keys=True, default=str).encode()
    ).hexdigest()
    if sent and sent.get("key") == key:
        return no_update, no_update
    return chart_shapes.shapes_patch(shapes, overlays, amended), {"key": key, "names": names}


def _with_focused_block(overlays: blocks.ChartOverlays, focus: dict | None, series_id: int) -> blocks.ChartOverlays:
    """A link's block (closed ones too) over its own series; nothing for another user's block."""
    block_id = (focus or {}).get("block")
    if (focus or {}).get("series_id") != series_id or not isinstance(block_id, int):
        return overlays
    runtime, user = current_runtime(), current_view()
    try:
        exchange, symbol, focused = blocks.block_overlays(runtime, user.id, block_id)
    except blocks.BlockAccessError:
        return overlays
    entry = market.watched(runtime, user.id, series_id)
    if (entry.exchange, entry.symbol) != (exchange, symbol):
        return overlays
    return chart_focus.merged(overlays, focused)


def _edited(relayout: dict, names: list[str], stored: list[dict]) -> list[dict] | None:
    """The drawings after this relayout, or None when it did not touch them."""
    if isinstance(relayout.get("shapes"), list):  # drawn or erased: plotly sends every shape
        return [s for s in relayout["shapes"] if isinstance(s, dict) and not chart_shapes.is_ours(s)]
    changed = False
    updated = [dict(s) for s in stored]
    for key, value in relayout.items():
        match = _SHAPE_KEY.match(key)
        if not match or int(match.group(1)) >= len(names):
            continue
        name = names[int(match.group(1))]
        if not name.startswith(chart_shapes.DRAWING_PREFIX):
            continue
        k = int(name.removeprefix(chart_shapes.DRAWING_PREFIX))
        if k < len(updated):
            updated[k][match.group(2)] = value
            changed = True
    return updated if changed else None


@CALLBACKS.callback(
    Output(DRAWINGS, "data"),
    Input("chart-view", "data"),
    Input("chart-graph", "relayoutData"),
    State(DRAWINGS, "data"),
    State(NAMES, "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def keep_drawings(view: dict | None, relayout: dict | None, stored: dict | None, sent: dict | None) -> Any:
    """Load the drawings of the series shown; save them after each draw, erase or move."""
    series_id = _series(view)
    if series_id is None:
        return no_update
    runtime, user = current_runtime(), current_view()
    same = (stored or {}).get("series_id") == series_id
    try:
        if ctx.triggered_id == "chart-view" and same:
            return no_update
        # A drawing may come before the stored ones were loaded: load them first, then apply it.
        current = (stored or {}).get("shapes") or [] if same else market.drawings(runtime, user.id, series_id)
        edited = None
        if ctx.triggered_id != "chart-view":
            edited = _edited(relayout or {}, (sent or {}).get("names") or [], current)
        if edited is None:
            return no_update if same else {"series_id": series_id, "shapes": current}
        return {"series_id": series_id, "shapes": market.keep_drawings(runtime, user.id, series_id, edited)}
    except market.NotWatchedError:
        return no_update
    except DrawingError as exc:
        log.warning("drawings of %s on series %s refused: %s", user.username, series_id, exc)
        return no_update
