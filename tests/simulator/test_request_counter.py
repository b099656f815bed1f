"""The request counter counts API round trips, and only those, and times the first and the last."""

from __future__ import annotations

import time

from simulator_helpers import sentry_client

from sentry_simulator.testing import RunningSimulator


def test_counts_api_requests_by_path_including_failed_ones(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=503, path_contains="/keys/")
    with sentry_client(simulator.url) as http, sentry_client(simulator.url, None) as anonymous:
        http.get("api/0/projects/acme/web/keys/")  # 503
        http.get("api/0/projects/acme/web/keys/?status=active")
        anonymous.get("api/0/organizations/acme/projects/")  # 401

    counted = simulator.admin.requests()
    assert {key: counted[key] for key in ("total", "by_path")} == {
        "total": 3,
        "by_path": {"/api/0/organizations/acme/projects/": 1, "/api/0/projects/acme/web/keys/": 2},
    }
    assert simulator.admin.request_count() == 3  # admin calls above did not count


def test_reset_requests_starts_counting_from_zero(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        http.get("api/0/organizations/acme/projects/")
    simulator.admin.reset_requests()
    assert simulator.admin.requests() == {"total": 0, "by_path": {}, "first_at": None, "last_at": None}
    with sentry_client(simulator.url) as http:
        http.get("api/0/organizations/acme/projects/")
    assert simulator.admin.request_count() == 1


def test_the_span_runs_from_the_first_request_to_the_last_answer_since_the_reset(
    simulator: RunningSimulator,
) -> None:
    simulator.admin.reset_requests()
    assert simulator.admin.request_span_seconds() is None
    simulator.admin.inject_fault(latency_ms=200)  # the last answer's own wait is part of the span
    with sentry_client(simulator.url) as http:
        before = time.time()
        http.get("api/0/organizations/acme/projects/")
        time.sleep(0.3)
        http.get("api/0/organizations/acme/projects/")
        after = time.time()

    span = simulator.admin.request_span_seconds()
    assert span is not None and 0.3 + 2 * 0.2 <= span <= after - before
