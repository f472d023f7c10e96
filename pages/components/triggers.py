"""What set a callback off. Dash also calls a button's callbacks when the button is drawn again
(by another callback's output), with n_clicks None or 0: such a call is a redraw, not a click."""

from __future__ import annotations

from dash import ctx


def clicked() -> bool:
    """True when the callback's trigger holds a value (a click, a chosen item), False for a redraw."""
    return bool(ctx.triggered) and bool(ctx.triggered[0]["value"])
