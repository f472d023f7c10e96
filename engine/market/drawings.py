"""Drawings on a chart: the plotly shapes a user drew (lines, rectangles, free paths) on one series,
saved and loaded always for one user, and only on a series that user watches.

Shapes come from the browser, so they are checked before they are stored: a known kind, only the
attributes plotly's drawing tools produce, plain numbers and short strings, at most MAX_SHAPES
shapes and MAX_BYTES of JSON. Nothing else (scripts, templates, images) can get in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Drawing, Watch, utcnow
from engine.market.watchlist import NotWatchedError

MAX_SHAPES = 100
MAX_BYTES = 64_000
MAX_PATH = 20_000  # characters of one free-hand path ("M1,2L3,4...")
KINDS = frozenset({"line", "rect", "circle", "path"})
_COORDS = ("x0", "x1", "y0", "y1")
_TEXT = {"xref", "yref", "layer", "fillrule"}
_NUMBERS = {"opacity"}
_LINE = {"color": str, "width": (int, float), "dash": str}


class DrawingError(ValueError):
    """The shapes cannot be stored; the message says why."""


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DrawingError(f"{what} must be a finite number")
    return float(value)


def _coordinate(value: Any, what: str) -> float | str:
    """Date axes give times as strings ("2024-02-01 00:03:12.5"), price axes numbers."""
    if isinstance(value, str):
        if len(value) > 40:
            raise DrawingError(f"{what} is too long")
        return value
    return _number(value, what)


def _text(value: Any, what: str, limit: int = 40) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise DrawingError(f"{what} must be a string of at most {limit} characters")
    return value


def clean_shape(shape: Mapping[str, Any], i: int = 0) -> dict[str, Any]:
    """The shape with only the attributes a drawing may have, checked; DrawingError otherwise."""
    if not isinstance(shape, Mapping):
        raise DrawingError(f"shape {i + 1} is not an object")
    kind = shape.get("type")
    if kind not in KINDS:
        raise DrawingError(f"shape {i + 1}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
    out: dict[str, Any] = {"type": kind, "editable": True}
    if kind == "path":
        out["path"] = _text(shape.get("path"), f"shape {i + 1} path", MAX_PATH)
    else:
        for key in _COORDS:
            out[key] = _coordinate(shape.get(key), f"shape {i + 1} {key}")
    for key in _TEXT & shape.keys():
        out[key] = _text(shape[key], f"shape {i + 1} {key}")
    for key in _NUMBERS & shape.keys():
        out[key] = _number(shape[key], f"shape {i + 1} {key}")
    if "fillcolor" in shape:
        out["fillcolor"] = _text(shape["fillcolor"], f"shape {i + 1} fillcolor")
    line = shape.get("line")
    if isinstance(line, Mapping):
        kept: dict[str, Any] = {}
        for key, kind_of in _LINE.items():
            if key in line:
                if not isinstance(line[key], kind_of) or isinstance(line[key], bool):
                    raise DrawingError(f"shape {i + 1} line {key} has the wrong type")
                kept[key] = line[key] if isinstance(line[key], str) else _number(line[key], "line width")
        out["line"] = kept
    return out


def clean_shapes(shapes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(shapes, Sequence) or isinstance(shapes, str):
        raise DrawingError("drawings must be a list of shapes")
    if len(shapes) > MAX_SHAPES:
        raise DrawingError(f"at most {MAX_SHAPES} drawings per chart; this one has {len(shapes)}")
    cleaned = [clean_shape(s, i) for i, s in enumerate(shapes)]
    if len(json.dumps(cleaned, separators=(",", ":"))) > MAX_BYTES:
        raise DrawingError(f"the drawings take more than {MAX_BYTES // 1000} kB")
    return cleaned


def _check_watched(session: Session, user_id: int, series_id: int) -> None:
    watch = session.scalar(select(Watch.id).where(Watch.user_id == user_id, Watch.series_id == series_id))
    if watch is None:
        raise NotWatchedError(f"series {series_id} is not on this user's watchlist")


def save_drawings(session: Session, user_id: int, series_id: int, shapes: Sequence[Mapping[str, Any]]) -> int:
    """Replace the user's drawings on the series (call inside a transaction); returns how many."""
    _check_watched(session, user_id, series_id)
    cleaned = clean_shapes(shapes)
    row = session.scalar(select(Drawing).where(Drawing.user_id == user_id, Drawing.series_id == series_id))
    text = json.dumps(cleaned, separators=(",", ":"))
    if row is None:
        session.add(Drawing(user_id=user_id, series_id=series_id, shapes=text))
    else:
        row.shapes, row.updated_at = text, utcnow()
    return len(cleaned)


def load_drawings(session: Session, user_id: int, series_id: int) -> list[dict[str, Any]]:
    """The user's drawings on the series ([] when none); NotWatchedError if they do not watch it."""
    _check_watched(session, user_id, series_id)
    text = session.scalar(select(Drawing.shapes).where(Drawing.user_id == user_id, Drawing.series_id == series_id))
    return json.loads(text) if text else []
