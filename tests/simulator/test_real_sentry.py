"""What real Sentry does that a friendlier simulator would hide: team membership, token types,
renamed projects, Link URLs on Sentry's own URL prefix, `useCase`, `per_page` clamping, and an
endless listing on demand.
"""

from __future__ import annotations

from typing import Any

from simulator_helpers import link_entries, sentry_client

from sentry_simulator.testing import RunningSimulator, running_simulator

ORG_KEYS = "api/0/organizations/acme/project-keys/"
WEB_TEAM = {"web", "mobile"}
ALL_PROJECTS = {"web", "api", "worker", "mobile", "billing"}


def _project_slugs(simulator: RunningSimulator, keys: list[dict[str, Any]]) -> set[str]:
    ids = {project.id: project.slug for project in simulator.simulator.state.projects("acme")}
    return {ids[key["projectId"]] for key in keys}


def test_org_keys_without_project_cover_only_the_token_users_teams(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as owner:
        members_only = owner.get(ORG_KEYS, params={"per_page": 100}).json()
        accessible = owner.get(ORG_KEYS, params={"per_page": 100, "project": -1}).json()
    assert _project_slugs(simulator, members_only) == WEB_TEAM
    assert _project_slugs(simulator, accessible) == ALL_PROJECTS


def test_explicit_project_ids_must_all_be_accessible(simulator: RunningSimulator) -> None:
    api_id = simulator.simulator.state.project("acme", "api").id  # type: ignore[union-attr]
    web_id = simulator.simulator.state.project("acme", "web").id  # type: ignore[union-attr]
    with sentry_client(simulator.url) as owner, sentry_client(simulator.url, "demo-member-token") as member:
        by_owner = owner.get(ORG_KEYS, params={"project": api_id})
        by_member = member.get(ORG_KEYS, params=[("project", str(api_id)), ("project", str(web_id))])
        bad = owner.get(ORG_KEYS, params={"project": "web"})
    assert by_owner.status_code == 200 and _project_slugs(simulator, by_owner.json()) == {"api"}
    assert by_member.status_code == 403
    assert bad.status_code == 400 and "must be numbers" in bad.json()["detail"]


def test_is_member_tells_the_truth_per_token(simulator: RunningSimulator) -> None:
    def membership(token: str) -> dict[str, tuple[bool, bool]]:
        with sentry_client(simulator.url, token) as http:
            listed = http.get("api/0/organizations/acme/projects/").json()
        return {p["slug"]: (p["isMember"], p["hasAccess"]) for p in listed}

    owner, integration = membership("demo-token"), membership("demo-integration-token")
    assert {slug for slug, (member, _) in owner.items() if member} == WEB_TEAM
    assert all(has_access for _, has_access in owner.values()), "an owner reads every project"
    assert all(member and access for member, access in integration.values()), "an integration is on every team"
    member = membership("demo-member-token")
    assert {slug for slug, (_, access) in member.items() if access} == WEB_TEAM


def test_a_member_cannot_read_a_project_of_another_team_but_an_owner_and_an_integration_can(
    simulator: RunningSimulator,
) -> None:
    statuses = {}
    for token in ("demo-member-token", "demo-token", "demo-integration-token"):
        with sentry_client(simulator.url, token) as http:
            statuses[token] = http.get("api/0/projects/acme/api/keys/").status_code
    assert statuses == {"demo-member-token": 403, "demo-token": 200, "demo-integration-token": 200}


def test_an_organization_auth_token_has_only_org_ci_and_is_refused_everywhere(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url, "sntrys_demo-organization-token") as http:
        responses = [
            http.get(path)
            for path in (
                "api/0/organizations/acme/projects/",
                ORG_KEYS,
                "api/0/projects/acme/web/",
                "api/0/projects/acme/web/keys/",
                "api/0/teams/acme/web-team/projects/",
            )
        ]
    assert {r.status_code for r in responses} == {403}


def test_a_renamed_project_answers_302_with_its_new_slug_and_the_new_slug_works(
    simulator: RunningSimulator,
) -> None:
    renamed = simulator.admin.rename_project("acme", "api", "api-v2")
    assert renamed["slug"] == "api-v2"
    with sentry_client(simulator.url) as http:
        old = http.get("api/0/projects/acme/api/keys/", params={"status": "active"})
        new = http.get("api/0/projects/acme/api-v2/keys/")
        listed = {p["slug"] for p in http.get("api/0/organizations/acme/projects/").json()}
        team = {p["slug"] for p in http.get("api/0/teams/acme/platform/projects/").json()}
    assert old.status_code == 302
    new_url = "/api/0/projects/acme/api-v2/keys/?status=active"
    assert old.headers["Location"] == new_url
    assert old.json() == {"slug": "api-v2", "detail": {"extra": {"url": new_url, "slug": "api-v2"}}}
    assert new.status_code == 200 and len(new.json()) == 2
    assert "api-v2" in listed and "api" not in listed and "api-v2" in team


def test_a_rename_is_not_revealed_to_a_token_without_access(simulator: RunningSimulator) -> None:
    simulator.admin.rename_project("acme", "api", "api-v2")
    with sentry_client(simulator.url, "demo-member-token") as http:
        assert http.get("api/0/projects/acme/api/").status_code == 403


def test_link_urls_start_with_the_configured_url_prefix_not_the_requests_host(
    demo_seed: dict[str, Any],
) -> None:
    with running_simulator(demo_seed, link_prefix="https://sentry.internal.example") as sim:
        with sentry_client(sim.url) as http:
            header = http.get("api/0/projects/acme/web/keys/", params={"per_page": 1}).headers["link"]
    following = link_entries(header)["next"]
    assert following["url"] == "https://sentry.internal.example/api/0/projects/acme/web/keys/?per_page=1&cursor=1:0:0"
    assert following["results"] == "true"


def test_use_case_is_serialized_for_superusers_only(demo_seed: dict[str, Any]) -> None:
    demo_seed["tokens"].append({"token": "superuser-token", "scopes": ["org:read", "project:read"], "superuser": True})
    with running_simulator(demo_seed) as sim:
        with sentry_client(sim.url) as plain, sentry_client(sim.url, "superuser-token") as superuser:
            plain_keys = plain.get("api/0/projects/acme/web/keys/").json()
            super_keys = superuser.get("api/0/projects/acme/web/keys/").json()
    assert not any("useCase" in key for key in plain_keys)
    assert all(key["useCase"] == "user" for key in super_keys)


def test_a_per_page_below_one_is_clamped_not_refused(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        responses = [http.get("api/0/projects/acme/web/keys/", params={"per_page": n}) for n in (0, -5)]
    assert [(r.status_code, len(r.json())) for r in responses] == [(200, 1), (200, 1)]


def test_the_endless_pages_fault_offers_a_fresh_cursor_over_empty_pages(simulator: RunningSimulator) -> None:
    simulator.admin.inject_fault(endless_pages=True, path_contains="project-keys", count=None)
    cursors = []
    with sentry_client(simulator.url) as http:
        url = ORG_KEYS
        for _ in range(5):
            response = http.get(url)
            following = link_entries(response.headers["link"])["next"]
            assert response.status_code == 200 and response.json() == []
            assert following["results"] == "true"
            cursors.append(following["cursor"])
            url = following["url"]
    assert len(set(cursors)) == 5
