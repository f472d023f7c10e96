"""The "Waiting" section of /blocks: the trader's conditional blocks that have not fired yet
(engine.conditions), each in words with its block and a cancel button, refreshed with the blocks
table; the ones that fired or were refused most recently are listed below with the block they
placed or why. Cancel ids come from the browser: the engine checks they are the user's."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, ctx, html, no_update

from engine.conditions import api as conditions
from engine.conditions.api import ConditionView
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import TRADERS, current_runtime, current_view, require_role

CALLBACKS = Deferred()  # registered by pages/blocks.py

TABLE, MESSAGE, CANCEL = "conditions-table", "conditions-message", "condition-cancel"
POLL = "blocks-poll"  # the blocks page's refresh
RECENT = 5  # done conditions shown under the waiting ones
_BADGE = {"waiting": "primary", "pending": "secondary", "fired": "success", "refused": "danger", "canceled": "light"}


def waiting_section(form_button: Any) -> html.Div:
    return html.Div(
        [
            html.Div(
                [html.H2("Waiting", className="h5 mb-0"), form_button],
                className="d-flex align-items-center gap-3 mb-2",
            ),
            html.Div(id=MESSAGE),
            html.Div(id=TABLE),
        ],
        id="conditions-section",
        className="mt-4",
    )


def _block_text(v: ConditionView) -> str:
    return f"{v.block_side} {v.block_symbol} ({v.block_entry} entry)"


def _outcome(v: ConditionView) -> str:
    if v.status == "fired":
        return f"placed block #{v.block_id}"
    if v.status == "pending":
        return f"after step #{v.parent_id} fires"
    return v.reason or ""


def _row(v: ConditionView) -> html.Tr:
    cancel = (
        dbc.Button("Cancel", id={"type": CANCEL, "id": v.id}, size="sm", color="outline-danger", n_clicks=0)
        if v.status in ("waiting", "pending")
        else ""
    )
    return html.Tr(
        [
            html.Td(f"#{v.id}"),
            html.Td(v.text),
            html.Td(_block_text(v)),
            html.Td(dbc.Badge(v.status, color=_BADGE.get(v.status, "secondary"), text_color="dark")),
            html.Td(_outcome(v)),
            html.Td(cancel),
        ],
        className="condition-row",
        **{"data-status": v.status},
    )


def conditions_table(user_id: int) -> Any:
    runtime = current_runtime()
    waiting = conditions.list_conditions(runtime, user_id, True)
    done = conditions.list_conditions(runtime, user_id, False)[:RECENT]
    if not waiting and not done:
        return html.P("No conditional blocks: create one to place a block when a price or a time is reached.",
                      className="text-muted", id="conditions-empty")  # fmt: skip
    head = html.Thead(html.Tr([html.Th(h) for h in ("", "Condition", "Block", "Status", "", "")]))
    return dbc.Table([head, html.Tbody([_row(v) for v in [*waiting, *done]])], size="sm", hover=True)


@CALLBACKS.callback(Output(TABLE, "children"), Input(POLL, "n_intervals"))
@require_role(*TRADERS)
def refresh_conditions(_tick: int | None) -> Any:
    return conditions_table(current_view().id)


# A callback of its own: were the cancel one with the poll, a poll sent while the cancel was on
# its way would supersede it in the browser, and "canceled" would never be said.
@CALLBACKS.callback(
    Output(MESSAGE, "children"),
    Output(TABLE, "children", allow_duplicate=True),
    Input({"type": CANCEL, "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def cancel_condition(_clicks: list | None) -> tuple[Any, Any]:
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not clicked():
        return no_update, no_update  # buttons drawn again, not clicked
    user_id = current_view().id
    return condition_cancel_message(user_id, trigger.get("id"), "py-2", "condition-alert"), conditions_table(user_id)


def condition_cancel_message(user_id: int, condition_id: Any, class_name: str, alert_id: str) -> dbc.Alert:
    """Cancel the user's condition with this id (from the browser) and say what came of it."""
    try:
        view = conditions.cancel_condition(current_runtime(), user_id, int(condition_id))
    except (conditions.ConditionAccessError, TypeError, ValueError):
        return dbc.Alert(f"Condition #{condition_id} is not one of yours.", color="danger", class_name=class_name)
    if view.status == "canceled":
        return dbc.Alert(f"Condition #{view.id} canceled.", color="success", class_name=class_name, id=alert_id)
    return dbc.Alert(f"Condition #{view.id} is already {view.status}.", color="info", class_name=class_name)
