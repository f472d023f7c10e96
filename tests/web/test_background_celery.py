"""The Celery manager (TRADEBLOCK_CELERY_BROKER): a background callback of the real app runs on a
real `celery -A app:celery_app worker` subprocess over the Redis at 127.0.0.1:6379, inside the
worker's own app context, and still trusts only its grant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dash import Dash

from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.background import CELERY_REDIS, celery_worker, job_result
from tests.helpers.dashboard import app_runtime, build_app, make_user, signed_in
from tests.web.test_background_auth import PARAMS, job_body
from web import background
from web.background import CeleryJobs


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Iterator[Dash]:
    with celery_worker(test_settings):
        yield build_app(test_settings, celery_broker=CELERY_REDIS)


def test_a_job_runs_on_the_celery_worker_and_checks_its_grant(app: Dash, runtime: Runtime) -> None:
    assert isinstance(app.server.extensions[background.EXTENSION], CeleryJobs)
    trader_id = make_user(app_runtime(app), "trader", Role.TRADER).id
    trader = signed_in(app, "trader")
    with app.server.app_context():
        token = background.issue_grant(trader_id, "backtest", PARAMS)
        job = background.read_grant(app.server.config["SECRET_KEY"], token)
        assert job is not None
        background.cancel_job(job)  # the flag lives in Redis, where the worker's job would read it
        assert background.cancel_check(job)()
    contents = "data:text/csv;base64,dGltZSxzeW1ib2wK"
    outputs = job_result(trader, job_body(app, token, contents), timeout_s=90)
    assert "The file changed after the check" in str(outputs["bt-message"]["children"])
    # A grant signed with another key is refused at the door: no task is even sent.
    forged = background.sign_grant("a-key-that-is-not-the-desks-own-key", trader_id, "backtest", PARAMS)
    assert trader.post("/_dash-update-component", json=job_body(app, forged)).status_code == 403
