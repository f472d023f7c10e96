"""Blocks (traders only): every block of the signed-in user, one row per trade with its orders'
statuses (dash-ag-grid), refreshed every few seconds; open / closed / all; and canceling a block
after a confirm that asks whether to keep the protection of open positions or close them at market;
amending the selected block in a dialog (pages.components.block_amend);
below, the conditional blocks still waiting (pages.components.block_conditions) and the form
that saves one (pages.components.condition_form).

A block id comes from the browser (the selected row), so the engine checks it is the user's:
another trader's block raises BlockAccessError, shown as a message.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from db.enums import TradeStatus
from engine.blocks import api as blocks
from engine.blocks.api import BlockAccessError, BlockTradeRow, cancel_block
from engine.common.precision import format_number
from pages.components import block_amend, block_conditions, condition_form
from pages.components.block_cancel import cancel_message
from pages.components.block_conditions import waiting_section
from pages.components.calendar import fmt_money
from pages.components.condition_form import condition_dialog
from pages.components.triggers import clicked
from web.auth import TRADERS, current_runtime, current_view, has_role, require_role

dash.register_page(
    __name__, path="/blocks", title="Blocks · Tradeblock", name="Blocks", roles=TRADERS, order=2, nav=True
)

block_amend.CALLBACKS.register()
block_conditions.CALLBACKS.register()
condition_form.CALLBACKS.register()
condition_form.register_clientside()

REFRESH_MS = 3_000
GRID, FILTER, MESSAGE = "blocks-grid", "blocks-filter", "blocks-message"
CANCEL, MODAL, KEEP, CLOSE, BACK = "blocks-cancel", "cancel-modal", "cancel-keep", "cancel-close", "cancel-back"
COLUMNS: list[dict[str, Any]] = [
    {"field": "block_id", "headerName": "Block", "width": 100},
    {"field": "symbol", "width": 120},
    {"field": "side", "width": 80},
    {"field": "block_status", "headerName": "Status", "width": 100},
    {"field": "trade", "headerName": "Trade", "width": 95},
    {"field": "trade_status", "headerName": "Trade status", "width": 140},
    {"field": "entry_order", "headerName": "Entry order", "width": 125},
    {"field": "tp_order", "headerName": "TP order", "width": 115},
    {"field": "sl_order", "headerName": "SL order", "width": 115},
    {"field": "amount", "width": 110},
    {"field": "entry", "width": 110},
    {"field": "stop", "width": 100},
    {"field": "target", "width": 100},
    {"field": "pnl", "headerName": "P&L", "width": 100},
    {"field": "account", "width": 120},
    {"field": "created", "width": 150},
    {"field": "error", "flex": 1, "minWidth": 160},
]


def _text(value: Decimal | None, tick: Decimal | None) -> str:
    """A price or amount at the market's tick (an average of fills carries more digits)."""
    return "" if value is None else format_number(value, tick)


def _row(r: BlockTradeRow) -> dict[str, Any]:
    entry = r.entry_average if r.entry_average is not None else r.entry_price
    return {
        "row_id": f"{r.block_id}-{r.trade_index}",
        "block_id": r.block_id,
        "symbol": r.symbol,
        "side": r.side.value,
        "block_status": r.block_status.value,
        "trade": f"T{r.trade_index + 1}",
        "trade_status": r.trade_status.value + (f" ({r.close_reason.value})" if r.close_reason else ""),
        "amount": _text(r.amount, r.amount_tick),
        "entry": _text(entry, r.price_tick) or "market",
        "stop": _text(r.stop_price, r.price_tick),
        "target": _text(r.target_price, r.price_tick),
        "entry_order": r.entry_order.value if r.entry_order else "",
        "tp_order": _target_order(r),
        "sl_order": r.sl_order.value if r.sl_order else "",
        "pnl": _pnl(r),
        "account": r.account,
        "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
        "error": r.last_error or "",
    }


def _target_order(r: BlockTradeRow) -> str:
    """The target's order status; an open trade without one has its target watched by the desk
    (the stop rests on the venue, the engine sends the exit when the price gets there)."""
    if r.tp_order is not None:
        return r.tp_order.value
    return "watched" if r.trade_status is TradeStatus.OPEN else ""


def _pnl(r: BlockTradeRow) -> str:
    """Realized P&L to cents; an open trade adds its unrealized P&L at the engine's last price."""
    if r.trade_status is not TradeStatus.OPEN:
        return fmt_money(r.realized_pnl) if r.trade_status is TradeStatus.CLOSED else ""
    if r.unrealized_pnl is None:
        return "open"
    with_open = fmt_money(r.realized_pnl + r.unrealized_pnl)
    return f"{with_open} (open)"


def layout(**_query: Any) -> html.Div:
    if not has_role(*TRADERS):
        return html.Div(dbc.Alert("Blocks are for traders.", color="warning"), id="blocks-denied")
    modal = dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Cancel block")),
            dbc.ModalBody(html.Div(id="cancel-question")),
            dbc.ModalFooter(
                [
                    dbc.Button("Back", id=BACK, color="secondary", outline=True, n_clicks=0),
                    dbc.Button("Keep protection", id=KEEP, color="primary", n_clicks=0),
                    dbc.Button("Close positions at market", id=CLOSE, color="danger", n_clicks=0),
                ]
            ),
        ],
        id=MODAL,
        is_open=False,
    )
    return html.Div(
        [
            dcc.Interval(id="blocks-poll", interval=REFRESH_MS),
            html.Div(
                [
                    html.H1("Blocks", className="h4 mb-0"),
                    dbc.RadioItems(
                        id=FILTER,
                        options=[
                            {"label": "Open", "value": "open"},
                            {"label": "Closed", "value": "closed"},
                            {"label": "All", "value": "all"},
                        ],
                        value="open",
                        inline=True,
                        persistence=True,
                        persistence_type="local",
                    ),
                    dbc.Button("Amend…", id="blocks-amend", color="outline-primary", size="sm", n_clicks=0),
                    dbc.Button("Cancel block…", id=CANCEL, color="outline-danger", size="sm", n_clicks=0),
                ],
                className="d-flex align-items-center gap-4 mb-2",
            ),
            html.Div(id=MESSAGE, className="mb-2"),
            dag.AgGrid(
                id=GRID,
                columnDefs=COLUMNS,
                rowData=[],
                getRowId="params.data.row_id",
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "checkboxes": True, "enableClickSelection": True},
                    "animateRows": False,
                },
                defaultColDef={"sortable": True, "resizable": True, "filter": True},
                style={"height": "65vh"},
            ),
            modal,
            block_amend.amend_modal(),
            waiting_section(condition_dialog(current_view().id)),
        ]
    )


_LIVE = {"open": True, "closed": False, "all": None}


@callback(
    Output(GRID, "rowData"),
    Input("blocks-poll", "n_intervals"),
    Input(FILTER, "value"),
)
@require_role(*TRADERS)
def refresh(_tick: int | None, which: str | None) -> list[dict]:
    return _rows(which)


def _rows(which: str | None) -> list[dict]:
    rows = blocks.table_rows(current_runtime(), current_view().id, _LIVE.get(which or "open", True))
    return [_row(r) for r in rows]


def _selected_block(selected: list[dict] | None) -> int | None:
    try:
        return int((selected or [])[0]["block_id"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


@callback(
    Output(MODAL, "is_open"),
    Output("cancel-question", "children"),
    Output(MESSAGE, "children"),
    Output(GRID, "rowData", allow_duplicate=True),
    Input(CANCEL, "n_clicks"),
    Input(KEEP, "n_clicks"),
    Input(CLOSE, "n_clicks"),
    Input(BACK, "n_clicks"),
    State(GRID, "selectedRows"),
    State(FILTER, "value"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def cancel_flow(
    _open: int | None, _keep: int | None, _close: int | None, _back: int | None, selected: list | None, which: Any
) -> tuple[Any, ...]:
    trigger = ctx.triggered_id
    if not clicked():
        return no_update, no_update, no_update, no_update
    block_id = _selected_block(selected)
    if trigger == BACK:
        return False, no_update, no_update, no_update
    if block_id is None:
        return False, no_update, dbc.Alert("Select a block first.", color="info", class_name="py-2"), no_update
    if trigger == CANCEL:
        question = (
            f"Cancel block #{block_id}: its unfilled entries are canceled. What about positions already open: "
            "keep their stop and targets, or close them at market now?"
        )
        return True, question, None, no_update  # no stale message behind the dialog
    close = trigger == CLOSE
    try:
        outcome = cancel_block(current_runtime(), current_view().id, block_id, close_positions=close)
    except BlockAccessError:
        alert = dbc.Alert(
            f"Block #{block_id} is not one of yours.", color="danger", class_name="py-2", id="blocks-alert"
        )
        return False, no_update, alert, no_update
    text, color = cancel_message(outcome, close)
    alert = dbc.Alert(text, color=color, class_name="py-2", id="blocks-alert")
    # The table comes back with the answer: a second round trip left the block listed as open.
    return False, no_update, alert, _rows(which)
