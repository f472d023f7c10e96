"""What the chart draws over the candles, as plotly layout shapes and one marker trace:

- the live blocks' lines (entry, stop, each target; coloured by role, solid once filled, dashed
  while waiting); a live stop and a target not reached yet are editable: dragging one amends the
  block (pages/components/chart_blocks_callbacks.py);
- the form's proposed block (dotted, editable: dragging one moves the form's field);
- the user's drawings (plotly's draw tools), editable;
- the price alerts of the market (pages/components/chart_alerts.py), not editable.

Shapes are named: "tb-block-...", "tb-preview-...", "tb-alert-..." and "tb-condition-..." are ours,
"drawing-<k>" the k-th drawing, so that relayoutData's `shapes[i]` can be traced back to what was
dragged (the names are kept in a store next to the figure). The fills trace is the figure's third
trace (figures.candle_figure).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import Patch

from engine.blocks.api import ChartOverlays, OverlayLine
from pages.components.chart_alerts import PREFIX as ALERT_PREFIX

FILLS_TRACE = 2
COLORS = {"entry": "#0d6efd", "stop": "#dc3545", "target": "#198754"}
BLOCK_PREFIX, PREVIEW_PREFIX, DRAWING_PREFIX = "tb-block-", "tb-preview-", "drawing-"
CONDITION_PREFIX = "tb-condition-"  # a conditional block's line (pages/components/chart_conditions.py)
DRAW_BUTTONS = ["drawline", "drawrect", "drawopenpath", "eraseshape"]
NEW_SHAPE = {"line": {"color": "#fd7e14", "width": 2}, "fillcolor": "rgba(253,126,20,0.15)", "opacity": 1}


def graph_config() -> dict[str, Any]:
    return {
        "scrollZoom": True,
        "displaylogo": False,
        "responsive": True,
        "modeBarButtonsToAdd": DRAW_BUTTONS,
        # dcc.Graph would offer "Share chart..." (an upload to Plotly Cloud): a desk's charts,
        # lines and levels stay on the desk.
        "showSendToCloud": False,
        "showEditInChartStudio": False,
        "modeBarButtonsToRemove": ["sendChartToCloud", "sendDataToCloud"],
        "toImageButtonOptions": {"filename": "tradeblock-chart"},
    }


def _line(name: str, price: float, color: str, dash: str, text: str, editable: bool, position: str) -> dict:
    return {
        "type": "line",
        "name": name,
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": price,
        "y1": price,
        "editable": editable,
        "line": {"color": color, "width": 2 if editable else 1.5, "dash": dash},
        "label": {"text": text, "textposition": position, "font": {"size": 11, "color": color}, "yanchor": "bottom"},
    }


def _block_name(line: OverlayLine) -> str:
    """tb-block-7-entry, tb-block-7-stop-95 (a stop moved to break-even is a second line), tb-block-7-target-0."""
    if line.role == "target":
        return f"{BLOCK_PREFIX}{line.block_id}-target-{line.index}"
    if line.role == "stop":
        return f"{BLOCK_PREFIX}{line.block_id}-stop-{format(line.price.normalize(), 'f')}"
    return f"{BLOCK_PREFIX}{line.block_id}-{line.role}"


def movable(line: OverlayLine) -> bool:
    """A stop or a target not reached yet can be dragged (an amend); an entry cannot."""
    return line.role in ("stop", "target") and not line.filled


def block_shapes(overlays: ChartOverlays) -> list[dict]:
    return [
        _line(
            _block_name(ln),
            float(ln.price),
            COLORS[ln.role],
            "solid" if ln.filled else "dash",
            ln.label + (" ✓" if ln.filled else ""),
            movable(ln),
            "end",
        )
        for ln in overlays.lines
    ]


def preview_shapes(preview: dict | None) -> list[dict]:
    """The proposed block's lines; `preview` is the form's preview store."""
    if not preview:
        return []
    shapes = []
    for role in ("entry", "stop"):
        price = preview.get(role)
        if isinstance(price, int | float):
            label = f"new {role} {price:g}"
            shapes.append(_line(f"{PREVIEW_PREFIX}{role}", price, COLORS[role], "dot", label, True, "start"))
    for i, price in enumerate(preview.get("targets") or []):
        if isinstance(price, int | float):
            label = f"new T{i + 1} {price:g}"
            shapes.append(_line(f"{PREVIEW_PREFIX}target-{i}", price, COLORS["target"], "dot", label, True, "start"))
    return shapes


def drawing_shapes(drawings: Sequence[dict]) -> list[dict]:
    return [{**shape, "name": f"{DRAWING_PREFIX}{k}", "editable": True} for k, shape in enumerate(drawings)]


def fills_update(overlays: ChartOverlays) -> dict:
    fills = overlays.fills
    return {
        "x": [f.ts for f in fills],
        "y": [float(f.price) for f in fills],
        "text": [
            f"#{f.block_id} {f.role.value} {f.side} {format(f.amount.normalize(), 'f')} @ {f.price}" for f in fills
        ],
        "marker": {
            "symbol": ["triangle-up" if f.side == "buy" else "triangle-down" for f in fills],
            "color": [COLORS["entry"] if f.role.value == "entry" else COLORS["target"] for f in fills],
            "size": 11,
            "line": {"width": 1, "color": "#ffffff"},
        },
    }


def compose(
    overlays: ChartOverlays, preview: dict | None, drawings: Sequence[dict], alerts: Sequence[dict] = ()
) -> tuple[list[dict], list[str]]:
    lines = [*block_shapes(overlays), *preview_shapes(preview), *alerts]
    if lines:  # the top line sets the axis' top: a label above it would be cut off, so put it below
        top = max(lines, key=lambda shape: shape["y0"])
        top["label"] = {**top["label"], "yanchor": "top"}
    shapes = [*lines, *drawing_shapes(drawings)]
    return shapes, [s["name"] for s in shapes]


def shapes_patch(shapes: list[dict], overlays: ChartOverlays, amended: int | None = None) -> Patch:
    """The shapes and fills as a partial update. `amended` counts the amends asked from the chart:
    plotly keeps a dragged shape where the user left it while the figure says what it said before
    the drag (its editrevision), so a new count makes a refused drag snap back to the engine's line."""
    patch = Patch()
    patch["layout"]["shapes"] = shapes
    patch["layout"]["editrevision"] = f"amend-{amended or 0}"
    patch["layout"]["newshape"] = NEW_SHAPE
    patch["data"][FILLS_TRACE].update(fills_update(overlays))
    return patch


def is_ours(shape: dict) -> bool:
    name = str(shape.get("name") or "")
    return name.startswith((BLOCK_PREFIX, PREVIEW_PREFIX, ALERT_PREFIX, CONDITION_PREFIX))
