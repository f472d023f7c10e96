"""schemathesis against the app's own OpenAPI document, through the WSGI app: every operation gets
generated requests (valid ones, and invalid ones for the refusals), each sent with a trade token;
no answer may be a server error, and every answer must have a documented status, content type and
a body matching its schema. The example count per operation is bounded (EXAMPLES) to keep the test
under a minute on a shared machine."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from dash import Dash
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.api import LIMIT_BLOCK, alert_body, backtest_body, condition_body, make_desk
from tests.helpers.dashboard import build_app
from tests.helpers.portfolio import add_trade

EXAMPLES = 60
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


def strategies(operation: Any, block: dict[str, Any], backtest: dict[str, Any], series: int) -> list[Any]:
    """Valid and invalid requests of the operation; for the three that take a block, also the
    trader's own valid block (random account ids are all someone else's: 404), waiting until
    tomorrow for POST /conditions; for POST /backtests, a short backtest of the stored series
    (random exchanges have none: 422); for POST /alerts, an alert on the trader's own series
    (random series are nobody's: 422)."""
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    found = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if operation.method.upper() == "POST" and operation.path in ("/api/v1/blocks", "/api/v1/blocks/preview"):
        found.append(operation.as_strategy(body=block))
    if operation.method.upper() == "POST" and operation.path == "/api/v1/conditions":
        found.append(operation.as_strategy(body=condition_body(block["account_id"])))
    if operation.method.upper() == "POST" and operation.path == "/api/v1/backtests":
        found.append(operation.as_strategy(body=backtest))
    if operation.method.upper() == "POST" and operation.path == "/api/v1/alerts":
        found.append(operation.as_strategy(body=alert_body(series)))
    return found


def operations(app: Dash) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/docs/openapi.json", app.server)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_is_openapi_3_with_bearer_security(app: Dash) -> None:
    document = app.server.test_client().get("/api/docs/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert document["security"] == [{"bearer": []}]
    assert len(operations(app)) == 23


@pytest.mark.timeout(600)  # CPU-bound: 1,400 requests and more; a loaded 2-core run took 169 s
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(app: Dash, runtime: Runtime) -> None:
    desk = make_desk(runtime, app)
    now = int(datetime.now(UTC).timestamp() * 1000)
    for days_ago in range(1, 60, 3):  # closed trades of this month and the last: statistics with figures
        entry = now - days_ago * 86_400_000
        price = "112" if days_ago % 2 else "96"
        add_trade(runtime.sessions, desk["trader"], desk["trader_account"], entry, [(entry + 3_600_000, price)])
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {desk['trader_trade']}"}
    for operation in operations(app):
        block = {**LIMIT_BLOCK, "account_id": desk["trader_account"]}
        for strategy in strategies(operation, block, backtest_body(runtime), desk["trader_series"]):

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                statuses[case.call_and_validate(headers=headers, checks=CHECKS).status_code] += 1

            check()
    # The requests reached the handlers, not only the refusals: each kind of answer was seen.
    assert {200, 201, 202, 404, 422} <= set(statuses), statuses
