"""Pages are one file each, and their `register_page(..., roles=..., order=..., nav=...)` is the only
list of them: every page declares its roles, the server's guard refuses its URL and the pages
router's request for it to every other role, and the navbar offers each role exactly the pages it
may open. A page registered at run time is linked and guarded with no other change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dash
import pytest
from dash import Dash, html
from flask.testing import FlaskClient

from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.dashboard import build_app, login, make_user, route
from tests.helpers.db import empty_tables

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"
# One module per page file at the top of pages/ (helpers live in pages/components/).
PAGE_MODULES = sorted(f"pages.{path.stem}" for path in PAGES_DIR.glob("*.py") if path.stem != "__init__")
ROLES = list(Role)


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture(scope="module")
def clients(runtime_session: Runtime, app: Dash) -> dict[Role, FlaskClient]:
    """One user per role in an emptied database, each signed in once for the module (nothing here
    writes)."""
    empty_tables(runtime_session)
    signed = {}
    for role in ROLES:
        make_user(runtime_session, role.value, role)
        client = app.server.test_client()
        assert login(client, role.value).status_code == 302
        signed[role] = client
    return signed


def nav_links(client: FlaskClient) -> dict[str, str]:
    """The navbar's links in the layout the server sends this user: id -> href."""

    def walk(node: object) -> Iterator[dict]:
        if isinstance(node, dict):
            props = node.get("props")
            if node.get("type") == "NavLink" and isinstance(props, dict):
                yield props
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    return {props["id"]: props["href"] for props in walk(json.loads(layout.get_data(as_text=True)))}


def expected_links(role: Role) -> dict[str, str]:
    """What the registry says `role`'s navbar holds."""
    return {
        "nav-" + page["module"].rsplit(".", 1)[-1].replace("_", "-"): page["path"]
        for page in dash.page_registry.values()
        if page.get("nav") and role in page["roles"]
    }


def test_pages_holds_only_modules_that_register_a_page(app: Dash) -> None:
    assert PAGE_MODULES, "no page files found"
    assert sorted(dash.page_registry) == PAGE_MODULES


@pytest.mark.parametrize("module", PAGE_MODULES)
def test_every_page_declares_its_roles_order_and_nav(app: Dash, module: str) -> None:
    page = dash.page_registry[module]
    roles = page.get("roles")
    assert isinstance(roles, tuple), f"{module} declares no roles"
    assert roles, f"{module} declares an empty tuple of roles"
    assert all(isinstance(role, Role) for role in roles), roles
    assert Role.ADMIN in roles  # admins may open every page
    assert isinstance(page["order"], int)
    assert isinstance(page.get("nav"), bool)
    assert page["path_template"] is None  # the guard matches exact paths


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
@pytest.mark.parametrize("module", PAGE_MODULES)
def test_the_guard_opens_a_page_only_to_the_roles_it_declares(
    app: Dash, clients: dict[Role, FlaskClient], module: str, role: Role
) -> None:
    page = dash.page_registry[module]
    client = clients[role]
    allowed = role in page["roles"]
    opened = client.get(page["path"])
    assert opened.status_code == (200 if allowed else 403)
    if not allowed:  # a page a person reads, not the API's JSON
        assert opened.mimetype == "text/html"
        assert "Not for your role" in opened.get_data(as_text=True)
        assert f"({role.value})" in opened.get_data(as_text=True)
    routed = route(client, page["path"])
    assert routed.status_code == (200 if allowed else 403)
    if not allowed:
        assert routed.get_json() == {"error": "not for your role"}


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_the_navbar_links_exactly_the_pages_a_role_may_open(clients: dict[Role, FlaskClient], role: Role) -> None:
    links = nav_links(clients[role])
    assert links == expected_links(role)
    assert "nav-chart" in links
    assert "nav-settings" in links
    assert "nav-data" in links  # every role reads the store
    assert ("nav-admin-users" in links) is (role is Role.ADMIN)
    assert ("nav-blocks" in links) is (role in (Role.ADMIN, Role.TRADER))
    assert ("nav-journal" in links) is (role in (Role.ADMIN, Role.TRADER))


def test_the_navbar_follows_the_declared_order(clients: dict[Role, FlaskClient]) -> None:
    ids = list(nav_links(clients[Role.ADMIN]))
    assert ids == [
        "nav-chart",
        "nav-calendar",
        "nav-blocks",
        "nav-journal",
        "nav-admin-users",
        "nav-data",
        "nav-admin-overview",
        "nav-admin-calendar",
        "nav-backtest",
        "nav-settings",
    ]


@pytest.fixture
def probe_page() -> Iterator[dict]:
    """A page registered at run time (admins and analysts only), gone from the registry afterwards
    (the registry is Dash's, shared by every app of the process)."""
    module = "pages.probe_for_tests"
    dash.register_page(
        module,
        path="/probe",
        name="Probe",
        roles=(Role.ADMIN, Role.ANALYST),
        order=99,
        nav=True,
        layout=html.Div("probe page", id="probe-page"),
    )
    try:
        yield dash.page_registry[module]
    finally:
        dash.page_registry.pop(module)


def test_a_new_page_is_linked_and_guarded_with_no_other_change(
    app: Dash, clients: dict[Role, FlaskClient], probe_page: dict
) -> None:
    for role in (Role.ADMIN, Role.ANALYST):
        client = clients[role]
        assert list(nav_links(client))[-1] == "nav-probe-for-tests"  # order 99: last
        assert client.get("/probe").status_code == 200
        routed = route(client, "/probe")
        assert routed.status_code == 200
        assert "probe page" in routed.get_data(as_text=True)
    trader = clients[Role.TRADER]
    assert "nav-probe-for-tests" not in nav_links(trader)
    assert trader.get("/probe").status_code == 403
    assert route(trader, "/probe").status_code == 403


def test_a_page_without_roles_is_refused_to_everyone(
    app: Dash, clients: dict[Role, FlaskClient], probe_page: dict
) -> None:
    probe_page.pop("roles")
    for role, client in clients.items():
        assert client.get("/probe").status_code == 403, role
        assert "nav-probe-for-tests" not in nav_links(client)
