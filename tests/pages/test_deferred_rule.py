"""The rule of pages/components/deferred.py, checked on the source: a helper module never registers
a callback when it is imported (with `@callback`, `@dash.callback` or `dash.clientside_callback`
at module level), because only the first app built would get it. It declares them on a
`Deferred` (or inside a function the page calls), and the page registers them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).parents[2] / "pages" / "components"
REGISTERING = {"callback", "clientside_callback"}


def _registering(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id in REGISTERING
    return (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and (target.value.id == "dash" and target.attr in REGISTERING)
    )


def import_time_registrations(source: str) -> list[int]:
    """Line numbers of callbacks registered by merely importing a module with this source."""
    lines = []
    for node in ast.parse(source).body:  # module level only: a function's body runs when called
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines += [d.lineno for d in node.decorator_list if _registering(d)]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _registering(node.value):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_each_way_of_registering_at_import() -> None:
    source = (
        "import dash\nfrom dash import callback\n"
        "@callback(1)\ndef a(): pass\n"
        "@dash.callback(1)\ndef b(): pass\n"
        "dash.clientside_callback('f', 1)\n"
        "@CALLBACKS.callback(1)\ndef c(): pass\n"
        "def register():\n    dash.clientside_callback('f', 1)\n"
    )
    assert import_time_registrations(source) == [3, 5, 7]


@pytest.mark.parametrize("module", sorted(COMPONENTS.glob("*.py")), ids=lambda p: p.name)
def test_helper_modules_register_no_callback_at_import(module: Path) -> None:
    assert import_time_registrations(module.read_text()) == [], f"{module.name}: use CALLBACKS = Deferred()"
