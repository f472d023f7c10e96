"""Health check for load balancers and `make run` scripts: can this process reach its database?"""

from __future__ import annotations

import logging

from sqlalchemy import text

from engine.runtime import Runtime

log = logging.getLogger(__name__)


def database_ok(runtime: Runtime) -> bool:
    try:
        with runtime.db.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.error("health check: database unreachable: %s", exc)
        return False
    return True
