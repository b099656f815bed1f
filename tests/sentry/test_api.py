"""SentryApi: each method calls its endpoint with the right query and returns typed objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sentry_dsn_sync.errors import SentryNotFoundError, SentryResponseError
from sentry_dsn_sync.sentry import SentryApi

from sentry_simulator.pagination import paginate

from .fakes import KEY_SECRET, FakeClock, PagedServer, PairedPages, key_json, make_client, paged, project_json

API = "https://sentry.example.com/api/0/"


def api_with(handler: Any, clock: FakeClock) -> tuple[SentryApi, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        response: httpx.Response = handler(request)
        return response

    return SentryApi(make_client(recording, clock)), seen


def test_get_project_reads_the_project_details_endpoint(clock: FakeClock) -> None:
    api, seen = api_with(lambda r: httpx.Response(200, json=project_json("web", 7, status="active")), clock)
    project = api.get_project("acme", "web")
    assert (project.id, project.slug, project.status) == (7, "web", "active")
    assert [str(r.url) for r in seen] == [f"{API}projects/acme/web/"]


def test_get_project_404_names_the_project_and_organization(clock: FakeClock) -> None:
    api, _ = api_with(lambda r: httpx.Response(404, json={"detail": "The requested resource does not exist"}), clock)
    with pytest.raises(SentryNotFoundError, match="no project 'ghost' in organization 'acme'"):
        api.get_project("acme", "ghost")


def test_list_project_keys_asks_for_active_keys_across_pages(clock: FakeClock) -> None:
    url = f"{API}projects/acme/web/keys/"
    pages = [[key_json("aa01")], [key_json("aa02", active=True)]]
    api, seen = api_with(paged(pages, url=url), clock)
    keys = api.list_project_keys("acme", "web")
    assert [k.id for k in keys] == ["aa01", "aa02"]
    assert [dict(r.url.params) for r in seen] == [
        {"status": "active", "per_page": "100"},
        {"status": "active", "per_page": "100", "cursor": "100:1:0"},
    ]
    assert all(r.url.path == "/api/0/projects/acme/web/keys/" for r in seen)


def test_list_project_keys_without_status_asks_for_every_key(clock: FakeClock) -> None:
    api, seen = api_with(lambda r: httpx.Response(200, json=[key_json("aa01", active=False)]), clock)
    keys = api.list_project_keys("acme", "web", status=None)
    assert [k.is_active for k in keys] == [False]
    assert dict(seen[0].url.params) == {"per_page": "100"}


def test_list_project_keys_never_returns_secret_parts(clock: FakeClock) -> None:
    api, _ = api_with(lambda r: httpx.Response(200, json=[key_json("aa01")]), clock)
    (key,) = api.list_project_keys("acme", "web")
    assert KEY_SECRET not in repr(key)


def test_list_organization_project_keys_filters_by_status_and_team(clock: FakeClock) -> None:
    api, seen = api_with(lambda r: httpx.Response(200, json=[key_json("aa01", project_id=9)]), clock)
    (key,) = api.list_organization_project_keys("acme", team="backend")
    assert key.project_id == 9
    assert seen[0].url.path == "/api/0/organizations/acme/project-keys/"
    # per_page: Sentry's key lists default to 10 a page; 100 is its largest. project=-1: every
    # project the token may read, not only those of its user's own teams.
    assert dict(seen[0].url.params) == {"status": "active", "team": "backend", "project": "-1", "per_page": "100"}


def test_list_organization_project_keys_404_names_the_organization(clock: FakeClock) -> None:
    api, _ = api_with(lambda r: httpx.Response(404), clock)
    with pytest.raises(SentryNotFoundError, match="no organization 'acme'"):
        api.list_organization_project_keys("acme")


def test_list_organization_projects_asks_for_the_largest_pages(clock: FakeClock) -> None:
    api, seen = api_with(lambda r: httpx.Response(200, json=[project_json("web", 1), project_json("api", 2)]), clock)
    projects = api.list_organization_projects("acme")
    assert [p.slug for p in projects] == ["web", "api"]
    assert seen[0].url.path == "/api/0/organizations/acme/projects/"
    assert dict(seen[0].url.params) == {"per_page": "100"}


def test_list_team_projects_reads_the_team_endpoint_and_names_a_missing_team(clock: FakeClock) -> None:
    api, seen = api_with(lambda r: httpx.Response(200, json=[project_json("web", 1, teams=("sre",))]), clock)
    (project,) = api.list_team_projects("acme", "sre")
    assert project.team_slugs == ("sre",)
    assert seen[0].url.path == "/api/0/teams/acme/sre/projects/"
    missing, _ = api_with(lambda r: httpx.Response(404, json={"detail": "Team not found."}), clock)
    with pytest.raises(SentryNotFoundError, match="no team 'ghosts' in organization 'acme'.*Team not found"):
        missing.list_team_projects("acme", "ghosts")


def test_list_team_projects_asks_for_two_pages_at_a_time_after_the_first(clock: FakeClock) -> None:
    # Sentry's team endpoint pages by offset (OffsetPaginator, 100 a page when unasked), as the
    # organization's does: 450 projects are five pages, asked for as 1 + 2 + 2 requests.
    team = [project_json(f"p{n:04d}", n, teams=("sre",)) for n in range(450)]
    served = PagedServer(team, paginate, default_per_page=100)
    paired = PairedPages(served, pages=4, timeout=2.0)

    projects = SentryApi(make_client(paired, clock)).list_team_projects("acme", "sre")

    assert [p.slug for p in projects] == [row["slug"] for row in team]
    assert paired.waited == [True, True]
    assert len(served.cursors) == 5


def test_get_project_stats_sends_the_range_and_returns_pairs(clock: FakeClock) -> None:
    api, seen = api_with(lambda r: httpx.Response(200, json=[[1541455200, 1184], [1541458800, 1410]]), clock)
    points = api.get_project_stats(
        "acme", "web", stat="received", since=datetime(2018, 11, 5, 22, tzinfo=UTC), until=1541462400
    )
    assert points == [(1541455200, 1184), (1541458800, 1410)]
    assert seen[0].url.path == "/api/0/projects/acme/web/stats/"
    assert dict(seen[0].url.params) == {
        "stat": "received",
        "since": "1541455200.0",
        "until": "1541462400",
        "resolution": "1h",
    }


@pytest.mark.parametrize("body", [{"points": []}, [[1, 2, 3]], [["1", 2]], [[1, True]]])
def test_stats_of_the_wrong_shape_raise_response_error(body: Any, clock: FakeClock) -> None:
    api, _ = api_with(lambda r: httpx.Response(200, json=body), clock)
    with pytest.raises(SentryResponseError, match="projects/acme/web/stats/ with something other than"):
        api.get_project_stats("acme", "web", stat="received", since=0, until=1)


def test_wrong_shaped_key_lists_name_the_endpoint(clock: FakeClock) -> None:
    api, _ = api_with(lambda r: httpx.Response(200, json=[{"id": "aa01"}]), clock)
    with pytest.raises(SentryResponseError, match=f"GET {API}projects/acme/web/keys/ with a client key 'aa01' without 'dsn'"):
        api.list_project_keys("acme", "web")


def test_odd_slugs_are_quoted_into_the_path(clock: FakeClock) -> None:
    api, seen = api_with(lambda r: httpx.Response(200, json=[]), clock)
    api.list_team_projects("acme corp", "a/b")
    assert seen[0].url.raw_path == b"/api/0/teams/acme%20corp/a%2Fb/projects/"


def test_get_project_key_stats_reads_the_per_key_endpoint_by_the_keys_id(clock: FakeClock) -> None:
    body = [
        {"ts": 1760000000, "total": 5, "dropped": 1, "accepted": 3, "filtered": 1},
        {"ts": 1760003600, "total": 0, "dropped": 0, "accepted": 0, "filtered": 0},
    ]
    api, seen = api_with(lambda r: httpx.Response(200, json=body), clock)
    buckets = api.get_project_key_stats("acme", "web", "aa01", since=1760000000, until=1760005000)
    assert [(b.ts, b.total, b.accepted, b.filtered, b.dropped) for b in buckets] == [
        (1760000000, 5, 3, 1, 1),
        (1760003600, 0, 0, 0, 0),
    ]
    assert str(seen[0].url).startswith(f"{API}projects/acme/web/keys/aa01/stats/?")
    assert dict(seen[0].url.params) == {"since": "1760000000", "until": "1760005000", "resolution": "1h"}


def test_get_project_key_stats_404_names_the_key_and_project(clock: FakeClock) -> None:
    api, _ = api_with(lambda r: httpx.Response(404, json={"detail": "The requested resource does not exist"}), clock)
    with pytest.raises(SentryNotFoundError, match="client key aa01 of project 'web'"):
        api.get_project_key_stats("acme", "web", "aa01", since=0, until=1)


def test_get_project_key_stats_refuses_a_body_that_is_not_a_list_of_buckets(clock: FakeClock) -> None:
    api, _ = api_with(lambda r: httpx.Response(200, json={"ts": 1}), clock)
    with pytest.raises(SentryResponseError, match="list of stats buckets"):
        api.get_project_key_stats("acme", "web", "aa01", since=0, until=1)
