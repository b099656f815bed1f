"""Pagination reproduces Sentry's Link header, including its last-page quirk, and its id cursors on the key lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simulator_helpers import link_entries, sentry_client

from sentry_simulator import generate_seed
from sentry_simulator.testing import RunningSimulator, running_simulator


@pytest.fixture
def big_org() -> Iterator[RunningSimulator]:
    with running_simulator(generate_seed(organization="big", projects=150, token="demo-token")) as running:
        yield running


def _all_pages(sim: RunningSimulator, path: str) -> list[tuple[list[Any], dict[str, dict[str, str]]]]:
    pages = []
    url: str | None = sim.url + path
    with sentry_client(sim.url) as http:
        while url is not None:
            response = http.get(url)
            assert response.status_code == 200, response.text
            links = link_entries(response.headers["link"])
            pages.append((response.json(), links))
            url = links["next"]["url"] if links["next"]["results"] == "true" else None
            assert len(pages) < 10, "pagination does not terminate"
    return pages


def test_150_keys_come_in_two_pages_and_the_last_next_link_says_no_results(big_org: RunningSimulator) -> None:
    pages = _all_pages(big_org, "api/0/organizations/big/project-keys/?per_page=100")

    assert [len(body) for body, _ in pages] == [100, 50]
    first, last = pages[0][1], pages[1][1]
    base = big_org.url + "api/0/organizations/big/project-keys/"
    # Sentry's Paginator over "-id": the 150 keys have ids 150..1; a cursor holds an id, and the
    # next one the id of the first row of the next page.
    assert first["previous"] == {"url": f"{base}?per_page=100&cursor=150:0:1", "results": "false", "cursor": "150:0:1"}
    assert first["next"]["results"] == "true" and first["next"]["cursor"] == "50:0:0"
    assert last["previous"]["results"] == "true" and last["previous"]["cursor"] == "50:0:1"
    assert last["next"]["results"] == "false" and last["next"]["cursor"] == "1:1:0"
    ids = [key["id"] for body, _ in pages for key in body]
    assert len(set(ids)) == 150


def test_previous_cursors_walk_the_key_list_from_its_oldest_end(big_org: RunningSimulator) -> None:
    listed = _all_pages(big_org, "api/0/organizations/big/project-keys/?per_page=100")
    newest_first = [key["id"] for body, _ in listed for key in body]
    pages = []
    cursor: str | None = "0:0:1"
    with sentry_client(big_org.url) as http:
        while cursor is not None:
            response = http.get(f"api/0/organizations/big/project-keys/?per_page=100&cursor={cursor}")
            previous = link_entries(response.headers["link"])["previous"]
            pages.append(([key["id"] for key in response.json()], previous["cursor"], previous["results"]))
            cursor = previous["cursor"] if previous["results"] == "true" else None

    # A previous cursor of id 0 starts at the oldest key; each page is still newest first, and the
    # previous cursor names the highest id read so far (Sentry's `_build_prev_values`).
    assert [(len(ids), cursor, results) for ids, cursor, results in pages] == [
        (100, "100:0:1", "true"),
        (50, "150:0:1", "false"),
    ]
    assert pages[0][0] == newest_first[50:] and pages[1][0] == newest_first[:50]


def test_project_lists_page_by_page_number_as_sentrys_offset_paginator_does(big_org: RunningSimulator) -> None:
    pages = _all_pages(big_org, "api/0/organizations/big/projects/?per_page=100")

    assert [len(body) for body, _ in pages] == [100, 50]
    first, last = pages[0][1], pages[1][1]
    # OffsetPaginator: `page size:page number:is_prev`; the first page's previous cursor is page -1.
    assert (first["previous"]["cursor"], first["previous"]["results"]) == ("100:-1:1", "false")
    assert (first["next"]["cursor"], first["next"]["results"]) == ("100:1:0", "true")
    assert (last["previous"]["cursor"], last["previous"]["results"]) == ("100:0:1", "true")
    assert (last["next"]["cursor"], last["next"]["results"]) == ("100:2:0", "false")
    with sentry_client(big_org.url) as http:
        # A page number can be written without reading the page before it.
        second = http.get("api/0/organizations/big/projects/?per_page=100&cursor=100:1:0").json()
        past_the_end = http.get("api/0/organizations/big/projects/?per_page=100&cursor=100:2:0")
        negative = http.get("api/0/organizations/big/projects/?per_page=100&cursor=100:-1:1")
    assert second == pages[1][0]
    assert past_the_end.status_code == 200 and past_the_end.json() == []
    assert negative.status_code == 400
    assert negative.json() == {"detail": "Pagination offset cannot be negative"}


def test_link_urls_are_absolute_on_the_servers_base_and_keep_other_parameters(big_org: RunningSimulator) -> None:
    with sentry_client(big_org.url) as http:
        response = http.get("api/0/organizations/big/project-keys/?status=active&per_page=100&cursor=50:0:0")
    links = link_entries(response.headers["link"])

    base = big_org.url + "api/0/organizations/big/project-keys/"
    assert links["next"]["url"] == f"{base}?status=active&per_page=100&cursor=1:1:0"
    assert links["previous"]["url"] == f"{base}?status=active&per_page=100&cursor=50:0:1"


def test_link_url_without_other_parameters_has_sentrys_question_ampersand(big_org: RunningSimulator) -> None:
    with sentry_client(big_org.url) as http:
        header = http.get("api/0/organizations/big/projects/").headers["link"]
    assert f'<{big_org.url}api/0/organizations/big/projects/?&cursor=100:1:0>; rel="next"; results="true"' in header


def test_key_lists_default_to_10_a_page_like_sentrys_default_per_page(big_org: RunningSimulator) -> None:
    with sentry_client(big_org.url) as http:
        org_keys = http.get("api/0/organizations/big/project-keys/")
        projects = http.get("api/0/organizations/big/projects/")
        too_many = http.get("api/0/organizations/big/project-keys/?per_page=101")
    assert len(org_keys.json()) == 10
    assert link_entries(org_keys.headers["link"])["next"]["cursor"] == "140:0:0"
    assert len(projects.json()) == 100, "project lists keep Sentry's default of 100"
    assert too_many.status_code == 400


def test_project_keys_default_to_10_a_page_and_honour_per_page() -> None:
    seed = generate_seed(organization="big", projects=1, keys_per_project=25, token="demo-token")
    with running_simulator(seed) as sim:
        slug = sim.simulator.state.projects("big")[0].slug
        default = _all_pages(sim, f"api/0/projects/big/{slug}/keys/")
        large = _all_pages(sim, f"api/0/projects/big/{slug}/keys/?per_page=100")
    assert [len(body) for body, _ in default] == [10, 10, 5]
    assert [len(body) for body, _ in large] == [25]


def test_org_projects_honour_per_page_up_to_100(big_org: RunningSimulator) -> None:
    pages = _all_pages(big_org, "api/0/organizations/big/projects/?per_page=40")
    assert [len(body) for body, _ in pages] == [40, 40, 40, 30]
    slugs = [p["slug"] for body, _ in pages for p in body]
    assert slugs == sorted(slugs) and len(set(slugs)) == 150
    assert pages[1][1]["next"]["cursor"] == "40:2:0", "Sentry's OffsetPaginator: page size, then page number"

    with sentry_client(big_org.url) as http:
        too_many = http.get("api/0/organizations/big/projects/?per_page=101")
    assert too_many.status_code == 400
    assert too_many.json() == {"detail": "Invalid per_page value. Cannot exceed 100."}


def test_team_projects_paginate_with_the_same_header(big_org: RunningSimulator) -> None:
    pages = _all_pages(big_org, "api/0/teams/big/team-00/projects/?per_page=20")
    assert [len(body) for body, _ in pages] == [20, 10]
    assert all(p["team"]["slug"] == "team-00" for body, _ in pages for p in body)


def test_a_single_page_still_carries_both_links_saying_false(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        links = link_entries(http.get("api/0/projects/acme/web/keys/").headers["link"])
    assert links["previous"]["results"] == "false"
    assert links["next"]["results"] == "false"


def test_a_cursor_past_the_end_gives_an_empty_page(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        response = http.get("api/0/projects/acme/web/keys/?cursor=0:100:0")
    assert response.json() == []
    assert link_entries(response.headers["link"])["previous"]["results"] == "true"


def test_project_keys_list_newest_first_like_sentrys_minus_id_order(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        keys = http.get("api/0/projects/acme/web/keys/").json()
    assert [k["label"] for k in keys] == ["Rotation 2025-06", "Default"]
