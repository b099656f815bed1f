"""OrganizationCatalog: few requests for many projects, fallbacks for older servers, one fetch for many threads."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from sentry_dsn_sync.errors import KeySelectionError, SentryAuthError, SentryNotFoundError
from sentry_dsn_sync.sentry import OrganizationCatalog, SentryApi
from sentry_simulator.pagination import paginate_by_id

from .fakes import FakeClock, key_json, link_header, make_client, project_json

PAGE = 100


class FakeOrganization:
    """Routes Sentry's org, project and key endpoints over an in-memory organization 'acme'."""

    def __init__(
        self,
        projects: int,
        *,
        org_keys_status: int = 200,
        org_projects_status: int = 200,
        hidden: dict[str, dict[str, Any]] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.projects = [project_json(f"p{i:03d}", 1000 + i) for i in range(projects)]
        # Every project has an old and a new active key, and one revoked key.
        self.keys = [
            key_json(f"{pid:04x}{n}", project_id=pid, active=n != 2, created=f"2024-01-0{n + 1}T00:00:00Z")
            for pid in range(1000, 1000 + projects)
            for n in range(3)
        ]
        self.hidden = hidden or {}
        self.org_keys_status = org_keys_status
        self.org_projects_status = org_projects_status
        self.delay = delay
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/0/")
        with self._lock:
            self.calls[path] += 1
        time.sleep(self.delay)
        parts = path.strip("/").split("/")
        if parts == ["organizations", "acme", "projects"]:
            if self.org_projects_status != 200:
                return httpx.Response(self.org_projects_status, json={"detail": "nope"})
            return self._page(request, self.projects)
        if parts == ["organizations", "acme", "project-keys"]:
            if self.org_keys_status != 200:
                return httpx.Response(self.org_keys_status, json={"detail": "nope"})
            assert request.url.params.get("status") == "active"
            return self._key_page(request, [k for k in self.keys if k["isActive"]])
        if parts[0] == "projects" and parts[1] == "acme":
            project = self._project(parts[2])
            if project is None:
                return httpx.Response(404, json={"detail": "The requested resource does not exist"})
            if parts[3:] == ["keys"]:
                return self._key_page(request, [k for k in self.keys if k["projectId"] == int(project["id"])])
            return httpx.Response(200, json=project)
        if parts[:3] == ["teams", "acme", "sre"]:
            return httpx.Response(200, json=self.projects[:2])
        return httpx.Response(404, json={"detail": "The requested resource does not exist"})

    def _project(self, slug: str) -> dict[str, Any] | None:
        listed = {p["slug"]: p for p in self.projects}
        return listed.get(slug) or self.hidden.get(slug)

    def _page(self, request: httpx.Request, items: list[Any]) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        start = int(cursor.split(":")[1]) if cursor else 0
        end = start + PAGE
        url = str(request.url.copy_with(query=None))
        header = link_header(url, next_cursor=f"{PAGE}:{end}:0", has_next=end < len(items))
        return httpx.Response(200, json=items[start:end], headers={"Link": header})

    def _key_page(self, request: httpx.Request, keys: list[dict[str, Any]]) -> httpx.Response:
        # Sentry's database ids, in creation order (keys added by a test included): the key
        # lists page by them, newest first.
        database_ids = {id(key): n for n, key in enumerate(self.keys, start=1)}
        page = paginate_by_id(
            sorted(keys, key=lambda key: database_ids[id(key)], reverse=True),
            id_of=lambda key: database_ids[id(key)],
            cursor=request.url.params.get("cursor"),
            per_page=PAGE,
            url=str(request.url.copy_with(query=None)),
            query=request.url.params.multi_items(),
        )
        return httpx.Response(200, json=list(page.items), headers={"Link": page.link_header})


def catalog(fake: FakeOrganization, clock: FakeClock) -> OrganizationCatalog:
    return OrganizationCatalog(SentryApi(make_client(fake, clock)), "acme")


def test_hundreds_of_projects_cost_only_the_org_wide_pages(clock: FakeClock) -> None:
    fake = FakeOrganization(250)
    cat = catalog(fake, clock)
    for i in range(250):
        keys = cat.active_keys(f"p{i:03d}")
        assert sorted(k.id[-1] for k in keys) == ["0", "1"]
        assert {k.project_id for k in keys} == {1000 + i}
    # 250 projects: 3 pages of projects; 500 active keys: 5 pages of keys.
    assert cat.api.client.request_count == 3 + 5
    assert set(fake.calls) == {"organizations/acme/projects/", "organizations/acme/project-keys/"}


def test_keys_are_read_alongside_the_project_pages_after_the_first(clock: FakeClock) -> None:
    fake = FakeOrganization(250)
    keys_asked = threading.Event()
    keys_asked_before_later_project_pages: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/project-keys/"):
            keys_asked.set()
        elif request.url.params.get("cursor"):
            # Read one after the other, the keys would only be asked for after this page.
            keys_asked_before_later_project_pages.append(keys_asked.wait(timeout=5))
        return fake(request)

    cat = OrganizationCatalog(SentryApi(make_client(handler, clock)), "acme")

    assert len(cat.active_keys("p249")) == 2
    assert keys_asked_before_later_project_pages == [True, True]
    assert cat.api.client.request_count == 3 + 5


def test_a_failing_later_project_page_fails_the_read(clock: FakeClock) -> None:
    fake = FakeOrganization(250)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/projects/") and request.url.params.get("cursor"):
            return httpx.Response(404, json={"detail": "The requested resource does not exist"})
        return fake(request)

    cat = OrganizationCatalog(SentryApi(make_client(handler, clock)), "acme")

    with pytest.raises(SentryNotFoundError, match="organization 'acme'"):
        cat.project("p000")


def test_project_returns_the_listed_project_without_another_request(clock: FakeClock) -> None:
    fake = FakeOrganization(3)
    cat = catalog(fake, clock)
    project = cat.project("p001")
    assert (project.id, project.slug) == (1001, "p001")
    assert cat.api.client.request_count == 2


def test_a_project_missing_from_sentry_is_a_not_found_error_naming_it(clock: FakeClock) -> None:
    cat = catalog(FakeOrganization(3), clock)
    with pytest.raises(SentryNotFoundError, match="no project 'ghost' in organization 'acme'"):
        cat.active_keys("ghost")


def test_an_unlisted_project_is_read_by_name_with_its_own_keys(clock: FakeClock) -> None:
    hidden = project_json("private", 1001, status="active")
    fake = FakeOrganization(3, hidden={"private": hidden})
    fake.projects = [p for p in fake.projects if p["slug"] != "p001"]
    cat = catalog(fake, clock)
    assert {k.project_id for k in cat.active_keys("private")} == {1001}
    assert fake.calls["projects/acme/private/"] == 1
    assert fake.calls["projects/acme/private/keys/"] == 1


def test_a_project_that_is_not_active_is_an_error_naming_it(clock: FakeClock) -> None:
    fake = FakeOrganization(1, hidden={"old": project_json("old", 77, status="pending_deletion")})
    cat = catalog(fake, clock)
    with pytest.raises(KeySelectionError, match="project 'old' in organization 'acme' is pending_deletion"):
        cat.project("old")


@pytest.mark.parametrize("status", [404, 403])
def test_falls_back_to_per_project_keys_when_the_org_keys_endpoint_is_refused(status: int, clock: FakeClock) -> None:
    fake = FakeOrganization(5, org_keys_status=status)
    cat = catalog(fake, clock)
    for _ in range(2):  # the second round comes from the cache
        for i in range(5):
            assert {k.project_id for k in cat.active_keys(f"p{i:03d}")} == {1000 + i}
    assert fake.calls["organizations/acme/project-keys/"] == 1
    assert all(fake.calls[f"projects/acme/p{i:03d}/keys/"] == 1 for i in range(5))
    assert cat.api.client.request_count == 2 + 5


def test_per_project_fallback_still_drops_inactive_keys(clock: FakeClock) -> None:
    cat = catalog(FakeOrganization(1, org_keys_status=404), clock)
    # The fake ignores ?status=active, as old servers do.
    assert all(k.is_active for k in cat.active_keys("p000"))
    assert len(cat.active_keys("p000")) == 2


def test_a_token_without_org_read_reads_each_project_by_name(clock: FakeClock) -> None:
    fake = FakeOrganization(2, org_projects_status=403, org_keys_status=403)
    cat = catalog(fake, clock)
    assert cat.project("p001").id == 1001
    assert len(cat.active_keys("p001")) == 2
    assert fake.calls["projects/acme/p001/"] == 1


def test_concurrent_first_callers_share_one_fetch(clock: FakeClock) -> None:
    fake = FakeOrganization(20, delay=0.01)
    cat = catalog(fake, clock)
    results: dict[int, int] = {}
    start = threading.Barrier(16)

    def work(i: int) -> None:
        start.wait()
        results[i] = len(cat.active_keys(f"p{i:03d}"))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == {i: 2 for i in range(16)}
    assert fake.calls == Counter({"organizations/acme/projects/": 1, "organizations/acme/project-keys/": 1})


def test_a_failed_first_fetch_is_not_repeated_by_every_caller(clock: FakeClock) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(401, json={"detail": "Invalid token"})

    cat = OrganizationCatalog(SentryApi(make_client(handler, clock)), "acme")
    for slug in ("a", "b", "c"):
        with pytest.raises(SentryAuthError):
            cat.active_keys(slug)
    assert len(calls) == 1


def test_team_projects_come_from_the_team_endpoint_once(clock: FakeClock) -> None:
    fake = FakeOrganization(5)
    cat = catalog(fake, clock)
    assert [p.slug for p in cat.team_projects("sre")] == ["p000", "p001"]
    cat.team_projects("sre")
    assert fake.calls["teams/acme/sre/projects/"] == 1


def test_the_org_wide_keys_ask_for_every_accessible_project(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []
    fake = FakeOrganization(3)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fake(request)

    OrganizationCatalog(SentryApi(make_client(handler, clock)), "acme").active_keys("p000")
    (org_keys,) = [r for r in seen if r.url.path.endswith("/project-keys/")]
    assert org_keys.url.params.get("project") == "-1"


def test_a_listed_project_left_out_of_the_org_wide_keys_is_read_from_its_own_keys(clock: FakeClock) -> None:
    fake = FakeOrganization(3)
    # As Sentry answers for a token whose user may not read p001's team through the org-wide list.

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake(request)
        if request.url.path.endswith("/project-keys/"):
            kept = [k for k in response.json() if k["projectId"] not in {1001}]
            return httpx.Response(200, json=kept, headers=response.headers)
        return response

    cat = OrganizationCatalog(SentryApi(make_client(handler, clock)), "acme")
    assert {k.project_id for k in cat.active_keys("p001")} == {1001}
    assert len(cat.active_keys("p001")) == 2
    assert {k.project_id for k in cat.active_keys("p000")} == {1000}
    assert fake.calls["projects/acme/p001/keys/"] == 1
    assert fake.calls["projects/acme/p000/keys/"] == 0
