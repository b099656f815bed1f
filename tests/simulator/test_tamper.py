"""Tampering rules: hostile payloads served in place of what Sentry would say, until cleared."""

from __future__ import annotations

import pytest
from test_admin import _keys as _get

from sentry_simulator.testing import RunningSimulator, SimulatorAdminError


def test_a_rule_rewrites_matching_items_in_matching_answers_only(simulator: RunningSimulator) -> None:
    key = _get(simulator, "projects/acme/web/keys/")[0]
    simulator.admin.tamper(
        {"id": key["id"]}, set={"dsn.public": "javascript:alert(1)"}, drop=["public"], path_contains="/projects/acme/"
    )

    tampered = next(k for k in _get(simulator, "projects/acme/web/keys/") if k["id"] == key["id"])
    listed = next(k for k in _get(simulator, "organizations/acme/project-keys/") if k["id"] == key["id"])

    assert tampered["dsn"]["public"] == "javascript:alert(1)" and "public" not in tampered  # type: ignore[index]
    assert tampered["dsn"]["csp"] == key["dsn"]["csp"]  # type: ignore[index]
    assert listed == key, "the organization-wide listing does not match path_contains"


def test_clearing_faults_clears_the_rules(simulator: RunningSimulator) -> None:
    simulator.admin.tamper({"slug": "web"}, set={"slug": "../escape"})
    assert "../escape" in [p["slug"] for p in _get(simulator, "organizations/acme/projects/")]

    simulator.admin.clear_faults()

    assert "web" in [p["slug"] for p in _get(simulator, "organizations/acme/projects/")]


def test_a_rule_without_a_match_is_refused(simulator: RunningSimulator) -> None:
    with pytest.raises(SimulatorAdminError, match="'match' must be a non-empty object"):
        simulator.admin.tamper({}, set={"slug": "x"})
