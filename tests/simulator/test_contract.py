"""Every response the simulator serves matches Sentry's OpenAPI schema for it.

Each case fetches a real response and validates its body against the schema
found in the spec by path template + method + status, with a real OpenAPI 3.0
validator (it knows `nullable`) and a format checker (dates must be dates).
Bodies also may not carry properties the schema does not declare, so the
simulator cannot drift into inventing fields a client then relies on.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from sentry_simulator import OPERATIONS
from sentry_simulator.seed import derive_hex
from sentry_simulator.testing import RunningSimulator, running_simulator

from simulator_helpers import sentry_client

# Sentry documents no body for its error statuses; this is the shape it sends
# (DRF's exception handler), and the one the simulator must answer with.
DETAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string", "minLength": 1}},
    "required": ["detail"],
}
# Statuses every endpoint can answer although not all list them in the spec:
# authentication runs before any endpoint (401), every path names an
# organization (404), and a bad query parameter is DRF's ParseError (400).
UNIVERSAL_STATUSES = {"400", "401", "404"}

TEMPLATES = dict(OPERATIONS)
ORG_ID = "4508000000000001"
WEB_ID = "4508000000000101"
WORKER_KEY = derive_hex("public", "acme", "worker", "Default", "0")

# (operationId, path under /api/0/, token, expected status)
CASES: list[tuple[str, str, str | None, int]] = [
    ("getProject", "projects/acme/web/", "demo-token", 200),
    ("getProject", f"projects/{ORG_ID}/{WEB_ID}/", "demo-token", 200),
    ("getProject", "projects/acme/api/", "admin-scopes-token", 200),
    ("getProject", "projects/acme/web/", None, 401),
    ("getProject", "projects/acme/web/", "wrong-token", 401),
    ("getProject", "projects/acme/web/", "org-only-token", 403),
    ("getProject", "projects/acme/nope/", "demo-token", 404),
    ("getProject", "projects/nope/web/", "demo-token", 404),
    ("listProjectKeys", "projects/acme/web/keys/", "demo-token", 200),
    ("listProjectKeys", f"projects/{ORG_ID}/{WEB_ID}/keys/", "demo-token", 200),
    ("listProjectKeys", "projects/acme/api/keys/?status=active", "demo-token", 200),
    ("listProjectKeys", "projects/acme/api/keys/?status=inactive", "demo-token", 200),
    ("listProjectKeys", "projects/acme/api/keys/?status=bogus", "demo-token", 200),
    ("listProjectKeys", "projects/acme/web/keys/?cursor=0:1:0", "demo-token", 200),
    ("listProjectKeys", "projects/acme/web/keys/?cursor=garbage", "demo-token", 400),
    ("listProjectKeys", "projects/acme/web/keys/", None, 401),
    ("listProjectKeys", "projects/acme/web/keys/", "wrong-token", 401),
    ("listProjectKeys", "projects/acme/web/keys/", "org-only-token", 403),
    ("listProjectKeys", "projects/acme/nope/keys/", "demo-token", 404),
    ("getProjectKey", f"projects/acme/worker/keys/{WORKER_KEY}/", "demo-token", 200),
    ("getProjectKey", f"projects/acme/worker/keys/{WORKER_KEY}/", None, 401),
    ("getProjectKey", f"projects/acme/worker/keys/{WORKER_KEY}/", "org-only-token", 403),
    ("getProjectKey", f"projects/acme/web/keys/{WORKER_KEY}/", "demo-token", 404),
    ("listProjectKeys", "projects/acme/web/keys/?cursor=", "demo-token", 200),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/", "demo-token", 200),
    ("listOrganizationProjectKeys", f"organizations/{ORG_ID}/project-keys/", "demo-token", 200),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/?status=inactive", "demo-token", 200),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/?team=platform", "demo-token", 200),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/?team=102&status=active", "demo-token", 200),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/?cursor=0:100:0", "demo-token", 200),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/?per_page=101", "demo-token", 400),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/", None, 401),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/", "wrong-token", 401),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/", "project-only-token", 403),
    ("listOrganizationProjectKeys", "organizations/nope/project-keys/", "demo-token", 404),
    ("listOrganizationProjectKeys", "organizations/acme/project-keys/?team=nope", "demo-token", 404),
    ("listOrganizationProjects", "organizations/acme/projects/", "demo-token", 200),
    ("listOrganizationProjects", "organizations/acme/projects/?per_page=2", "demo-token", 200),
    ("listOrganizationProjects", "organizations/acme/projects/?per_page=2&cursor=0:4:0", "demo-token", 200),
    ("listOrganizationProjects", "organizations/acme/projects/?query=work", "demo-token", 200),
    ("listOrganizationProjects", "organizations/acme/projects/?per_page=many", "demo-token", 400),
    ("listOrganizationProjects", "organizations/acme/projects/", None, 401),
    ("listOrganizationProjects", "organizations/acme/projects/", "wrong-token", 401),
    ("listOrganizationProjects", "organizations/acme/projects/", "project-only-token", 403),
    ("listOrganizationProjects", "organizations/nope/projects/", "demo-token", 404),
    ("listTeamProjects", "teams/acme/web-team/projects/", "demo-token", 200),
    ("listTeamProjects", "teams/acme/101/projects/", "demo-token", 200),
    ("listTeamProjects", "teams/acme/platform/projects/?cursor=0:1:0", "demo-token", 200),
    ("listTeamProjects", "teams/acme/web-team/projects/", None, 401),
    ("listTeamProjects", "teams/acme/web-team/projects/", "wrong-token", 401),
    ("listTeamProjects", "teams/acme/web-team/projects/", "org-only-token", 403),
    ("listTeamProjects", "teams/acme/nope/projects/", "demo-token", 404),
    ("listProjectStats", "projects/acme/web/stats/", "demo-token", 200),
    ("listProjectStats", "projects/acme/web/stats/?stat=received&resolution=1h&since=1760000000&until=1760086400",
     "demo-token", 200),
    ("listProjectStats", "projects/acme/api/stats/?stat=rejected&resolution=1d", "demo-token", 200),
    ("listProjectStats", "projects/acme/worker/stats/?stat=generated&resolution=10s&since=1760000000&until=1760000600",
     "demo-token", 200),
    ("listProjectStats", "projects/acme/mobile/stats/?stat=blacklisted", "demo-token", 200),
    ("listProjectStats", "projects/acme/web/stats/?stat=bogus", "demo-token", 400),
    ("listProjectStats", "projects/acme/web/stats/", None, 401),
    ("listProjectStats", "projects/acme/web/stats/", "wrong-token", 401),
    ("listProjectStats", "projects/acme/web/stats/", "org-only-token", 403),
    ("listProjectStats", "projects/acme/nope/stats/", "demo-token", 404),
]


@pytest.fixture(scope="module")
def contract_simulator(_demo_seed_pristine: dict[str, Any]) -> Iterator[RunningSimulator]:
    # Read-only cases share one server; nothing here mutates it. The contract is about
    # shapes, so one budget high enough for every case replaces Sentry's 5/s on stats.
    with running_simulator(copy.deepcopy(_demo_seed_pristine), rate_limit=10_000) as running:
        yield running


def _operation(spec: dict[str, Any], template: str) -> dict[str, Any]:
    operation: dict[str, Any] = spec["paths"][template]["get"]
    return operation


def _response_schema(spec: dict[str, Any], template: str, status: int) -> dict[str, Any] | None:
    """The schema the spec gives for this path, GET and status; None if it documents no body."""
    responses = _operation(spec, template)["responses"]
    content = responses.get(str(status), {}).get("content", {})
    media = content.get("application/json")
    return media["schema"] if media else None


def _undeclared_properties(schema: dict[str, Any], instance: Any, where: str = "$") -> list[str]:
    """Paths of object properties the schema does not declare (it allows them, Sentry never sends them)."""
    found: list[str] = []
    if isinstance(instance, dict) and "properties" in schema and "additionalProperties" not in schema:
        for name, value in instance.items():
            if name not in schema["properties"]:
                found.append(f"{where}.{name}")
            else:
                found += _undeclared_properties(schema["properties"][name], value, f"{where}.{name}")
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(instance):
            found += _undeclared_properties(schema["items"], item, f"{where}[{i}]")
    return found


def _validate(schema: dict[str, Any], body: Any) -> None:
    OAS30Validator.check_schema(schema)
    errors = sorted(OAS30Validator(schema, format_checker=oas30_format_checker).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_every_served_operation_is_a_get_in_the_spec_under_its_operation_id(spec: dict[str, Any]) -> None:
    for operation_id, template in OPERATIONS:
        assert _operation(spec, template)["operationId"] == operation_id


def test_every_served_operation_has_a_successful_contract_case() -> None:
    assert {op for op, _ in OPERATIONS} == {op for op, _, _, status in CASES if status == 200}


@pytest.mark.parametrize(("operation_id", "path", "token", "status"), CASES,
                         ids=[f"{c[0]}-{c[3]}-{c[1]}-{c[2]}" for c in CASES])
def test_response_body_matches_the_schema_of_its_operation_and_status(
    spec: dict[str, Any],
    contract_simulator: RunningSimulator,
    operation_id: str,
    path: str,
    token: str | None,
    status: int,
) -> None:
    template = TEMPLATES[operation_id]
    with sentry_client(contract_simulator.url, token) as http:
        response = http.get("api/0/" + path)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    schema = _response_schema(spec, template, status)
    if status == 200:
        assert schema is not None, f"the spec documents no 200 body for {operation_id}"
        _validate(schema, body)
        assert _undeclared_properties(schema, body) == []
    else:
        assert str(status) in _operation(spec, template)["responses"] or str(status) in UNIVERSAL_STATUSES
        _validate(schema or DETAIL_SCHEMA, body)


def test_list_bodies_are_not_vacuously_empty(contract_simulator: RunningSimulator) -> None:
    """Schema checks of `[]` prove nothing; the main 200 cases must carry items."""
    with sentry_client(contract_simulator.url) as http:
        for path in ("projects/acme/web/keys/", "organizations/acme/project-keys/",
                     "organizations/acme/projects/", "teams/acme/web-team/projects/", "projects/acme/web/stats/"):
            assert len(http.get("api/0/" + path).json()) >= 2, path


def test_error_details_are_sentrys_messages(contract_simulator: RunningSimulator) -> None:
    def detail(token: str | None, path: str) -> str:
        with sentry_client(contract_simulator.url, token) as http:
            text: str = http.get("api/0/" + path).json()["detail"]
            return text

    assert detail(None, "projects/acme/web/keys/") == "Authentication credentials were not provided."
    assert detail("wrong-token", "projects/acme/web/keys/") == "Invalid token"
    assert detail("org-only-token", "projects/acme/web/keys/") == "You do not have permission to perform this action."
    assert detail("demo-token", "projects/acme/nope/keys/") == "The requested resource does not exist"
    assert detail("demo-token", "projects/acme/web/keys/?cursor=x") == "Invalid cursor parameter."


def test_unknown_resource_is_404_even_for_a_token_without_the_scope(contract_simulator: RunningSimulator) -> None:
    with sentry_client(contract_simulator.url, "org-only-token") as http:
        assert http.get("api/0/projects/acme/nope/keys/").status_code == 404


def test_key_fields_follow_sentrys_dsn_layout(contract_simulator: RunningSimulator) -> None:
    with sentry_client(contract_simulator.url) as http:
        keys = http.get("api/0/organizations/acme/project-keys/").json()

    host = f"o{ORG_ID}.ingest.us.sentry.io"
    for key in keys:
        public, secret, pid = key["public"], key["secret"], key["projectId"]
        assert len(key["id"]) == len(public) == len(secret) == 32
        assert int(public, 16) >= 0 and int(secret, 16) >= 0 and public != secret
        assert key["id"] == public  # Sentry's key id is its public key
        assert key["name"] == key["label"]
        assert key["rateLimit"] is None
        assert key["dateCreated"].endswith("Z")
        dsn = key["dsn"]
        assert dsn["public"] == f"https://{public}@{host}/{pid}"
        assert dsn["secret"] == f"https://{public}:{secret}@{host}/{pid}"
        assert dsn["csp"] == f"https://{host}/api/{pid}/csp-report/?sentry_key={public}"
        assert dsn["otlp_traces"] == f"https://{host}/api/{pid}/integration/otlp/v1/traces"
        assert dsn["cdn"] == f"https://js.sentry-cdn.com/{public}.min.js"


def test_unknown_api_path_is_404_with_detail(contract_simulator: RunningSimulator) -> None:
    with sentry_client(contract_simulator.url) as http:
        response = http.get("api/0/nothing/here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "The requested resource does not exist"}


def test_path_without_trailing_slash_redirects_like_django(contract_simulator: RunningSimulator) -> None:
    with sentry_client(contract_simulator.url) as http:
        response = http.get("api/0/projects/acme/web/keys", params={"status": "active"})
    assert response.status_code == 301
    assert response.headers["location"] == contract_simulator.url + "api/0/projects/acme/web/keys/?status=active"


def test_write_methods_are_not_allowed_on_read_endpoints(contract_simulator: RunningSimulator) -> None:
    with sentry_client(contract_simulator.url) as http:
        response = http.post("api/0/projects/acme/web/keys/", json={"name": "x"})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
