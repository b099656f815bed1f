"""The request counter counts API round trips, and only those."""

from __future__ import annotations

from simulator_helpers import sentry_client

from sentry_simulator.testing import RunningSimulator


def test_counts_api_requests_by_path_including_failed_ones(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(status=503, path_contains="/keys/")
    with sentry_client(simulator.url) as http, sentry_client(simulator.url, None) as anonymous:
        http.get("api/0/projects/acme/web/keys/")  # 503
        http.get("api/0/projects/acme/web/keys/?status=active")
        anonymous.get("api/0/organizations/acme/projects/")  # 401

    counted = simulator.admin.requests()
    assert counted == {
        "total": 3,
        "by_path": {"/api/0/organizations/acme/projects/": 1, "/api/0/projects/acme/web/keys/": 2},
    }
    assert simulator.admin.request_count() == 3  # admin calls above did not count


def test_reset_requests_starts_counting_from_zero(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        http.get("api/0/organizations/acme/projects/")
    simulator.admin.reset_requests()
    assert simulator.admin.requests() == {"total": 0, "by_path": {}}
    with sentry_client(simulator.url) as http:
        http.get("api/0/organizations/acme/projects/")
    assert simulator.admin.request_count() == 1
