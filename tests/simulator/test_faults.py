"""Scripted faults hit exactly the requests they target, then stop."""

from __future__ import annotations

import json
import time

import pytest
from simulator_helpers import sentry_client

from sentry_simulator.testing import RunningSimulator

KEYS = "api/0/projects/acme/web/keys/"
PROJECTS = "api/0/organizations/acme/projects/"


def test_429_carries_a_requested_retry_after_and_is_consumed_after_count(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=429, count=2, retry_after=7)
    with sentry_client(simulator.url) as http:
        responses = [http.get(KEYS) for _ in range(3)]

    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["Retry-After"] == "7"
    assert "too frequently" in responses[0].json()
    assert "X-Sentry-Rate-Limit-Remaining" in responses[0].headers


def test_a_429_is_sentrys_bare_string_with_only_the_reset_header_to_go_by(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=429)
    with sentry_client(simulator.url) as http:
        response = http.get(KEYS)
    assert response.status_code == 429 and isinstance(response.json(), str)
    assert "Retry-After" not in response.headers
    assert int(response.headers["X-Sentry-Rate-Limit-Reset"]) >= int(time.time())


def test_path_contains_limits_the_fault_to_matching_requests(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=503, count=1, path_contains="/keys/")
    with sentry_client(simulator.url) as http:
        unrelated = http.get(PROJECTS)
        targeted = http.get(KEYS)
        after = http.get(KEYS)
    assert (unrelated.status_code, targeted.status_code, after.status_code) == (200, 503, 200)


def test_500_is_sentrys_json_error_and_gateway_errors_are_html(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=500)
    simulator.admin.inject_fault(status=502)
    with sentry_client(simulator.url) as http:
        internal = http.get(KEYS)
        gateway = http.get(KEYS)
    assert internal.status_code == 500 and internal.json() == {"detail": "Internal Error"}
    assert gateway.status_code == 502 and gateway.headers["content-type"] == "text/html"
    assert "502 Bad Gateway" in gateway.text


def test_a_raw_body_is_sent_verbatim(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=503, body="upstream connect error")
    with sentry_client(simulator.url) as http:
        response = http.get(KEYS)
    assert response.status_code == 503 and response.text == "upstream connect error"


def test_malformed_answers_200_json_that_does_not_parse(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(malformed=True, path_contains="project-keys")
    with sentry_client(simulator.url) as http:
        broken = http.get("api/0/organizations/acme/project-keys/?project=-1")
        healthy = http.get("api/0/organizations/acme/project-keys/?project=-1")
    assert broken.status_code == 200
    assert broken.headers["content-type"] == "application/json"
    assert broken.text and healthy.text.startswith(broken.text)  # the real body, cut short
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)
    assert len(healthy.json()) == 7


def test_unlimited_count_fails_every_match_until_cleared(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=500, count=None)
    with sentry_client(simulator.url) as http:
        assert {http.get(KEYS).status_code for _ in range(5)} == {500}
        simulator.admin.clear_faults()
        assert http.get(KEYS).status_code == 200


def test_latency_delays_api_requests_but_not_admin_calls(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(latency_ms=200)
    with sentry_client(simulator.url) as http:
        started = time.perf_counter()
        http.get(KEYS)
        slow = time.perf_counter() - started
    started = time.perf_counter()
    simulator.admin.requests()
    admin = time.perf_counter() - started

    assert slow >= 0.2
    assert admin < 0.2

    simulator.admin.clear_faults()
    with sentry_client(simulator.url) as http:
        started = time.perf_counter()
        http.get(KEYS)
        assert time.perf_counter() - started < 0.2


def test_faults_apply_in_the_order_they_were_added(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=502)
    simulator.admin.inject_fault(status=429, retry_after=0)
    with sentry_client(simulator.url) as http:
        assert [http.get(KEYS).status_code for _ in range(3)] == [502, 429, 200]
