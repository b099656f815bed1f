"""Every API response carries Sentry's rate-limit headers, per endpoint, and the limits bite."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from simulator_helpers import sentry_client

from sentry_simulator.testing import RunningSimulator, running_simulator

HEADERS = (
    "X-Sentry-Rate-Limit-Limit",
    "X-Sentry-Rate-Limit-Remaining",
    "X-Sentry-Rate-Limit-Reset",
    "X-Sentry-Rate-Limit-ConcurrentLimit",
    "X-Sentry-Rate-Limit-ConcurrentRemaining",
)


def test_every_api_response_has_the_five_headers(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http, sentry_client(simulator.url, None) as anonymous:
        responses = [
            http.get("api/0/projects/acme/web/"),
            anonymous.get("api/0/projects/acme/web/"),
            http.get("api/0/projects/acme/nope/"),
            http.get("api/0/organizations/acme/projects/?cursor=bad"),
        ]
    assert [r.status_code for r in responses] == [200, 401, 404, 400]
    for response in responses:
        for name in HEADERS:
            assert int(response.headers[name]) >= 0, name


def test_endpoints_with_their_own_limit_say_so_and_report_the_concurrent_limit_as_none(
    simulator: RunningSimulator,
) -> None:
    with sentry_client(simulator.url) as http:
        key_id = http.get("api/0/projects/acme/web/keys/").json()[0]["id"]
        key_stats = f"api/0/projects/acme/web/keys/{key_id}/stats/"
        limits = {
            path: http.get(path).headers
            for path in (
                "api/0/projects/acme/web/keys/",
                "api/0/organizations/acme/project-keys/",
                "api/0/projects/acme/web/stats/?stat=received",
                "api/0/organizations/acme/projects/",
                key_stats,
            )
        }
    assert {path: h["X-Sentry-Rate-Limit-Limit"] for path, h in limits.items()} == {
        key_stats: "20",
        "api/0/projects/acme/web/keys/": "40",
        "api/0/organizations/acme/project-keys/": "40",
        "api/0/projects/acme/web/stats/?stat=received": "5",
        "api/0/organizations/acme/projects/": "1000",
    }
    assert limits["api/0/projects/acme/web/keys/"]["X-Sentry-Rate-Limit-ConcurrentLimit"] == "None"
    assert limits["api/0/projects/acme/web/keys/"]["X-Sentry-Rate-Limit-ConcurrentRemaining"] == "None"


def test_each_endpoint_spends_its_own_budget(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        # Start just after a window boundary, so the burst meets one fixed one-second window.
        time.sleep(1 - time.time() % 1 + 0.01)
        stats = [http.get(f"api/0/projects/acme/{slug}/stats/?stat=received") for slug in ["web"] * 4 + ["api"] * 2]
        keys = http.get("api/0/projects/acme/web/keys/")

    # One bucket per endpoint, not per project: the other project's stats share it.
    assert [r.status_code for r in stats] == [200] * 5 + [429]
    assert keys.status_code == 200 and keys.headers["X-Sentry-Rate-Limit-Remaining"] == "39"


def test_self_hosted_mode_sends_no_rate_limit_headers_and_never_limits(demo_seed: dict[str, object]) -> None:
    with running_simulator(demo_seed, self_hosted=True) as self_hosted, sentry_client(self_hosted.url) as http:
        responses = [http.get("api/0/projects/acme/web/stats/?stat=received") for _ in range(12)]
    assert {r.status_code for r in responses} == {200}
    assert not any(name.lower().startswith("x-sentry-rate-limit") for r in responses for name in r.headers)


def test_remaining_counts_down_and_reset_is_the_end_of_the_window_in_epoch_seconds(
    simulator: RunningSimulator,
) -> None:
    simulator.admin.inject_fault(rate_limit=50, rate_window=3600)
    with sentry_client(simulator.url) as http:
        first = http.get("api/0/organizations/acme/projects/").headers
        second = http.get("api/0/organizations/acme/projects/").headers
    now = time.time()

    assert first["X-Sentry-Rate-Limit-Limit"] == "50"
    assert int(first["X-Sentry-Rate-Limit-Remaining"]) == 49
    assert int(second["X-Sentry-Rate-Limit-Remaining"]) == 48
    reset = int(second["X-Sentry-Rate-Limit-Reset"])
    assert reset % 3600 == 0 and now < reset <= now + 3600


def test_spending_the_window_budget_answers_sentrys_bare_429(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(rate_limit=3, rate_window=3600)
    with sentry_client(simulator.url) as http:
        statuses = [http.get("api/0/organizations/acme/projects/").status_code for _ in range(4)]
        limited = http.get("api/0/organizations/acme/projects/")

    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    # No Retry-After: the reset header is all Sentry's middleware gives.
    assert "Retry-After" not in limited.headers
    assert 0 < int(limited.headers["X-Sentry-Rate-Limit-Reset"]) - time.time() <= 3600
    assert limited.headers["X-Sentry-Rate-Limit-Remaining"] == "0"
    assert limited.json() == "You are attempting to use this endpoint too frequently. Limit is 3 requests in 3600 seconds"


def test_concurrent_remaining_reflects_requests_really_in_flight(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        alone = http.get("api/0/organizations/acme/projects/").headers
    assert alone["X-Sentry-Rate-Limit-ConcurrentLimit"] == "25"
    assert alone["X-Sentry-Rate-Limit-ConcurrentRemaining"] == "24"

    simulator.admin.inject_fault(latency_ms=300)

    def fetch(_: int) -> httpx.Response:
        with sentry_client(simulator.url) as http:
            return http.get("api/0/organizations/acme/projects/")

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(fetch, range(4)))
    remaining = [int(r.headers["X-Sentry-Rate-Limit-ConcurrentRemaining"]) for r in responses]
    assert min(remaining) <= 22, remaining


def test_a_set_concurrent_limit_answers_429_above_it(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(latency_ms=300, concurrent_limit=1)

    def fetch(_: int) -> httpx.Response:
        with sentry_client(simulator.url) as http:
            return http.get("api/0/organizations/acme/projects/")

    with ThreadPoolExecutor(max_workers=3) as pool:
        responses = list(pool.map(fetch, range(3)))
    statuses = sorted(r.status_code for r in responses)
    assert 200 in statuses and 429 in statuses, statuses
    limited = next(r for r in responses if r.status_code == 429)
    assert limited.headers["X-Sentry-Rate-Limit-ConcurrentLimit"] == "1"
    assert "concurrency" in limited.json()


def test_clearing_faults_restores_the_default_limits(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(rate_limit=1, rate_window=3600, concurrent_limit=1)
    simulator.admin.clear_faults()
    with sentry_client(simulator.url) as http:
        responses = [http.get("api/0/organizations/acme/projects/") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[-1].headers["X-Sentry-Rate-Limit-Limit"] == "1000"
    assert responses[-1].headers["X-Sentry-Rate-Limit-ConcurrentLimit"] == "25"
