"""Callbacks of helper modules (not pages), registered by the page that uses them.

Dash runs a page module again for every app it builds (tests build several), and each app takes
the callbacks registered since the last one; a helper module imported once would give its
callbacks to the first app only. So helpers declare theirs with `Deferred.callback` and the page
calls `register()` at import, once per app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash

F = Callable[..., Any]


class Deferred:
    def __init__(self) -> None:
        self._pending: list[tuple[F, tuple[Any, ...], dict[str, Any]]] = []

    def callback(self, *dependencies: Any, **options: Any) -> Callable[[F], F]:
        """Like dash.callback, but only recorded until `register()`; put `require_role` under it."""

        def keep(func: F) -> F:
            self._pending.append((func, dependencies, options))
            return func

        return keep

    def register(self) -> None:
        for func, dependencies, options in self._pending:
            dash.callback(*dependencies, **options)(func)
