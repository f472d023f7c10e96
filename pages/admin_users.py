"""Users (admins only): the list of users, creating one, changing a role, disabling and enabling.

Admins only at three levels: the Flask guard refuses /admin/* to others, this layout renders
nothing for them, and every callback is wrapped in `require_role(ADMIN)`.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from db.enums import Role
from engine.users.api import MIN_PASSWORD, UserError, UserView, add_user, end_sessions, list_users, set_active, set_role
from web.auth import ADMINS, current_runtime, current_view, has_role, require_role

dash.register_page(
    __name__, path="/admin/users", title="Users · Tradeblock", name="Users", roles=ADMINS, order=3, nav=True
)

ROLE_ID = "user-role"
ACTIVE_ID = "user-active"
END_ID = "user-end-sessions"
ROLES = [r.value for r in Role]


def layout(**_query: Any) -> html.Div:
    if not has_role(*ADMINS):
        return html.Div(dbc.Alert("Admins only.", color="warning"), id="admin-denied")
    form = dbc.Card(
        dbc.CardBody(
            [
                html.H2("New user", className="h6"),
                dbc.Row(
                    [
                        dbc.Col(dbc.Input(id="new-username", placeholder="username", maxLength=64), md=3),
                        dbc.Col(
                            dbc.Select(id="new-role", options=ROLES, value=Role.ANALYST.value),
                            md=2,
                        ),
                        dbc.Col(
                            dbc.Input(
                                id="new-password", type="password", placeholder=f"initial password ({MIN_PASSWORD}+)"
                            ),
                            md=3,
                        ),
                        dbc.Col(dbc.Button("Create", id="create-user", color="primary", n_clicks=0), width="auto"),
                    ],
                    class_name="g-2",
                ),
            ]
        ),
        class_name="mb-3",
    )
    return html.Div(
        [
            html.H1("Users", className="h4 mb-3"),
            dcc.Store(id="admin-version", data=0),
            form,
            html.Div(id="admin-message", className="mb-2"),
            html.Div(id="users-table"),
        ]
    )


def _row(user: UserView, me: int) -> html.Tr:
    status = dbc.Badge("active", color="success") if user.is_active else dbc.Badge("disabled", color="secondary")
    toggle = dbc.Button(
        "Disable" if user.is_active else "Enable",
        id={"type": ACTIVE_ID, "user": user.id},
        color="outline-danger" if user.is_active else "outline-success",
        size="sm",
        n_clicks=0,
        disabled=user.id == me,
    )
    # Signs the user out everywhere (a lost laptop, a shared password): their sessions are refused.
    end = dbc.Button(
        "End sessions", id={"type": END_ID, "user": user.id}, color="outline-secondary", size="sm", n_clicks=0
    )
    role = dbc.Select(
        id={"type": ROLE_ID, "user": user.id}, options=ROLES, value=user.role.value, size="sm", disabled=user.id == me
    )
    return html.Tr(
        [html.Td(user.username), html.Td(role, style={"width": "10rem"}), html.Td(status), html.Td([toggle, " ", end])],
        id=f"user-row-{user.username}",
    )


@callback(Output("users-table", "children"), Input("admin-version", "data"))
@require_role(*ADMINS)
def users_table(_version: int) -> dbc.Table:
    me = current_view().id
    header = html.Thead(html.Tr([html.Th("User"), html.Th("Role"), html.Th("Status"), html.Th("")]))
    body = html.Tbody([_row(u, me) for u in list_users(current_runtime())])
    return dbc.Table([header, body], hover=True, size="sm", class_name="align-middle", id="users")


def _message(text: str, ok: bool) -> dbc.Alert:
    return dbc.Alert(text, color="success" if ok else "danger", class_name="py-2", id="admin-alert")


@callback(
    Output("admin-message", "children"),
    Output("admin-version", "data"),
    Output("new-password", "value"),
    Output("new-username", "value"),
    Input("create-user", "n_clicks"),
    Input({"type": ROLE_ID, "user": ALL}, "value"),
    Input({"type": ACTIVE_ID, "user": ALL}, "n_clicks"),
    Input({"type": END_ID, "user": ALL}, "n_clicks"),
    State("new-username", "value"),
    State("new-role", "value"),
    State("new-password", "value"),
    State("admin-version", "data"),
    prevent_initial_call=True,
)
@require_role(*ADMINS)
def admin_actions(
    _create: int,
    _roles: list[str],
    _toggles: list[int],
    _ends: list[int],
    username: str | None,
    role: str | None,
    password: str | None,
    version: int | None,
) -> tuple[Any, ...]:
    trigger, runtime, me = ctx.triggered_id, current_runtime(), current_view()
    value = ctx.triggered[0]["value"] if ctx.triggered else None
    bump = (version or 0) + 1
    try:
        if trigger == "create-user" and value:
            user = add_user(runtime, username or "", password or "", Role(role or Role.ANALYST.value))
            return _message(f"Created {user.username} ({user.role.value}).", True), bump, "", ""
        if isinstance(trigger, dict) and trigger.get("type") == ROLE_ID and value:
            current = next((u for u in list_users(runtime) if u.id == trigger["user"]), None)
            if current is None or current.role.value == value:
                return no_update, no_update, no_update, no_update  # the table was redrawn, nothing was changed
            user = set_role(runtime, int(trigger["user"]), Role(value))
            return _message(f"{user.username} is now {user.role.value}.", True), bump, no_update, no_update
        if isinstance(trigger, dict) and trigger.get("type") == ACTIVE_ID and value:
            current = next((u for u in list_users(runtime) if u.id == trigger["user"]), None)
            if current is None:
                return no_update, no_update, no_update, no_update
            user = set_active(runtime, me.id, current.id, not current.is_active)
            state = "enabled" if user.is_active else "disabled (signed out)"
            return _message(f"{user.username} {state}.", True), bump, no_update, no_update
        if isinstance(trigger, dict) and trigger.get("type") == END_ID and value:
            user = end_sessions(runtime, me.id, int(trigger["user"]))
            return _message(f"Every session of {user.username} is ended.", True), no_update, no_update, no_update
    except (UserError, ValueError) as exc:
        return _message(str(exc), False), no_update, no_update, no_update
    return no_update, no_update, no_update, no_update
