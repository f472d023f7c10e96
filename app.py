"""Tradeblock's web app: builds the Dash app and exposes `server` for gunicorn (`app:server`).

`create_app` is an application factory (as in Flask): tests build apps with their own settings,
gunicorn and `python app.py` get the one built from the environment.
"""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

from dash import Dash, html
from flask_login import current_user

from engine.config import Settings, load_settings
from engine.runtime import Runtime, build_runtime, configure_logging
from pages.components.layout import register_shell_callbacks, shell
from web.api import init_api
from web.auth import init_auth
from web.background import build_manager, celery_broker_setting, init_background
from web.hardening import init_hardening, init_origin_check
from web.hooks import init_hooks
from web.security import csrf_token
from web.sessions import init_sessions

log = logging.getLogger("tradeblock")


class TradeblockDash(Dash):
    """Dash with the signed-in user's theme on <html>, so a page never flashes the wrong one:
    Bootstrap reads `data-bs-theme`, AG Grid's built-in theme `data-ag-theme-mode`."""

    def interpolate_index(self, **kwargs: Any) -> str:
        index = super().interpolate_index(**kwargs)
        theme = "dark" if current_user.is_authenticated and current_user.view.theme == "dark" else "light"
        return index.replace("<html>", f'<html lang="en" data-bs-theme="{theme}" data-ag-theme-mode="{theme}">', 1)


def secure_cookies_setting(env: dict[str, str] | None = None) -> bool:
    """TRADEBLOCK_SECURE_COOKIES: send the session cookie over HTTPS only (on behind TLS)."""
    raw = (env if env is not None else os.environ).get("TRADEBLOCK_SECURE_COOKIES", "").strip().lower()
    return raw in ("1", "true", "yes", "on")


def redis_url_setting(env: dict[str, str] | None = None) -> str | None:
    """TRADEBLOCK_REDIS_URL: keep web sessions in this Redis (else in files in the instance folder)."""
    return (env if env is not None else os.environ).get("TRADEBLOCK_REDIS_URL", "").strip() or None


def _layout() -> html.Div:
    # A function: Dash calls it per request, so the navbar shows this user and a fresh form token.
    user = current_user.view if current_user.is_authenticated else None
    return shell(user, csrf_token() if user else "")


def create_app(
    settings: Settings | None = None,
    start_engine: bool | None = None,
    secure_cookies: bool | None = None,
    redis_url: str | None = None,
    celery_broker: str | None = None,
) -> Dash:
    """Build the Dash app on `settings` (default: from the environment) and start the engine.
    Sessions go to `redis_url` (default: TRADEBLOCK_REDIS_URL) or to the instance folder; background
    callbacks run on Celery over `celery_broker` (default: TRADEBLOCK_CELERY_BROKER) or in
    processes of this server with a diskcache in the instance folder (web.background)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings)
    # Made before the app: Dash registers the pages' background callbacks with it as it imports them.
    jobs, celery = build_manager(settings.instance_dir, celery_broker or celery_broker_setting())
    app = TradeblockDash(
        __name__,
        use_pages=True,
        # Bootstrap is served from assets/ (no CDN): the app must work offline and self-hosted.
        suppress_callback_exceptions=True,
        title="Tradeblock",
        update_title=None,  # live updates every few seconds would make the tab title flicker
        background_callback_manager=jobs,
    )
    app.server.config.update(SECRET_KEY=settings.secret_key, TRADEBLOCK_RUNTIME=runtime)
    secure = secure_cookies_setting() if secure_cookies is None else secure_cookies
    init_sessions(app.server, settings.instance_dir, redis_url or redis_url_setting())
    init_origin_check(app.server)
    init_auth(app.server, secure)
    init_api(app.server)
    init_hooks(app.server)
    init_background(app, jobs)
    app.server.extensions["tradeblock_celery"] = celery
    init_hardening(app, secure)
    app.layout = _layout
    register_shell_callbacks(app)
    if settings.engine_enabled if start_engine is None else start_engine:
        start_background_engine(runtime)
    return app


def start_background_engine(runtime: Runtime) -> None:
    """Start the engine (candle fetches, bracket syncs), unless another process already runs it."""
    from engine import scheduler

    scheduler.start(runtime)


def freeze_heap() -> None:
    """Move everything the start made (modules, the Dash app, its callbacks: some 400,000 objects)
    out of the garbage collector's reach. Otherwise each full collection walks them all, about 300 ms
    with every request thread stopped: the tail of the API's latency under load (docs/benchmarks.md).
    What the start left as garbage is collected first; later garbage is collected as before."""
    gc.collect()
    gc.freeze()


def __getattr__(name: str) -> Any:
    # Built lazily so that importing this module (tests, tools) does not start an app; gunicorn's
    # `app:server` and `python app.py` trigger the build.
    if name in ("app", "server"):
        built = create_app()
        globals().update(app=built, server=built.server)
        freeze_heap()
        return globals()[name]
    if name == "celery_app":
        # `celery -A app:celery_app worker`: the worker builds the app (never its engine) so the
        # pages register their background callbacks as Celery tasks, and runs them.
        celery = create_app(start_engine=False).server.extensions["tradeblock_celery"]
        if celery is None:
            raise RuntimeError("set TRADEBLOCK_CELERY_BROKER (e.g. redis://127.0.0.1:6379/1) to run a worker")
        globals()["celery_app"] = celery
        return celery
    raise AttributeError(name)


if __name__ == "__main__":
    import signal
    import sys

    # SIGTERM (a deploy, `kill`) exits through atexit, which stops the engine after its running
    # jobs; Python's default would end the process on the spot.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    application = create_app()
    freeze_heap()
    application.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8050")), debug=False)
