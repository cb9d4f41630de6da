"""schemathesis over the whole OpenAPI schema of the runs server, as admin and as a viewer: no 5xx, no schema violation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from tests.api.test_rest import PASSWORD, USERS, runs_dir  # noqa: F401 - the module fixture

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def api_app(runs_dir, tmp_path_factory):  # noqa: F811
    app = create_app(ApiSettings(jwt_secret="z" * 48, state_dir=tmp_path_factory.mktemp("state"), login_per_minute=10_000),
                     runs_dir)  # fmt: skip
    for name, (role, sites) in USERS.items():
        app.state.store.add(name, PASSWORD, role, sites)
    return app


@pytest.fixture(scope="module")
def bearers(api_app):
    out = []
    with TestClient(api_app) as client:
        for user in ("root", "viewer_linz"):
            token = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD}).json()["access_token"]
            out.append({"Authorization": f"Bearer {token}"})
    return out


def test_no_server_errors_and_responses_match_the_schema(api_app, bearers):
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            for headers in bearers:  # as admin and as a viewer of one site
                case.call_and_validate(headers=headers)

        check()
