"""schemathesis over the live server's whole OpenAPI schema (real uvicorn, simulated sites, as admin and as a viewer).

Every live route, writes included (setpoints, strategies, orders, device changes),
is called with generated input: no 5xx, every response as its schema says. The
Server-Sent Events route is left out (an endless stream; ``test_rest_live`` reads it).
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.test_rest_live import PASSWORD, _login, server  # noqa: F401 - the fixture

pytestmark = pytest.mark.data


def test_no_server_errors_and_responses_match_the_schema_live(server):  # noqa: F811
    app, base = server
    app.state.store.add("fuzz_admin", PASSWORD, "admin", ["*"])
    app.state.login_limiter.per_minute = 10_000
    bearers = [_login(base, "fuzz_admin"), _login(base, "view")]
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if op.path != "/api/v1/events"]
    assert len(operations) >= 25
    calls: list[str] = []
    for operation in operations:
        _fuzz(operation, bearers, base, calls)
    assert len(set(calls)) == len(operations) and len(calls) >= 2 * len(operations)
    assert httpx.get(f"{base}/api/v1/audit/ledger", headers=bearers[0]).json()["ok"]


def _fuzz(operation, bearers: list[dict], base: str, calls: list[str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case) -> None:
        for headers in bearers:
            case.call_and_validate(headers=headers, base_url=base, timeout=20)
            calls.append(operation.label)

    check()
