"""Background work of the web app: the Dash background-callback manager, the signed grants that
carry a checked user into a job, and the door that refuses a job request whose grant is not the
caller's.

Managers: a DiskcacheManager (a diskcache.Cache in the instance folder; each job is a forked
process of the web server) by default, or a CeleryManager on Redis when TRADEBLOCK_CELERY_BROKER
is set, so several web processes share workers started with `celery -A app:celery_app worker`.
Either way a job runs outside any request: it gets the Flask app's context of its own process
(`current_runtime()` works) but no signed-in user.

So a job trusts nothing but its grant: a normal callback checks the user and role on the server
(`require_role`) and hands the job `issue_grant(action, params)`, an itsdangerous token signed with
the app's SECRET_KEY carrying the user id, the action and its parameters. The job reads it back
with `job_grant` (signature, age, action, and the user still enabled with an allowed role) and
does nothing without one. Before Dash even starts a job, `_door` refuses (403) a request whose
grant is forged or belongs to another user (and answers 204 to one that carries none), and a poll
of a job that another user started.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache
from celery import Celery
from dash import CeleryManager, Dash, DiskcacheManager
from flask import Flask, Response, current_app, request
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer

from db.enums import Role
from engine.users.api import load_user

GRANT_SALT = "tradeblock.background-job"
GRANT_MAX_AGE_S = 15 * 60  # a grant is used at once; an old one found in a browser runs nothing
# dcc.Store ids holding a grant end with this: the door finds them in a job request by it.
GRANT_SUFFIX = "-grant"
FLAG_TTL_S = 24 * 3600
CANCEL_POLL_S = 0.25  # how often a running job asks the store whether it was canceled
EXTENSION = "tradeblock_background"


def celery_broker_setting(env: dict[str, str] | None = None) -> str | None:
    """TRADEBLOCK_CELERY_BROKER: run background jobs on Celery workers over this Redis; anything
    but a redis:// (or rediss://) URL stops the app with a message naming the variable."""
    value = (env if env is not None else os.environ).get("TRADEBLOCK_CELERY_BROKER", "").strip() or None
    if value is not None and not value.startswith(("redis://", "rediss://")):
        raise ValueError(f"TRADEBLOCK_CELERY_BROKER must be a redis:// URL, got {value.split(':')[0]}://...")
    return value


@dataclass(frozen=True)
class Grant:
    user_id: int
    action: str
    params: dict[str, Any]
    job: str  # random: names the job's cancel flag


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=GRANT_SALT)


def sign_grant(secret_key: str, user_id: int, action: str, params: dict[str, Any]) -> str:
    payload = {"uid": user_id, "do": action, "params": params, "job": secrets.token_urlsafe(12)}
    return str(_serializer(secret_key).dumps(payload))


def read_grant(secret_key: str, token: Any, action: str | None = None) -> Grant | None:
    """The grant in `token` if it is ours, fresh and (when given) for `action`; else None."""
    if not isinstance(token, str) or not token:
        return None
    try:
        payload = _serializer(secret_key).loads(token, max_age=GRANT_MAX_AGE_S)
    except BadData:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        return None
    if action is not None and payload.get("do") != action:
        return None
    params = payload.get("params")
    return Grant(
        payload["uid"], str(payload.get("do")), params if isinstance(params, dict) else {}, str(payload["job"])
    )


def issue_grant(user_id: int, action: str, params: dict[str, Any]) -> str:
    """A grant for the user a normal callback has just checked (call it in that callback)."""
    return sign_grant(current_app.config["SECRET_KEY"], user_id, action, params)


def callers_grant(token: Any, action: str) -> Grant | None:
    """In a request: the grant if it is valid for `action` and the signed-in caller's own."""
    grant = read_grant(current_app.config["SECRET_KEY"], token, action)
    uid = current_user.view.id if current_user.is_authenticated else None
    return grant if grant is not None and grant.user_id == uid else None


def job_grant(token: Any, action: str, roles: tuple[Role, ...]) -> Grant | None:
    """In a job: the grant if it is valid for `action` and its user is still enabled with one of
    `roles` (a user disabled or demoted since the click gets nothing); else None."""
    grant = read_grant(current_app.config["SECRET_KEY"], token, action)
    if grant is None:
        return None
    user = load_user(current_app.config["TRADEBLOCK_RUNTIME"], grant.user_id)
    if user is None or not user.is_active or user.role not in roles:
        return None
    return grant


class _JobsInApp:
    """Mixin of the two managers: each job runs inside its process's Flask app context, with the
    database pool a forked process inherited dropped first (its connections are the parent's)."""

    server: Flask | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._fresh_pid = os.getpid()
        super().__init__(*args, **kwargs)

    def make_job_fn(self, fn: Callable[..., Any], progress: Any, key: Any = None) -> Any:
        return super().make_job_fn(self._in_app(fn), progress, key)  # type: ignore[misc]

    def _in_app(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def job(*args: Any, **kwargs: Any) -> Any:
            server = self.server
            if server is None:
                raise RuntimeError("the background manager was never attached to an app (init_background)")
            if os.getpid() != self._fresh_pid:
                server.config["TRADEBLOCK_RUNTIME"].db.dispose(close=False)
                self._fresh_pid = os.getpid()
            with server.app_context():
                return fn(*args, **kwargs)

        return job

    def put(self, name: str, value: str) -> None:
        """Keep `value` under `name` for a day in the manager's store (shared with its jobs)."""
        raise NotImplementedError

    def get_value(self, name: str) -> str | None:
        raise NotImplementedError

    def raise_flag(self, name: str) -> None:
        self.put(f"tb-flag-{name}", "1")

    def flag_raised(self, name: str) -> bool:
        return self.get_value(f"tb-flag-{name}") is not None


class DiskJobs(_JobsInApp, DiskcacheManager):
    """Jobs in forked processes of this server, results in a diskcache in the instance folder."""

    def put(self, name: str, value: str) -> None:
        self.handle.set(name, value, expire=FLAG_TTL_S)

    def get_value(self, name: str) -> str | None:
        value = self.handle.get(name)
        return None if value is None else str(value)


class CeleryJobs(_JobsInApp, CeleryManager):
    """Jobs on Celery workers, results and flags in the Redis result backend."""

    def put(self, name: str, value: str) -> None:
        self.handle.backend.set(name, value)
        self.handle.backend.expire(name, FLAG_TTL_S)

    def get_value(self, name: str) -> str | None:
        value = self.handle.backend.get(name)
        return None if value is None else (value.decode() if isinstance(value, bytes) else str(value))


def build_manager(instance_dir: Path, broker: str | None) -> tuple[_JobsInApp, Celery | None]:
    """The manager for `create_app`: Celery on `broker` (a redis:// URL) if given, else diskcache."""
    if broker:
        celery = Celery("tradeblock", broker=broker, backend=broker)
        # A worker started before Redis is up keeps trying instead of exiting.
        celery.conf.update(broker_connection_retry_on_startup=True, result_expires=FLAG_TTL_S)
        return CeleryJobs(celery), celery
    folder = instance_dir / "background"
    folder.mkdir(parents=True, exist_ok=True)
    return DiskJobs(diskcache.Cache(str(folder))), None


def init_background(app: Dash, manager: _JobsInApp) -> None:
    """Attach `manager` to `app`: jobs run in its context, and job requests pass the door."""
    manager.server = app.server
    app.server.extensions[EXTENSION] = manager
    app.server.before_request(functools.partial(_door, app))
    app.server.after_request(functools.partial(_note_owner, app))


def cancel_job(grant: Grant) -> None:
    """Ask the job of `grant` to stop (it stops at its next check, keeping what it did)."""
    current_app.extensions[EXTENSION].raise_flag(grant.job)


def cancel_check(grant: Grant) -> Callable[[], bool]:
    """For a job: True once its cancel was asked for (the store is read at most every 0.25 s)."""
    manager = current_app.extensions[EXTENSION]
    seen = {"at": 0.0, "raised": False}

    def cancelled() -> bool:
        now = time.monotonic()
        if not seen["raised"] and now - seen["at"] >= CANCEL_POLL_S:
            seen["at"], seen["raised"] = now, manager.flag_raised(grant.job)
        return bool(seen["raised"])

    return cancelled


def _job_request(app: Dash) -> dict[str, Any] | None:
    """The body of a request to a background callback (start or poll), else None."""
    if request.path != "/_dash-update-component" or request.method != "POST":
        return None
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None
    entry = app.callback_map.get(str(body.get("output")))
    return body if isinstance(entry, dict) and entry.get("background") else None


def _owner_key(cache_key: str) -> str:
    return "tb-owner-" + hashlib.sha256(cache_key.encode()).hexdigest()


def _caller() -> int | None:
    return current_user.view.id if current_user.is_authenticated else None


def _door(app: Dash) -> Response | None:
    """Before Dash starts or polls a job: a start must carry the caller's own grant (another
    user's or a forged one: 403; none at all: nothing to run, 204); a poll (Dash's signed
    `cacheKey`, the body's values left out) must be of a job the caller started."""
    body = _job_request(app)
    if body is None:
        return None
    refused = Response('{"error": "not your job"}', status=403, mimetype="application/json")
    cache_key = request.args.get("cacheKey")
    if cache_key:
        owner = current_app.extensions[EXTENSION].get_value(_owner_key(cache_key))
        return None if owner is not None and owner == str(_caller()) else refused
    args = [*(body.get("inputs") or []), *(body.get("state") or [])]
    tokens = [a.get("value") for a in args if isinstance(a, dict) and str(a.get("id", "")).endswith(GRANT_SUFFIX)]
    if not any(tokens):
        return Response(status=204)
    for token in tokens:
        grant = read_grant(app.server.config["SECRET_KEY"], token) if token else None
        if token and (grant is None or grant.user_id != _caller()):
            return refused
    return None


def _note_owner(app: Dash, response: Response) -> Response:
    """After Dash started a job: remember whose it is, for the door's check of its polls."""
    if response.status_code != 200 or request.args.get("cacheKey") or _job_request(app) is None:
        return response
    answer = response.get_json(silent=True)
    if isinstance(answer, dict) and isinstance(answer.get("cacheKey"), str):
        current_app.extensions[EXTENSION].put(_owner_key(answer["cacheKey"]), str(_caller()))
    return response
