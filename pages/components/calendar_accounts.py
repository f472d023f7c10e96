"""The calendar's account picker: "All live and paper" (the default: replay and backtest accounts
are practice and stay out of real results) or one of the user's accounts, replay ones labelled as
such. `/calendar?account=<id>` opens on that account (bookmarkable; the backtest page links there)
and the browser writes the choice back into the address bar (pages/calendar.py).

The picker's value is only a wish: the engine checks on the server that the account is the
signed-in user's (engine.portfolio.api refuses another's with AccountAccessError).
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from engine.runtime import Runtime
from engine.users.api import account_choices

ALL = "all"
ALL_LABEL = "All live and paper"
NOT_YOURS = "That account is not one of yours: showing all live and paper accounts."


def options(runtime: Runtime, user_id: int) -> list[dict[str, str]]:
    """The picker's options: all live and paper, then every account (retired and replay ones too:
    their history is still there)."""
    accounts = account_choices(runtime, user_id, create_default=False, include_replay=True, include_disabled=True)
    return [{"label": ALL_LABEL, "value": ALL}] + [{"label": a.label, "value": str(a.id)} for a in accounts]


def account_id(value: Any) -> int | None:
    """The account a picker value asks for; None for all live and paper (or a value that is no
    account id at all: the default, never someone else's figures)."""
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


def picker(runtime: Runtime, user_id: int, wanted: Any) -> dbc.Row:
    """The picker, on the address bar's `account` when it is one of the user's, with a note at the
    field when it is not."""
    choices = options(runtime, user_id)
    known = {o["value"] for o in choices}
    asked = account_id(wanted)
    value = str(asked) if asked is not None and str(asked) in known else ALL
    note = NOT_YOURS if wanted not in (None, "", ALL) and value == ALL else ""
    return dbc.Row(
        [
            dbc.Col(dbc.Label("Account", html_for="cal-account", class_name="mb-0 small"), width="auto"),
            dbc.Col(
                dbc.Select(id="cal-account", options=choices, value=value, size="sm"),
                style={"minWidth": "16rem", "maxWidth": "24rem"},
            ),
            dbc.Col(html.Span(note, id="cal-account-note", className="small text-danger"), width="auto"),
        ],
        class_name="g-2 align-items-center mb-2",
        id="cal-account-row",
    )
