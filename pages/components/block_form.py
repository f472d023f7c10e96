"""The trade-block form beside the chart (traders only): account, side, entry, stop, a growing list
of targets (pattern-matching ids carry a row number), sizing and options; the live preview under it.

Here are the layout, the ids the callbacks use (pages/components/block_form_callbacks.py), turning the form's
values into an engine BlockRequest (the engine's parser does the work), and putting the engine's
field errors next to their fields.
Every input persists in the browser (persistence_type="local"), so a reload keeps the form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from db.enums import EntryType, MarginMode, Side, SizeMode
from engine.blocks.api import BlockPreview, BlockRequest, FieldError, parse_account_id, parse_block
from engine.common.precision import format_money, format_number
from engine.common.symbols import is_contract
from engine.users.api import AccountChoice
from pages.components import block_form_atr

ACCOUNT, SIDE, ENTRY_TYPE, ENTRY, STOP = "bf-account", "bf-side", "bf-entry-type", "bf-entry-price", "bf-stop-price"
SIZE_MODE, SIZE, BREAKEVEN, TIMEOUT, DURATION = (
    "bf-size-mode",
    "bf-size-value",
    "bf-breakeven",
    "bf-timeout",
    "bf-duration",
)
# Perpetuals and futures only: shown when the chart's symbol names a settle currency (BTC/USDT:USDT).
LEVERAGE, MARGIN_MODE, DERIVATIVES = "bf-leverage", "bf-margin-mode", "bf-derivatives"
TARGETS, ROWS, ADD_TARGET, SUBMIT = "bf-targets", "bf-rows", "bf-add-target", "bf-submit"
PREVIEW, PREVIEW_STORE, MESSAGE, VERSION = "bf-preview", "bf-preview-store", "bf-message", "blocks-version"
# The chart's series and relayouts as the form sees them: copies inside the form, so the form's
# callbacks are triggered only on a page that has the form (an analyst's chart has none).
SERIES, RELAYOUT = "bf-series", "bf-relayout"
T_PRICE, T_SHARE, T_REMOVE, T_FEEDBACK = "bf-target-price", "bf-target-share", "bf-target-remove", "bf-target-feedback"
T_NOTE = "bf-target-note"
PRICE_FIELDS = {ENTRY: "entry_price", STOP: "stop_price"}  # the plain fields that take a price
NOTED_FIELDS = {**PRICE_FIELDS, SIZE: "size_value"}  # the plain fields with a note under them (a rounding)
# Plain fields with an inline error: component id -> the engine's field name.
FIELDS = {
    ENTRY: "entry_price",
    STOP: "stop_price",
    SIZE: "size_value",
    TIMEOUT: "entry_timeout_s",
    DURATION: "max_duration_s",
    LEVERAGE: "leverage",
}
ATTEMPTED = "bf-attempted"  # whether "Place block" was pressed on the form as it stands
DEFAULT_ROWS = [0]  # one target to start with; "+ target" adds more
_TARGET_FIELD = re.compile(r"targets\[(\d+)\](?:\.(price|share))?$")
_LOCAL: dict[str, Any] = {"persistence": True, "persistence_type": "local"}
# Number fields are text: a type="number" input drops what it cannot read (Chromium sends "0,05" as
# "005", 100x the size), so the text goes as typed to the engine's parser, which reads or refuses it.
_NUMBER: dict[str, Any] = {"type": "text", "size": "sm", "debounce": True, "autocomplete": "off", **_LOCAL}
SIZE_MODES = [
    {"label": "Base amount", "value": SizeMode.BASE.value},
    {"label": "Quote amount", "value": SizeMode.QUOTE.value},
    {"label": "% of equity", "value": SizeMode.EQUITY_PCT.value},
    {"label": "% risk", "value": SizeMode.RISK_PCT.value},
]
SIDES = [{"label": "Long", "value": Side.LONG.value}, {"label": "Short", "value": Side.SHORT.value}]
MARGIN_MODES = [
    {"label": "Isolated", "value": MarginMode.ISOLATED.value},
    {"label": "Cross", "value": MarginMode.CROSS.value},
]
ENTRY_TYPES = [
    {"label": "Limit", "value": EntryType.LIMIT.value},
    {"label": "Market", "value": EntryType.MARKET.value},
    {"label": "Stop entry", "value": EntryType.STOP.value},
]


def feedback_id(field_id: str) -> str:
    return f"{field_id}-feedback"


def note_id(field_id: str) -> str:
    return f"{field_id}-note"


def _number(field_id: str, label: str, placeholder: str = "", mode: str = "decimal") -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=field_id, class_name="small mb-0"),
            dbc.Input(id=field_id, placeholder=placeholder, inputmode=mode, **_NUMBER),
            dbc.FormFeedback(id=feedback_id(field_id), type="invalid"),
            dbc.FormText(id=note_id(field_id), class_name="small"),
        ],
        className="mb-2",
    )


def target_row(row: int, position: int) -> html.Div:
    """One target: price, optional share in %, remove button, and the row's error."""
    return html.Div(
        [
            html.Div(
                [
                    html.Span(  # wide enough for "T10" on one line
                        f"T{position + 1}",
                        className="small text-body-secondary text-nowrap flex-shrink-0",
                        style={"width": "2rem"},
                    ),
                    dbc.Input(id={"type": T_PRICE, "row": row}, placeholder="price", inputmode="decimal", **_NUMBER),
                    dbc.Input(
                        id={"type": T_SHARE, "row": row},
                        placeholder="%",
                        inputmode="decimal",
                        style={"maxWidth": "4.5rem"},
                        **_NUMBER,
                    ),
                    dbc.Button(
                        "×",
                        id={"type": T_REMOVE, "row": row},
                        color="outline-secondary",
                        size="sm",
                        n_clicks=0,
                        class_name="py-0",
                        title="Remove this target",
                    ),
                ],
                className="d-flex align-items-center gap-1",
            ),
            html.Div(id={"type": T_FEEDBACK, "row": row}, className="small text-danger"),
            html.Div(id={"type": T_NOTE, "row": row}, className="small text-body-secondary"),
        ],
        className="mb-1 target-row",
    )


def target_rows(rows: Sequence[int]) -> list[html.Div]:
    return [target_row(row, position) for position, row in enumerate(rows)]


def form(accounts: list[AccountChoice]) -> dbc.Card:
    options = [{"label": a.label, "value": a.id} for a in accounts]
    body = [
        dcc.Store(id=ROWS, data=DEFAULT_ROWS, storage_type="local"),
        dcc.Store(id=SERIES),
        dcc.Store(id=RELAYOUT),
        dcc.Store(id=ATTEMPTED, data=False),
        html.Div(
            [
                dbc.Label("Account", html_for=ACCOUNT, class_name="small mb-0"),
                dbc.Select(
                    id=ACCOUNT, options=options, value=options[0]["value"] if options else None, size="sm", **_LOCAL
                ),
            ],
            className="mb-2",
        ),
        dbc.RadioItems(
            id=SIDE,
            options=SIDES,
            value=Side.LONG.value,
            inline=True,
            class_name="mb-2",
            **_LOCAL,
        ),
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("Entry", html_for=ENTRY_TYPE, class_name="small mb-0"),
                        dbc.Select(
                            id=ENTRY_TYPE, options=ENTRY_TYPES, value=EntryType.LIMIT.value, size="sm", **_LOCAL
                        ),
                    ],
                    width=5,
                ),
                dbc.Col(_number(ENTRY, "Entry price", "price"), width=7),
            ],
            class_name="g-2",
        ),
        _number(STOP, "Stop price", "price"),
        block_form_atr.row(),  # "Stop k × ATR(n)": a suggestion applied with one click
        html.Div(
            [
                html.Span("Targets (price, share %)", className="small"),
                dbc.Button(
                    "+ target",
                    id=ADD_TARGET,
                    color="link",
                    size="sm",
                    n_clicks=0,
                    class_name="p-0",
                    title="Add a profit target",
                ),
            ],
            className="d-flex justify-content-between align-items-center",
        ),
        html.Div(target_rows(DEFAULT_ROWS), id=TARGETS, className="mb-2"),
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("Size by", html_for=SIZE_MODE, class_name="small mb-0"),
                        dbc.Select(
                            id=SIZE_MODE, options=SIZE_MODES, value=SizeMode.RISK_PCT.value, size="sm", **_LOCAL
                        ),
                    ],
                    width=6,
                ),
                dbc.Col(_number(SIZE, "Size", "value"), width=6),
            ],
            class_name="g-2",
        ),
        html.Div(
            dbc.Row(
                [
                    dbc.Col(_number(LEVERAGE, "Leverage (x)", "venue's", "numeric"), width=6),
                    dbc.Col(
                        [
                            dbc.Label("Margin", html_for=MARGIN_MODE, class_name="small mb-0"),
                            dbc.Select(
                                id=MARGIN_MODE,
                                options=MARGIN_MODES,
                                value=MarginMode.ISOLATED.value,
                                size="sm",
                                **_LOCAL,
                            ),
                        ],
                        width=6,
                    ),
                ],
                class_name="g-2",
            ),
            id=DERIVATIVES,
            style={"display": "none"},
        ),
        dbc.Switch(id=BREAKEVEN, label="Break-even after the first target", value=False, class_name="small", **_LOCAL),
        dbc.Row(
            [
                dbc.Col(_number(TIMEOUT, "Entry timeout (min)", "none", "numeric"), width=6),
                dbc.Col(_number(DURATION, "Max duration (min)", "none", "numeric"), width=6),
            ],
            class_name="g-2",
        ),
        dbc.Button("Place block", id=SUBMIT, color="primary", size="sm", n_clicks=0, class_name="w-100 mb-2"),
        html.Div(id=MESSAGE),
        html.Div(id=PREVIEW, className="small"),
    ]
    return dbc.Card(
        [dbc.CardHeader("Trade block"), dbc.CardBody(body, class_name="p-2")], id="block-form", class_name="h-100"
    )


# --- values to a request ---


@dataclass(frozen=True)
class FormValues:
    account: Any
    side: str | None
    entry_type: str | None
    entry: Any
    stop: Any
    target_prices: Sequence[Any]
    target_shares: Sequence[Any]
    size_mode: str | None
    size: Any
    breakeven: bool | None
    timeout_min: Any
    duration_min: Any
    leverage: Any = None
    margin_mode: str | None = None


def account_id(values: FormValues) -> int | None:
    return parse_account_id(values.account)


def to_request(values: FormValues, symbol: str, exchange: str) -> BlockRequest | list[FieldError]:
    """The form as the engine's BlockRequest, through the engine's one parser (engine.blocks.parse):
    what is empty stays None for the engine to name ("Enter the stop price."); what is wrong comes
    back as field errors, never as a guessed value. Leverage and margin mode go with a contract
    market's block only: on spot the hidden fields keep what was typed for a perpetual."""
    contract = is_contract(symbol)
    return parse_block(
        {
            "symbol": symbol,
            "exchange": exchange,
            "side": values.side,
            "entry_type": values.entry_type,
            "entry_price": values.entry,
            "stop_price": values.stop,
            "target_prices": values.target_prices,
            "target_shares": values.target_shares,
            "size_mode": values.size_mode,
            "size_value": values.size,
            "breakeven": values.breakeven,
            "entry_timeout_min": values.timeout_min,
            "max_duration_min": values.duration_min,
            "leverage": values.leverage if contract else None,
            "margin_mode": values.margin_mode if contract else None,
        }
    )


# --- errors next to their fields ---


def _visited(blurs: Any, index: int | None = None) -> bool:
    """Whether a field was left at least once (its n_blur; a list of them for the target rows)."""
    if index is not None:
        blurs = blurs[index] if isinstance(blurs, list) and index < len(blurs) else None
    return isinstance(blurs, int) and not isinstance(blurs, bool) and blurs > 0


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def untouched_empty(values: FormValues, blurs: Sequence[Any]) -> set[str]:
    """The engine's names of the fields still empty and never visited: their "Enter ..." messages
    wait until the trader has been there or pressed "Place block". `blurs`: the n_blur of the entry,
    stop and size fields, then the lists of the target prices' and shares'."""
    entry, stop, size, prices, shares = (*blurs, None, None, None, None, None)[:5]
    plain = {"entry_price": (values.entry, entry), "stop_price": (values.stop, stop), "size_value": (values.size, size)}
    names = {name for name, (value, blur) in plain.items() if _empty(value) and not _visited(blur)}
    for i, value in enumerate(values.target_prices or []):
        if _empty(value) and not _visited(prices, i):
            names.add(f"targets[{i}].price")
    for i, value in enumerate(values.target_shares or []):
        if _empty(value) and not _visited(shares, i):
            names.add(f"targets[{i}].share")
    return names


@dataclass
class PlacedErrors:
    """The engine's errors sorted by where the form shows them."""

    fields: dict[str, list[str]]  # component id -> messages
    price: list[bool]  # per target row: the price is wrong
    share: list[bool]
    rows: list[list[str]]  # per target row: its messages
    general: list[str]  # account, symbol, side, the targets as a whole

    def marks(self) -> tuple:
        """The form's outputs for these errors, in FIELDS order: each field's invalid flag, then its
        feedback, then the target rows' price and share flags and their feedback."""
        return (
            *[field_id in self.fields for field_id in FIELDS],
            *[" ".join(self.fields.get(field_id, [])) for field_id in FIELDS],
            self.price,
            self.share,
            [" ".join(m) for m in self.rows],
        )


def place_errors(errors: Sequence[FieldError], row_count: int) -> PlacedErrors:
    by_name = {name: field_id for field_id, name in FIELDS.items()}
    placed = PlacedErrors({}, [False] * row_count, [False] * row_count, [[] for _ in range(row_count)], [])
    for error in errors:
        match = _TARGET_FIELD.match(error.field)
        if error.field in by_name:
            placed.fields.setdefault(by_name[error.field], []).append(error.message)
        elif error.field == "targets.share":  # the shares add up wrong together: mark every one
            placed.share = [True] * row_count
            placed.general.append(error.message)
        elif match and int(match.group(1)) < row_count:
            i = int(match.group(1))
            placed.rows[i].append(error.message)
            if match.group(2) == "price":
                placed.price[i] = True
            elif match.group(2) == "share":
                placed.share[i] = True
        else:
            placed.general.append(error.message)
    return placed


def _money(value: Decimal | None) -> str:
    """Money, percents and R multiples with two decimals (engine.common.precision's one formatter)."""
    return "–" if value is None else format_money(value)


def _price(value: Decimal | None, tick: Decimal | None) -> str:
    """A price as it will be sent: on the tick, with the market's decimals."""
    return "–" if value is None else format_number(value, tick)


def _amount(value: Decimal | None) -> str:
    return "–" if value is None else format_number(value)


def preview_panel(shown: BlockPreview, base: str, quote: str) -> html.Div:
    """Size, money at risk and reward:risk per target, computed by the engine."""
    tick = shown.price_tick
    rows = [
        ("Entry", _price(shown.entry_price, tick), "bf-preview-entry"),
        ("Stop", _price(shown.stop_price, tick), "bf-preview-stop"),
        ("Size", f"{_amount(shown.size)} {base}", "bf-preview-size"),
        ("Cost", f"{_money(shown.cost)} {quote}", "bf-preview-cost"),
        ("At risk", f"{_money(shown.risk)} {quote} ({_money(shown.risk_pct)}%)", "bf-preview-risk"),
    ]
    if shown.leverage is not None:
        mode = shown.margin_mode.value if shown.margin_mode else ""
        rows.append(("Margin", f"{_money(shown.margin)} {quote} at {shown.leverage}x {mode}", "bf-preview-margin"))
        rows.append(("Liquidation", f"≈ {_price(shown.liquidation_price, tick)}", "bf-preview-liquidation"))
    for i, rr in enumerate(shown.reward_risk):
        amount = shown.amounts[i] if shown.amounts and i < len(shown.amounts) else None
        price = _price(shown.target_prices[i], tick) if i < len(shown.target_prices) else "–"
        rows.append((f"T{i + 1}", f"{price} · {_money(rr)} R · {_amount(amount)} {base}", f"bf-preview-rr-{i}"))
    table = html.Table(
        html.Tbody(
            [
                html.Tr([html.Th(k, className="fw-normal text-body-secondary pe-2"), html.Td(v, id=i)])
                for k, v, i in rows
            ]
        ),
        className="w-100",
    )
    notes = [html.Li(e.message) for e in shown.errors]
    resting = shown.protection
    return html.Div(
        [
            html.Div("Preview", className="fw-semibold"),
            table,
            html.Div(resting, id="bf-preview-protection", className="small text-body-secondary mt-1")
            if resting
            else None,
            html.Ul(notes, className="text-warning-emphasis ps-3 mb-0 mt-1", id="bf-preview-errors") if notes else None,
        ],
        className="border-top pt-2",
    )
