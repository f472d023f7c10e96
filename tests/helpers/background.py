"""Driving a Dash background callback over HTTP as dash-renderer does (the first request starts the
job and answers its signed handles, then the same request with `?cacheKey=..&job=..` is repeated
until the job's result comes back), and a real Celery worker for the Celery manager's tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
from flask.testing import FlaskClient

from engine.config import Settings
from tests.helpers.workers import redis_url

UPDATE = "/_dash-update-component"
ROOT = Path(__file__).resolve().parents[2]


def start_job(client: FlaskClient, body: dict) -> dict[str, Any]:
    """Start the job; its handles (cacheKey, job) as the server signed them."""
    response = client.post(UPDATE, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    handles = response.get_json()
    assert {"cacheKey", "job"} <= set(handles), handles
    return handles


def job_result(client: FlaskClient, body: dict, timeout_s: float = 60.0) -> dict[str, Any]:
    """Start the background callback of `body` and poll it until it answers; its outputs."""
    handles = start_job(client, body)
    query = urlencode({"cacheKey": handles["cacheKey"], "job": handles["job"]})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.post(f"{UPDATE}?{query}", json=body)
        assert response.status_code in (200, 204), response.get_data(as_text=True)[:500]
        answer = response.get_json(silent=True) or {}
        if "response" in answer:
            return answer["response"]
        time.sleep(0.2)
    raise AssertionError(f"the background job gave no result within {timeout_s} s")


CELERY_REDIS = redis_url(11)  # this suite's own Redis db (the sessions tests use 15 down to 12)


@contextmanager
def celery_worker(settings: Settings, broker: str = CELERY_REDIS) -> Iterator[subprocess.Popen]:
    """A real `celery -A app:celery_app worker` (one process, solo pool) on the test database and
    `broker`, as README "Background work" starts it; Redis's db is emptied before and after."""
    client = redis.Redis.from_url(broker)
    client.flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "TRADEBLOCK_INSTANCE_DIR": str(settings.instance_dir),
        "TRADEBLOCK_ENGINE": "off",
        "TRADEBLOCK_CELERY_BROKER": broker,
        "TRADEBLOCK_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker", "--pool=solo", "--loglevel=WARNING"]
    log = (settings.instance_dir / "celery-worker.log").open("w")  # read it when a test fails
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield worker
    finally:
        log.close()
        # Killed, not shut down: a worker's clean exit on the same SQLite file left this process's
        # pooled connections failing with "disk I/O error" (SQLite's WAL files dropped at what it
        # took for the last close). Deploy several processes on PostgreSQL (README, Background work).
        worker.kill()
        worker.wait(timeout=20)
        client.flushdb()
