"""Tradeblock's web app: builds the Dash app and exposes `server` for gunicorn (`app:server`).

`create_app` is an application factory (as in Flask): tests build apps with their own settings,
gunicorn and `python app.py` get the one built from the environment.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Dash, html

from engine.config import Settings, load_settings
from engine.runtime import Runtime, build_runtime, configure_logging

log = logging.getLogger("tradeblock")


def create_app(settings: Settings | None = None, start_engine: bool | None = None) -> Dash:
    """Build the Dash app on `settings` (default: from the environment) and start the engine."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings)
    app = Dash(
        __name__,
        use_pages=True,
        # Bootstrap is served from assets/ (no CDN): the app must work offline and self-hosted.
        suppress_callback_exceptions=True,
        title="Tradeblock",
    )
    app.server.config.update(SECRET_KEY=settings.secret_key, TRADEBLOCK_RUNTIME=runtime)
    app.layout = dbc.Container([html.H1("Tradeblock", className="my-3"), dash.page_container], fluid=True)
    if settings.engine_enabled if start_engine is None else start_engine:
        start_background_engine(runtime)
    return app


def start_background_engine(runtime: Runtime) -> None:
    """Start the scheduler (candle fetches, syncs) once per process."""
    from engine import scheduler

    scheduler.start(runtime)


def __getattr__(name: str) -> Any:
    # Built lazily so that importing this module (tests, tools) does not start an app; gunicorn's
    # `app:server` and `python app.py` trigger the build.
    if name in ("app", "server"):
        built = create_app()
        globals().update(app=built, server=built.server)
        return globals()[name]
    raise AttributeError(name)


if __name__ == "__main__":
    import os

    application = create_app()
    application.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8050")), debug=False)
