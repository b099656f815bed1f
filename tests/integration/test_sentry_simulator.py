"""The real Sentry client stack (SentryClient, SentryApi, OrganizationCatalog) over real sockets
against the in-thread simulator, healthy and misbehaving.

Retries use the RetryPolicy's sleep/clock seam: sleeping advances a clock
instead of waiting, so a 429 storm asking for seconds of patience costs the
test nothing, while the delays the client chose are recorded and asserted.
Time-outs are real: they are what the test is about.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from sentry_dsn_sync.config import Secret
from sentry_dsn_sync.errors import (
    SentryAuthError,
    SentryNotFoundError,
    SentryPermissionError,
    SentryProjectRenamedError,
    SentryRateLimitError,
    SentryResponseError,
    SentryUnavailableError,
)
from sentry_dsn_sync.sentry import OrganizationCatalog, RetryPolicy, SentryApi, SentryClient, choose_key
from sentry_simulator import DEMO_SEED_PATH, generate_seed
from sentry_simulator.testing import RunningSimulator, running_simulator

TOKEN = "demo-token"
TOKEN_SOURCE = "environment variable SENTRY_AUTH_TOKEN"
BASE_DELAY = 0.05
ORG_PROJECTS = "/api/0/organizations/acme/projects/"
ORG_KEYS = "/api/0/organizations/acme/project-keys/"


class SteppingClock:
    """Wall-clock time whose `sleep` records the delay and steps time forward instead of waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(round(seconds, 3))
            self._offset += seconds


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture(scope="module")
def _demo_seed() -> dict[str, Any]:
    seed: dict[str, Any] = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    # Tokens with one scope each, to reach the 403 paths real tokens hit.
    seed["tokens"] += [
        {"token": "project-only-token", "scopes": ["project:read"]},
        {"token": "org-only-token", "scopes": ["org:read"]},
    ]
    return seed


@pytest.fixture
def sim(_demo_seed: dict[str, Any]) -> Iterator[RunningSimulator]:
    with running_simulator(copy.deepcopy(_demo_seed)) as running:
        yield running


def make_client(
    base_url: str, clock: SteppingClock, *, token: str = TOKEN, timeout: float = 5.0, max_attempts: int = 4
) -> SentryClient:
    policy = RetryPolicy(
        max_attempts=max_attempts,
        base_delay=BASE_DELAY,
        max_delay=10.0,
        total_budget=60.0,
        jitter=0.0,
        sleep=clock.sleep,
        clock=clock.time,
    )
    return SentryClient(
        base_url=base_url, token=Secret(token), token_source=TOKEN_SOURCE, timeout=timeout, retry=policy
    )


@contextmanager
def catalog_of(
    base_url: str, clock: SteppingClock, *, organization: str = "acme", **options: Any
) -> Iterator[OrganizationCatalog]:
    with make_client(base_url, clock, **options) as client:
        yield OrganizationCatalog(SentryApi(client), organization)


def requests_by_path(sim: RunningSimulator) -> dict[str, int]:
    counted: dict[str, int] = sim.admin.requests()["by_path"]
    return counted


def newest_active_id(sim: RunningSimulator, organization: str, project: str) -> str:
    """The key Sentry's own data says should be published (lists are newest first)."""
    return sim.simulator.state.project_keys(organization, project, status="active")[0].id


def published_id(catalog: OrganizationCatalog, project: str) -> str:
    choice = choose_key(catalog.active_keys(project), project=project, key_id=None, key_label=None)
    return choice.key.id


def assert_no_token(error: BaseException, token: str) -> None:
    shown = " ".join([str(error), repr(error), *map(str, error.args), getattr(error, "url", "")])
    assert token not in shown


# -- rate limits and outages ---------------------------------------------------------------


def test_a_429_storm_is_waited_out_for_exactly_retry_after_then_served(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    sim.admin.inject_fault(status=429, count=3, retry_after=2, path_contains="/project-keys/")

    with catalog_of(sim.url, clock) as catalog:
        assert published_id(catalog, "web") == newest_active_id(sim, "acme", "web")

    assert clock.sleeps == [2.0, 2.0, 2.0], "Retry-After is honoured, not the backoff"
    assert requests_by_path(sim) == {ORG_PROJECTS: 1, ORG_KEYS: 4}


def test_a_429_storm_past_the_retry_budget_raises_rate_limit_error_naming_the_endpoint(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    sim.admin.inject_fault(status=429, count=None, retry_after=1, path_contains="/project-keys/")

    with catalog_of(sim.url, clock, max_attempts=3) as catalog, pytest.raises(SentryRateLimitError) as caught:
        catalog.active_keys("web")

    message = str(caught.value)
    assert f"kept rate-limiting GET {sim.url}api/0/organizations/acme/project-keys/" in message
    assert "after 3 attempt(s)" in message
    assert caught.value.status == 429
    assert requests_by_path(sim)[ORG_KEYS] == 3


def test_5xx_then_success_retries_with_exponential_backoff_not_the_rate_limit_reset(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    # Every simulated response carries X-Sentry-Rate-Limit-Reset; a 5xx must not wait for it.
    sim.admin.inject_fault(status=502, count=2, path_contains="/projects/acme/web/")

    with make_client(sim.url, clock) as client:
        project = SentryApi(client).get_project("acme", "web")

    assert project.slug == "web"
    assert clock.sleeps == [BASE_DELAY, 2 * BASE_DELAY]
    assert requests_by_path(sim) == {"/api/0/projects/acme/web/": 3}


def test_5xx_past_the_retry_budget_raises_unavailable_once_for_every_project(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    sim.admin.inject_fault(status=503, count=None)

    with catalog_of(sim.url, clock) as catalog:
        with pytest.raises(SentryUnavailableError) as first:
            catalog.active_keys("web")
        with pytest.raises(SentryUnavailableError) as second:
            catalog.active_keys("api")

    message = str(first.value)
    assert message.startswith(
        f"Sentry did not answer GET {sim.url}api/0/organizations/acme/projects/?per_page=100 "
        "(HTTP 503 Service Unavailable) after 4 attempt(s)"
    ), message
    assert "check that 127.0.0.1 is reachable and healthy" in message
    assert first.value.status == 503
    assert second.value is first.value, "the catalog remembers the failure instead of retrying per project"
    assert requests_by_path(sim) == {ORG_PROJECTS: 4}


def test_a_slow_response_within_the_timeout_is_served(sim: RunningSimulator, clock: SteppingClock) -> None:
    sim.admin.inject_fault(latency_ms=150)

    with make_client(sim.url, clock, timeout=2.0) as client:
        assert SentryApi(client).get_project("acme", "web").slug == "web"

    assert clock.sleeps == []


def test_a_response_slower_than_the_timeout_is_retried_then_reported_as_timed_out(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    sim.admin.inject_fault(latency_ms=1000)

    started = time.monotonic()
    with make_client(sim.url, clock, timeout=0.15, max_attempts=2) as client:
        with pytest.raises(SentryUnavailableError) as caught:
            SentryApi(client).get_project("acme", "web")
    waited = time.monotonic() - started

    assert f"Sentry did not answer GET {sim.url}api/0/projects/acme/web/ (timed out: ReadTimeout)" in str(caught.value)
    assert "after 2 attempt(s)" in str(caught.value)
    assert waited < 0.9, "the client gave up at its own timeout, not when the server finally answered"
    assert requests_by_path(sim) == {"/api/0/projects/acme/web/": 2}


def test_malformed_json_raises_response_error_naming_the_endpoint(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    sim.admin.inject_fault(malformed=True, path_contains="/project-keys/")

    with catalog_of(sim.url, clock) as catalog, pytest.raises(SentryResponseError) as caught:
        catalog.active_keys("web")

    assert str(caught.value).startswith(
        f"Sentry answered GET {sim.url}api/0/organizations/acme/project-keys/?status=active&project=-1&per_page=100 "
        "with a body that is not JSON (application/json)"
    ), str(caught.value)
    assert requests_by_path(sim)[ORG_KEYS] == 1, "a broken body is not a transient failure"


# -- scale and pagination -------------------------------------------------------------------


def key_list_requests(keys: int) -> int:
    """The key list read from both ends: its first page, then one page from each end a round."""
    return 1 if keys <= 100 else 1 + 2 * math.ceil((keys - 100) / 200)


def project_list_requests(projects: int) -> int:
    """The project list read two pages at a time: its first page, then two a round."""
    pages = max(1, math.ceil(projects / 100))
    return 1 + 2 * math.ceil((pages - 1) / 2)


@pytest.mark.parametrize(("projects", "keys_per_project"), [(150, 1), (75, 2), (120, 3), (500, 1), (1000, 1)])
def test_a_large_organization_is_read_in_pages_of_100_with_exact_request_counts(
    clock: SteppingClock, projects: int, keys_per_project: int
) -> None:
    seed = generate_seed(organization="big", projects=projects, keys_per_project=keys_per_project, token=TOKEN)
    with running_simulator(seed) as sim, catalog_of(sim.url, clock, organization="big") as catalog:
        slugs = [p.slug for p in sim.simulator.state.projects("big")]
        keys = {slug: catalog.active_keys(slug) for slug in slugs}
        chosen = {slug: published_id(catalog, slug) for slug in slugs}
        expected = {slug: newest_active_id(sim, "big", slug) for slug in slugs}
        counted = requests_by_path(sim)

    assert len(slugs) == projects
    assert sum(len(found) for found in keys.values()) == projects * keys_per_project
    assert all(len(found) == keys_per_project for found in keys.values())
    assert chosen == expected
    assert counted == {
        "/api/0/organizations/big/projects/": project_list_requests(projects),
        "/api/0/organizations/big/project-keys/": key_list_requests(projects * keys_per_project),
    }
    assert key_list_requests(projects * keys_per_project) <= math.ceil(projects * keys_per_project / 100) + 1
    assert project_list_requests(projects) <= math.ceil(projects / 100) + 1


@pytest.mark.parametrize("projects", [1, 100, 250, 1000])
def test_a_teams_projects_are_read_two_pages_at_a_time_with_exact_request_counts(
    clock: SteppingClock, projects: int
) -> None:
    seed = generate_seed(organization="big", projects=projects, teams=1, token=TOKEN)
    with running_simulator(seed) as sim, catalog_of(sim.url, clock, organization="big") as catalog:
        listed = [p.slug for p in catalog.team_projects("team-00")]
        counted = requests_by_path(sim)

    assert listed == sorted(p.slug for p in sim.simulator.state.projects("big"))
    assert counted == {"/api/0/teams/big/team-00/projects/": project_list_requests(projects)}
    assert project_list_requests(projects) <= math.ceil(projects / 100) + 1


def test_one_projects_25_keys_come_in_one_request_not_three(clock: SteppingClock) -> None:
    seed = generate_seed(organization="big", projects=1, keys_per_project=25, token=TOKEN)
    with running_simulator(seed) as sim, make_client(sim.url, clock) as client:
        keys = SentryApi(client).list_project_keys("big", "project-0000")
        counted = requests_by_path(sim)

    assert len(keys) == 25
    assert counted == {"/api/0/projects/big/project-0000/keys/": 1}


# -- self-hosted under a path prefix ----------------------------------------------------------


@pytest.fixture
def prefixed(_demo_seed: dict[str, Any]) -> Iterator[RunningSimulator]:
    with running_simulator(copy.deepcopy(_demo_seed), prefix="/sentry") as running:
        yield running


@pytest.mark.parametrize("form", ["trailing slash", "no trailing slash", "api root"])
def test_a_base_url_with_a_path_prefix_reaches_every_endpoint_under_it(
    prefixed: RunningSimulator, clock: SteppingClock, form: str
) -> None:
    assert prefixed.url.endswith("/sentry/")
    base_url = {
        "trailing slash": prefixed.url,
        "no trailing slash": prefixed.url.rstrip("/"),
        "api root": prefixed.url + "api/0",
    }[form]

    with catalog_of(base_url, clock) as catalog:
        assert published_id(catalog, "api") == newest_active_id(prefixed, "acme", "api")

    assert requests_by_path(prefixed) == {"/sentry" + ORG_PROJECTS: 1, "/sentry" + ORG_KEYS: 1}


def test_a_base_url_missing_the_prefix_fails_with_a_404_naming_the_organization(
    prefixed: RunningSimulator, clock: SteppingClock
) -> None:
    origin = prefixed.url.removesuffix("sentry/")
    with catalog_of(origin, clock) as catalog, pytest.raises(SentryNotFoundError) as caught:
        catalog.active_keys("web")
    assert str(caught.value).startswith(f"Sentry has no organization 'acme' (GET {origin}api/0/organizations/acme/")


# -- errors a user can act on ---------------------------------------------------------------


def test_401_names_the_token_source_and_never_the_token(sim: RunningSimulator, clock: SteppingClock) -> None:
    wrong = "sntrys_wrong-token-value-0123456789"
    with catalog_of(sim.url, clock, token=wrong) as catalog, pytest.raises(SentryAuthError) as caught:
        catalog.active_keys("web")

    message = str(caught.value)
    assert f"Sentry rejected the token from {TOKEN_SOURCE}" in message
    assert "invalid, expired or revoked" in message and "Invalid token" in message
    assert caught.value.status == 401
    assert_no_token(caught.value, wrong)
    assert requests_by_path(sim) == {ORG_PROJECTS: 1}, "a 401 is not retried"


@pytest.mark.parametrize(
    ("token", "call", "scope"),
    [
        ("project-only-token", lambda api: api.list_organization_projects("acme"), "org:read"),
        ("project-only-token", lambda api: api.list_organization_project_keys("acme"), "org:read"),
        ("org-only-token", lambda api: api.get_project("acme", "web"), "project:read"),
        ("org-only-token", lambda api: api.list_project_keys("acme", "web"), "project:read"),
    ],
)
def test_403_names_the_scope_the_endpoint_needs(
    sim: RunningSimulator, clock: SteppingClock, token: str, call: Any, scope: str
) -> None:
    with make_client(sim.url, clock, token=token) as client, pytest.raises(SentryPermissionError) as caught:
        call(SentryApi(client))

    message = str(caught.value)
    assert f"the token from {TOKEN_SOURCE} may not call GET {sim.url}api/0/" in message
    assert f"this endpoint needs the scope {scope}" in message
    assert "You do not have permission to perform this action." in message
    assert_no_token(caught.value, token)


def test_404_names_the_missing_project_and_the_missing_organization(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    with catalog_of(sim.url, clock) as catalog, pytest.raises(SentryNotFoundError) as project:
        catalog.active_keys("ghost")
    with catalog_of(sim.url, clock, organization="nope") as catalog, pytest.raises(SentryNotFoundError) as org:
        catalog.active_keys("web")

    assert str(project.value).startswith(
        f"Sentry has no project 'ghost' in organization 'acme' (GET {sim.url}api/0/projects/acme/ghost/ answered 404"
    ), str(project.value)
    assert str(org.value).startswith("Sentry has no organization 'nope'"), str(org.value)
    assert "check the slug in the stack config" in str(org.value)


# -- older self-hosted releases and narrow tokens ----------------------------------------------


def test_org_keys_404_falls_back_to_each_projects_keys(sim: RunningSimulator, clock: SteppingClock) -> None:
    # Self-hosted releases before the org-wide keys endpoint answer it with 404.
    sim.admin.inject_fault(status=404, count=None, path_contains=ORG_KEYS)

    with catalog_of(sim.url, clock) as catalog:
        chosen = {slug: published_id(catalog, slug) for slug in ("web", "api")}

    assert chosen == {slug: newest_active_id(sim, "acme", slug) for slug in ("web", "api")}
    assert requests_by_path(sim) == {
        ORG_PROJECTS: 1,
        ORG_KEYS: 1,
        "/api/0/projects/acme/web/keys/": 1,
        "/api/0/projects/acme/api/keys/": 1,
    }


def test_a_token_without_org_read_falls_back_to_project_endpoints(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    with catalog_of(sim.url, clock, token="project-only-token") as catalog:
        chosen = {slug: published_id(catalog, slug) for slug in ("web", "api")}
        # The inactive "Legacy" key of api is never among the keys returned.
        assert all(key.is_active for key in catalog.active_keys("api"))

    assert chosen == {slug: newest_active_id(sim, "acme", slug) for slug in ("web", "api")}
    assert requests_by_path(sim) == {
        ORG_PROJECTS: 1,
        ORG_KEYS: 1,
        "/api/0/projects/acme/web/": 1,
        "/api/0/projects/acme/web/keys/": 1,
        "/api/0/projects/acme/api/": 1,
        "/api/0/projects/acme/api/keys/": 1,
    }



# -- what real Sentry does: team membership, token types, renames, link hosts, endless listings ----------


@pytest.mark.parametrize("token", ["demo-token", "demo-integration-token"])
def test_an_owner_off_most_teams_and_an_integration_read_every_project_in_two_requests(
    sim: RunningSimulator, clock: SteppingClock, token: str
) -> None:
    # demo-token is an owner on web-team only: without project=-1 Sentry would leave api, worker
    # and billing out of the org-wide key list.
    slugs = ("web", "api", "worker", "mobile", "billing")
    with catalog_of(sim.url, clock, token=token) as catalog:
        chosen = {slug: published_id(catalog, slug) for slug in slugs}
    assert chosen == {slug: newest_active_id(sim, "acme", slug) for slug in slugs}
    assert requests_by_path(sim) == {ORG_PROJECTS: 1, ORG_KEYS: 1}


def test_a_project_the_org_wide_answer_leaves_out_is_read_from_its_own_keys(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    api_id = sim.simulator.state.project("acme", "api").id  # type: ignore[union-attr]
    # As if Sentry's project=-1 answer still left api out (a member without global access).
    sim.admin.inject_fault(status=200, count=None, path_contains=ORG_KEYS, malformed=True, body="[]")
    with catalog_of(sim.url, clock) as catalog:
        assert published_id(catalog, "api") == newest_active_id(sim, "acme", "api")
        assert all(key.project_id == api_id for key in catalog.active_keys("api"))
    assert requests_by_path(sim)["/api/0/projects/acme/api/keys/"] == 1


def test_an_organization_token_gets_a_403_that_names_the_tokens_that_work(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    token = "sntrys_demo-organization-token"
    with catalog_of(sim.url, clock, token=token) as catalog, pytest.raises(SentryPermissionError) as caught:
        catalog.active_keys("web")
    message = str(caught.value)
    assert "organization auth token" in message and "org:ci scope only" in message
    assert "internal integration" in message and "user auth token" in message
    assert_no_token(caught.value, token)


def test_a_renamed_project_says_so_and_names_the_new_slug(sim: RunningSimulator, clock: SteppingClock) -> None:
    sim.admin.rename_project("acme", "api", "api-v2")
    with catalog_of(sim.url, clock) as catalog:
        with pytest.raises(SentryProjectRenamedError) as caught:
            catalog.active_keys("api")
        assert published_id(catalog, "api-v2") == newest_active_id(sim, "acme", "api-v2")
    assert str(caught.value) == (
        "project 'api' was renamed to 'api-v2' in Sentry; update `projects` in the stack config"
    )


def test_links_on_sentrys_own_url_prefix_are_followed_by_cursor_on_the_configured_url(
    clock: SteppingClock,
) -> None:
    seed = generate_seed(organization="big", projects=150, keys_per_project=1, token=TOKEN)
    with running_simulator(seed, link_prefix="https://sentry.internal.invalid") as big:
        with catalog_of(big.url, clock, organization="big") as catalog:
            assert len(catalog.active_keys("project-0149")) == 1
        counted = big.admin.requests()["by_path"]
    assert counted == {
        "/api/0/organizations/big/projects/": project_list_requests(150),
        "/api/0/organizations/big/project-keys/": key_list_requests(150),
    }


def test_an_endless_listing_of_empty_pages_ends_after_one_empty_page(
    sim: RunningSimulator, clock: SteppingClock
) -> None:
    sim.admin.inject_fault(endless_pages=True, count=None, path_contains=ORG_PROJECTS)
    with make_client(sim.url, clock) as client:
        assert list(SentryApi(client).iter_organization_projects("acme")) == []
        assert client.request_count == 1


def test_a_self_hosted_sentry_without_rate_limit_headers_is_read_without_pauses(
    _demo_seed: dict[str, Any], clock: SteppingClock
) -> None:
    with running_simulator(copy.deepcopy(_demo_seed), self_hosted=True) as self_hosted:
        with make_client(self_hosted.url, clock) as client:
            api = SentryApi(client)
            for _ in range(12):
                api.get_project_stats("acme", "web", stat="received", since=0, until=3600)
    assert clock.sleeps == []
