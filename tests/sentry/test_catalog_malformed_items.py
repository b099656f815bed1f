"""A malformed key or project in the organization-wide listings fails only the project it belongs to."""

from __future__ import annotations

import pytest

from sentry_dsn_sync.errors import SentryResponseError
from sentry_dsn_sync.sentry.catalog import _Snapshot

from .fakes import KEY_SECRET, FakeClock
from .test_catalog import FakeOrganization, catalog


def test_a_malformed_key_fails_its_own_project_only_and_names_the_key(clock: FakeClock) -> None:
    fake = FakeOrganization(3)
    broken = next(k for k in fake.keys if k["projectId"] == 1001 and k["isActive"])
    del broken["public"]
    cat = catalog(fake, clock)

    with pytest.raises(SentryResponseError) as caught:
        cat.active_keys("p001")

    message = str(caught.value)
    assert message.startswith("project 'p001': Sentry listed client keys of it that could not be read")
    assert f"client key '{broken['id']}' without 'public'" in message
    assert KEY_SECRET not in message
    assert {k.project_id for k in cat.active_keys("p000")} == {1000}
    assert {k.project_id for k in cat.active_keys("p002")} == {1002}


def test_a_malformed_project_fails_only_that_project(clock: FakeClock) -> None:
    fake = FakeOrganization(3)
    fake.projects[1]["id"] = "not-a-number"
    cat = catalog(fake, clock)

    with pytest.raises(SentryResponseError, match=r"project 'p001': Sentry listed it in a form that could not be read"):
        cat.project("p001")
    assert cat.project("p002").id == 1002


def test_a_key_that_names_no_project_is_left_out(clock: FakeClock) -> None:
    fake = FakeOrganization(2)
    fake.keys.append({"id": "orphan", "projectId": "?", "isActive": True})
    cat = catalog(fake, clock)

    assert len(cat.active_keys("p000")) == 2 and len(cat.active_keys("p001")) == 2


def test_a_project_slug_from_sentry_that_is_not_a_slug_is_malformed(clock: FakeClock) -> None:
    fake = FakeOrganization(2)
    fake.projects[0]["slug"] = "../escape"
    cat = catalog(fake, clock)

    assert cat.project("p001").id == 1001
    with pytest.raises(SentryResponseError):
        cat.api.list_team_projects("acme", "sre")


def test_broken_items_survive_the_snapshot_shared_between_preview_and_update(clock: FakeClock) -> None:
    snapshot = _Snapshot(projects={}, keys_by_project={}, broken_projects={"web": "bad id"}, broken_keys={7: ["x"]})

    again = _Snapshot.from_json(snapshot.to_json())

    assert (again.broken_projects, again.broken_keys) == ({"web": "bad id"}, {7: ["x"]})
