"""The app shell around every page: navbar (links by role, theme switch, user, sign-out form), the
price alerts' toasts (pages/components/alert_toasts.py) and the theme callbacks.

The navbar's links are built from `dash.page_registry`: every page that declares `nav=True` and
lists the user's role in its `roles`, in its `order`; the server's guard reads the same
declaration (web/auth.py), so a new page is one file in pages/. The theme is applied on load by
the server (app.py puts `data-bs-theme` on <html>); the switch flips it in the browser at once and
saves it for the user."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

from db.enums import Role
from engine.users.api import UserView, set_theme
from pages.components import alert_toasts
from web.auth import READERS, current_runtime, current_view, require_role
from web.login_page import THEME_KEY
from web.security import CSRF_FIELD

THEME_SWITCH = "theme-switch"
THEME_STORE = "theme-applied"


def nav_id(page: dict[str, Any]) -> str:
    """The link's id, from the page's module: pages.admin_users -> nav-admin-users."""
    return "nav-" + page["module"].rsplit(".", 1)[-1].replace("_", "-")


def nav_pages(role: Role) -> list[dict[str, Any]]:
    """The registered pages the navbar offers to `role`, in their declared order."""
    pages = [p for p in dash.page_registry.values() if p.get("nav") and role in (p.get("roles") or ())]
    return sorted(pages, key=lambda p: (p.get("order") is None, p.get("order") or 0, p["name"]))


def navbar(user: UserView, csrf: str) -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["path"], active="exact", id=nav_id(page)))
        for page in nav_pages(user.role)
    ]
    logout = html.Form(
        [
            dcc.Input(type="hidden", name=CSRF_FIELD, value=csrf),
            html.Button("Sign out", type="submit", className="btn btn-outline-secondary btn-sm", id="logout-button"),
        ],
        method="POST",
        action="/logout",
        className="mb-0",
    )
    right = html.Div(
        [
            dbc.Switch(id=THEME_SWITCH, label="Dark", value=user.theme == "dark", class_name="mb-0 me-2"),
            html.Span(
                [
                    html.Span(user.username, id="nav-username"),
                    dbc.Badge(user.role.value, color="secondary", className="ms-1"),
                ],
                className="text-body-secondary small",
            ),
            logout,
        ],
        className="d-flex align-items-center gap-3 ms-auto",
    )
    return dbc.Navbar(
        dbc.Container(
            [dbc.NavbarBrand("Tradeblock", href="/"), dbc.Nav(links, navbar=True, class_name="me-auto"), right],
            fluid=True,
        ),
        color="body-tertiary",
        dark=False,  # Bootstrap 5.3 colours the navbar from data-bs-theme
        expand=True,
        class_name="border-bottom mb-3",
        id="navbar",
    )


def shell(user: UserView | None, csrf: str) -> html.Div:
    """The whole page: navbar and the current Dash page (empty until signed in)."""
    if user is None:  # only Dash's own start-up check sees this; real visitors are redirected
        return html.Div([dcc.Store(id=THEME_STORE), dbc.Switch(id=THEME_SWITCH), dash.page_container])
    return html.Div(
        [
            dcc.Store(id=THEME_STORE),
            navbar(user, csrf),
            dbc.Container(dash.page_container, fluid=True, class_name="pb-3"),
            *alert_toasts.parts(),  # a triggered price alert's toast, on every page
        ]
    )


def plotly_template(dark: bool | None) -> str:
    return "plotly_dark" if dark else "plotly_white"


def panel_layout(dark: bool | None, **extra: Any) -> dict[str, Any]:
    """The layout of a small chart panel under a page's figures (calendar equity, journal profit)."""
    return {
        "template": plotly_template(dark),
        "margin": {"l": 60, "r": 20, "t": 10, "b": 30},
        "height": 260,
        "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        **extra,
    }


def empty_panel(fig: go.Figure, layout: dict[str, Any], text: str) -> go.Figure:
    """A panel without data: hidden axes and a sentence saying why, not a bare axis."""
    hidden = {"visible": False}
    note = {"text": text, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
    fig.update_layout(**layout, xaxis=hidden, yaxis=hidden, annotations=[note])
    return fig


def register_shell_callbacks(app: Dash) -> None:
    """Per-app callbacks of the shell (pages' callbacks are global; these need the app)."""
    alert_toasts.register(app)
    app.clientside_callback(
        f"""function (dark) {{
            var theme = dark ? "dark" : "light";
            document.documentElement.setAttribute("data-bs-theme", theme);
            document.documentElement.setAttribute("data-ag-theme-mode", theme);  // the AG Grids follow
            try {{ window.localStorage.setItem("{THEME_KEY}", theme); }} catch (e) {{}}
            return theme;
        }}""",
        Output(THEME_STORE, "data"),
        Input(THEME_SWITCH, "value"),
        prevent_initial_call=True,
    )

    @app.callback(Input(THEME_STORE, "data"), prevent_initial_call=True)
    @require_role(*READERS)
    def save_theme(theme: str | None) -> None:
        if theme in ("light", "dark"):
            set_theme(current_runtime(), current_view().id, theme)
