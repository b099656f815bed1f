"""The admin API rotates and disables keys the way Sentry's UI would."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from simulator_helpers import sentry_client

from sentry_simulator.testing import RunningSimulator, SimulatorAdminError, running_simulator


def _keys(sim: RunningSimulator, path: str) -> list[dict[str, object]]:
    with sentry_client(sim.url) as http:
        response = http.get("api/0/" + path)
        assert response.status_code == 200
        keys: list[dict[str, object]] = response.json()
        return keys


def _when(key: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(key["dateCreated"]).replace("Z", "+00:00"))


def test_rotation_creates_an_active_key_newer_than_all_others(simulator: RunningSimulator) -> None:
    before = _keys(simulator, "projects/acme/web/keys/")
    created = simulator.admin.rotate_key("acme", "web", "Rotation 2026")
    after = _keys(simulator, "projects/acme/web/keys/")

    assert created["isActive"] is True and created["label"] == "Rotation 2026"
    assert after[0] == created  # newest first, served exactly as created
    assert len(after) == len(before) + 1
    assert all(_when(created) > _when(k) for k in before)
    assert created["id"] not in {k["id"] for k in before}
    assert created["dsn"]["public"] not in {k["dsn"]["public"] for k in before}  # type: ignore[index]


def test_rotation_shows_up_in_the_organization_key_list(simulator: RunningSimulator) -> None:
    created = simulator.admin.rotate_key("acme", "api", "Next")
    org_keys = _keys(simulator, "organizations/acme/project-keys/?status=active&project=-1")
    assert org_keys[0]["id"] == created["id"]
    assert org_keys[0]["projectId"] == 4508000000000102


def test_an_inactive_rotation_is_listed_only_as_inactive(simulator: RunningSimulator) -> None:
    created = simulator.admin.rotate_key("acme", "worker", "Staged", active=False)
    assert created["id"] not in {k["id"] for k in _keys(simulator, "projects/acme/worker/keys/?status=active")}
    assert created["id"] in {k["id"] for k in _keys(simulator, "projects/acme/worker/keys/?status=inactive")}


def test_deactivating_and_reactivating_a_key_changes_its_status(simulator: RunningSimulator) -> None:
    web_keys = _keys(simulator, "projects/acme/web/keys/")
    old = web_keys[-1]

    updated = simulator.admin.set_key_active("acme", "web", str(old["id"]), False)
    assert updated["isActive"] is False
    active = _keys(simulator, "projects/acme/web/keys/?status=active")
    assert [k["id"] for k in active] == [web_keys[0]["id"]]

    simulator.admin.set_key_active("acme", "web", str(old["id"]), True)
    assert len(_keys(simulator, "projects/acme/web/keys/?status=active")) == 2


def test_every_change_shows_in_the_next_list_though_the_same_list_was_just_read(simulator: RunningSimulator) -> None:
    active_keys = "organizations/acme/project-keys/?status=active&project=-1"
    projects = "organizations/acme/projects/"
    seeded = _keys(simulator, active_keys)
    _keys(simulator, projects)

    created = simulator.admin.rotate_key("acme", "web", "Next")
    assert [k["id"] for k in _keys(simulator, active_keys)] == [created["id"], *(k["id"] for k in seeded)]

    simulator.admin.set_key_active("acme", "web", str(created["id"]), False)
    assert _keys(simulator, active_keys) == seeded

    simulator.admin.rename_project("acme", "web", "web-app")
    assert "web-app" in {p["slug"] for p in _keys(simulator, projects)}

    simulator.admin.reset()
    assert "web" in {p["slug"] for p in _keys(simulator, projects)}
    assert _keys(simulator, active_keys) == seeded


def test_admin_accepts_organization_and_project_ids(simulator: RunningSimulator) -> None:
    created = simulator.admin.rotate_key("4508000000000001", "4508000000000103", "By id")
    assert created["projectId"] == 4508000000000103


def test_admin_refuses_unknown_projects_and_keys_with_404(simulator: RunningSimulator) -> None:
    with pytest.raises(SimulatorAdminError, match="404"):
        simulator.admin.rotate_key("acme", "nope", "x")
    with pytest.raises(SimulatorAdminError, match="404"):
        simulator.admin.set_key_active("acme", "web", "0" * 32, False)


def test_admin_refuses_an_invalid_body_with_400(simulator: RunningSimulator) -> None:
    with pytest.raises(SimulatorAdminError, match="400"):
        simulator.admin.inject_fault(status=200)
    response = httpx.put(simulator.url + "_admin/projects/acme/web/keys/abc", json={"isActive": "no"})
    assert response.status_code == 400
    assert "isActive" in response.json()["detail"]


def test_reset_returns_to_the_seed_state(simulator: RunningSimulator) -> None:
    seeded = _keys(simulator, "organizations/acme/project-keys/")
    simulator.admin.rotate_key("acme", "web", "Temporary")
    simulator.admin.set_key_active("acme", "api", str(_keys(simulator, "projects/acme/api/keys/")[0]["id"]), False)
    simulator.admin.inject_fault(status=500, count=None)

    simulator.admin.reset()

    assert simulator.admin.request_count() == 0
    assert _keys(simulator, "organizations/acme/project-keys/") == seeded  # keys back, 500 fault gone


def test_rotated_key_ids_are_deterministic_across_resets(simulator: RunningSimulator) -> None:
    first = simulator.admin.rotate_key("acme", "billing", "Rotation")
    simulator.admin.reset()
    second = simulator.admin.rotate_key("acme", "billing", "Rotation")
    assert first["id"] == second["id"] and first["secret"] == second["secret"]


def test_two_rotations_with_the_same_label_get_distinct_keys(simulator: RunningSimulator) -> None:
    first = simulator.admin.rotate_key("acme", "billing", "Default")
    second = simulator.admin.rotate_key("acme", "billing", "Default")
    assert first["id"] != second["id"]
    assert _when(second) > _when(first)


def test_admin_is_also_served_under_the_prefix(demo_seed: dict[str, object]) -> None:
    with running_simulator(demo_seed, prefix="/sentry") as sim:
        assert sim.url.endswith("/sentry/")
        assert sim.admin.rotate_key("acme", "web", "Prefixed")["label"] == "Prefixed"
