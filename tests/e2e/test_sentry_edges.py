"""The Sentry edges a real deployment meets, through the real `pulumi` CLI: a self-hosted path
prefix, team discovery, a flaky or down Sentry, the request cost of a run, and a provider that
serializes the same every run.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from devenv.pulumi_cli import PulumiProject
from sentry_simulator.testing import running_simulator
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import newest_active_key, sentry_keys

pytestmark = pytest.mark.e2e

PROVIDER_TYPE = "pulumi-python:dynamic/sentry-dsn-sync:ProjectDsn"


def vault_secret(openbao: Any, mount: str, project: str) -> tuple[dict[str, str], int]:
    response = openbao.client().secrets.kv.v2.read_secret_version(
        path=f"sentry/acme/{project}", mount_point=mount, raise_on_deleted_version=True
    )
    return response["data"]["data"], response["data"]["metadata"]["version"]


def expected_dsns(sentry: Any, projects: list[str]) -> dict[str, str]:
    return {slug: newest_active_key(sentry, slug)["dsn"]["public"] for slug in projects}


def project_dsn_states(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = state["deployment"]["resources"]
    return {r["urn"].rsplit("::", 1)[1]: r for r in resources if r["type"] == PROVIDER_TYPE}


def test_a_self_hosted_base_url_with_a_path_prefix_publishes(
    pulumi_project: PulumiProject, simulator: Any, demo_seed: Any
) -> None:
    projects = ["web", "api"]
    # Self-hosted Sentry sends no rate-limit headers at all.
    with running_simulator(demo_seed, prefix="/sentry", self_hosted=True) as self_hosted:
        # Written without the trailing slash, as many self-hosted URLs are.
        pulumi_project.extra_env["SENTRY_URL"] = self_hosted.url.rstrip("/")
        configure(pulumi_project, organization="acme", projects=projects)
        rotated = self_hosted.admin.rotate_key("acme", "api", label="Only on the self-hosted one")

        pulumi_project.up(STACK, "--skip-preview")

        assert pulumi_project.outputs(STACK)["dsns"] == expected_dsns(self_hosted, projects)
        assert pulumi_project.outputs(STACK)["dsns"]["api"] == rotated["dsn"]["public"]
        paths = self_hosted.admin.requests()["by_path"]
        assert paths and all(path.startswith("/sentry/api/0/") for path in paths), paths
    assert simulator.admin.request_count() == 0


def test_team_config_publishes_every_project_of_the_team(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", team="platform")

    pulumi_project.up(STACK, "--skip-preview")

    team = ["api", "billing", "worker"]
    outputs = pulumi_project.outputs(STACK)
    assert outputs["dsns"] == expected_dsns(simulator, team)
    for slug in team:
        data, version = vault_secret(openbao, vault_mount, slug)
        assert (data["dsn"], data["project_slug"], version) == (outputs["dsns"][slug], slug, 1)


def test_429_and_5xx_for_a_while_during_up_still_converge(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    projects = ["web", "api"]
    configure(pulumi_project, organization="acme", projects=projects)
    # Four failures in a row, fewer than the six attempts the provider's retry policy allows
    # (5xx first: backoff grows with the attempt number, so this order keeps the test short).
    simulator.admin.inject_fault(status=502, count=2)
    simulator.admin.inject_fault(status=429, count=2, retry_after=1)

    pulumi_project.up(STACK, "--skip-preview")

    assert pulumi_project.outputs(STACK)["dsns"] == expected_dsns(simulator, projects)
    assert vault_secret(openbao, vault_mount, "web")[0]["dsn"] == newest_active_key(simulator, "web")["dsn"]["public"]
    assert simulator.simulator.faults.describe()["rules"] == [], "every scripted failure was met and retried"


def test_a_persistent_503_fails_up_clearly_and_vault_keeps_the_last_good_value(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    projects = ["web", "api"]
    configure(pulumi_project, organization="acme", projects=projects)
    pulumi_project.up(STACK, "--skip-preview")
    before = {slug: vault_secret(openbao, vault_mount, slug) for slug in projects}
    outputs_before = pulumi_project.outputs(STACK)

    simulator.admin.rotate_key("acme", "api", label="Pending rotation")
    # Retry-After keeps the six attempts to ~5 s instead of ~16 s of exponential backoff.
    simulator.admin.inject_fault(status=503, count=None, retry_after=1)
    result = pulumi_project.up(STACK, "--skip-preview", check=False)

    shown = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Sentry did not answer GET" in shown and "(HTTP 503 Service Unavailable) after 6 attempt(s)" in shown, shown
    assert "demo-token" not in shown
    assert {slug: vault_secret(openbao, vault_mount, slug) for slug in projects} == before
    assert pulumi_project.outputs(STACK) == outputs_before


def test_a_no_op_up_costs_two_sentry_requests_and_the_provider_serializes_identically(
    pulumi_project: PulumiProject, simulator: Any
) -> None:
    projects = ["web", "api", "worker", "mobile", "billing"]
    configure(pulumi_project, organization="acme", projects=projects)
    pulumi_project.up(STACK, "--skip-preview")
    first = pulumi_project.export_state(STACK)

    simulator.admin.reset_requests()
    pulumi_project.up(STACK, "--skip-preview")
    no_op = simulator.admin.requests()
    second = pulumi_project.export_state(STACK)

    simulator.admin.rotate_key("acme", "worker", label="Rotation")
    simulator.admin.reset_requests()
    pulumi_project.up(STACK, "--skip-preview")
    rotation = simulator.admin.request_count()
    third = pulumi_project.export_state(STACK)

    keys = sum(len(sentry_keys(simulator, slug)) for slug in projects)
    budget = math.ceil(keys / 100) + math.ceil(len(projects) / 100) + 2
    assert no_op["total"] <= budget, f"a no-op run made {no_op['total']} Sentry requests, budget {budget}"
    assert no_op["by_path"] == {
        "/api/0/organizations/acme/projects/": 1,
        "/api/0/organizations/acme/project-keys/": 1,
    }
    assert rotation <= budget, f"a run with one rotation made {rotation} Sentry requests, budget {budget}"

    # A plain `pulumi up` previews and updates in two provider processes; they share one read.
    simulator.admin.reset_requests()
    pulumi_project.up(STACK)
    assert simulator.admin.requests()["by_path"] == no_op["by_path"]

    states = [project_dsn_states(state) for state in (first, second, third)]
    assert all(set(state) == set(projects) for state in states)
    for slug in projects:
        providers = {json.dumps(state[slug]["inputs"]["__provider"]) for state in states}
        assert len(providers) == 1, f"{slug}: __provider changed between runs"
    assert states[2]["worker"]["outputs"]["dsn"] != states[1]["worker"]["outputs"]["dsn"]
    exported = json.dumps([first, second, third])
    assert "demo-token" not in exported
    assert not any(key["secret"] in exported for slug in projects for key in sentry_keys(simulator, slug))
