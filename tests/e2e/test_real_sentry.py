"""Real Sentry's ways, through the real `pulumi` CLI against the simulator's default (real) behaviour:
an owner who is not on every team, an organization auth token, Link URLs on another host, a renamed
project, per-endpoint rate limits (the report's 5/s stats budget), an endless listing, and a
rate-limit wait announced in `pulumi up`'s output.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devenv.pulumi_cli import PulumiProject
from sentry_simulator import generate_seed
from sentry_simulator.testing import running_simulator
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e

ORG_KEYS = "/api/0/organizations/acme/project-keys/"


def vault_secret(openbao: Any, mount: str, project: str, organization: str = "acme") -> tuple[dict[str, str], int]:
    response = openbao.client().secrets.kv.v2.read_secret_version(
        path=f"sentry/{organization}/{project}", mount_point=mount, raise_on_deleted_version=True
    )
    return response["data"]["data"], response["data"]["metadata"]["version"]


def test_an_owner_who_is_not_on_every_team_publishes_projects_of_every_team(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    # demo-token is an owner on web-team only; api and billing belong to the platform team.
    projects = ["web", "api", "billing"]
    configure(pulumi_project, organization="acme", projects=projects)

    pulumi_project.up(STACK, "--skip-preview")
    by_path = simulator.admin.requests()["by_path"]

    dsns = pulumi_project.outputs(STACK)["dsns"]
    assert dsns == {slug: newest_active_key(simulator, slug)["dsn"]["public"] for slug in projects}
    assert vault_secret(openbao, vault_mount, "api")[0]["dsn"] == dsns["api"]
    assert by_path[ORG_KEYS] >= 1
    assert not any(path.startswith("/api/0/projects/") for path in by_path), "the org-wide answer covered them"


def test_an_organization_auth_token_fails_the_preview_naming_the_tokens_that_work(
    pulumi_project: PulumiProject,
) -> None:
    token = "sntrys_demo-organization-token"
    pulumi_project.extra_env["SENTRY_AUTH_TOKEN"] = token
    configure(pulumi_project, organization="acme", projects=["web"])

    result = pulumi_project.preview(STACK, check=False)

    shown = result.stdout + result.stderr
    assert result.returncode != 0
    assert "organization auth token (sntrys_...)" in shown and "org:ci scope only" in shown, shown
    assert "internal integration" in shown and "user auth token" in shown
    assert token not in shown


def test_link_urls_on_another_host_are_followed_by_cursor_over_more_than_100_projects_and_keys(
    pulumi_project: PulumiProject, openbao: Any, vault_mount: str
) -> None:
    seed = generate_seed(organization="big", projects=120, keys_per_project=1, token="demo-token")
    # Sentry builds Link URLs from its system.url-prefix, here a host the test machine cannot reach.
    with running_simulator(seed, link_prefix="https://sentry.internal.invalid") as big:
        pulumi_project.extra_env["SENTRY_URL"] = big.url
        projects = ["project-0000", "project-0119"]
        configure(pulumi_project, organization="big", projects=projects)

        pulumi_project.up(STACK, "--skip-preview")

        by_path = big.admin.requests()["by_path"]
        dsns = pulumi_project.outputs(STACK)["dsns"]
        expected = {
            slug: big.simulator.state.project_keys("big", slug, status="active")[0].public for slug in projects
        }
    assert {slug: dsn.split("//")[1].split("@")[0] for slug, dsn in dsns.items()} == expected
    assert vault_secret(openbao, vault_mount, "project-0119", "big")[0]["dsn"] == dsns["project-0119"]
    # Every page asked of sentryUrl (README, "Large organizations"). Projects: the first page, then
    # pages 1 and 2 at once (page 2, past the end, is empty). Keys: the first page, then one page
    # from each end of the list at once.
    assert by_path == {"/api/0/organizations/big/projects/": 3, "/api/0/organizations/big/project-keys/": 3}


def test_a_renamed_project_fails_with_the_new_slug_and_its_secret_keeps_the_last_good_value(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["web", "api"])
    pulumi_project.up(STACK, "--skip-preview")
    before = vault_secret(openbao, vault_mount, "api")
    outputs_before = pulumi_project.outputs(STACK)

    simulator.admin.rename_project("acme", "api", "api-v2")
    simulator.admin.rotate_key("acme", "api-v2", label="After the rename")
    result = pulumi_project.up(STACK, "--skip-preview", check=False)

    shown = result.stdout + result.stderr
    assert result.returncode != 0
    assert "project 'api' was renamed to 'api-v2' in Sentry; update `projects` in the stack config" in shown, shown
    assert "sentryUrl" not in shown
    assert vault_secret(openbao, vault_mount, "api") == before
    assert pulumi_project.outputs(STACK)["dsns"]["api"] == outputs_before["dsns"]["api"]

    configure(pulumi_project, projects=["web", "api-v2"])
    pulumi_project.up(STACK, "--skip-preview")
    assert pulumi_project.outputs(STACK)["dsns"]["api-v2"] == newest_active_key(simulator, "api-v2")["dsn"]["public"]


def test_an_endless_listing_of_empty_pages_does_not_stop_a_run(
    pulumi_project: PulumiProject, simulator: Any
) -> None:
    simulator.admin.inject_fault(endless_pages=True, count=None, path_contains="/organizations/acme/projects/")
    configure(pulumi_project, organization="acme", projects=["web"])

    pulumi_project.up(STACK, "--skip-preview")

    assert pulumi_project.outputs(STACK)["dsns"]["web"] == newest_active_key(simulator, "web")["dsn"]["public"]
    assert simulator.admin.requests()["by_path"]["/api/0/organizations/acme/projects/"] == 1


def test_a_rate_limit_wait_is_announced_in_pulumi_up_output(pulumi_project: PulumiProject, simulator: Any) -> None:
    configure(pulumi_project, organization="acme", projects=["web"])
    simulator.admin.inject_fault(status=429, count=1, path_contains="project-keys", retry_after=2)

    result = pulumi_project.up(STACK, "--skip-preview")

    shown = result.stdout + result.stderr
    assert "sentry-dsn-sync: waiting 2.0s for Sentry before GET " in shown, shown
    assert "organizations/acme/project-keys/" in shown and "HTTP 429 Too Many Requests" in shown
    assert "demo-token" not in shown


@pytest.mark.parametrize(
    ("key_stats", "stats_per_project"),
    [
        pytest.param(True, 1, id="per-key stats at 20/s"),
        pytest.param(False, 2, id="older Sentry: project stats at 5/s"),
    ],
)
def test_the_report_over_60_projects_stays_inside_sentrys_stats_limits(
    pulumi_project: PulumiProject, openbao: Any, key_stats: bool, stats_per_project: int
) -> None:
    seed = generate_seed(organization="wide", projects=60, keys_per_project=1, token="demo-token")
    # Sentry's own limits: 20/s on key stats, 5/s on project stats, 40/s on key lists.
    with running_simulator(seed, key_stats=key_stats) as wide:
        pulumi_project.extra_env["SENTRY_URL"] = wide.url
        projects = [f"project-{n:04d}" for n in range(60)]
        configure(pulumi_project, organization="wide", projects=projects)
        pulumi_project.up(STACK, "--skip-preview")
        wide.admin.reset_requests()

        env = {**pulumi_project.env(), "SENTRY_ORG": "wide", "SENTRY_URL": wide.url}
        report = subprocess.run(
            [str(Path(env["PULUMI_PYTHON_CMD"]).parent / "sentry-dsn-sync"), "report", "--stack", STACK],
            cwd=pulumi_project.project_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        by_path = wide.admin.requests()["by_path"]

    assert report.returncode == 0, report.stdout + report.stderr
    assert sum(1 for slug in projects if slug in report.stdout) == 60
    answered = {path: count for path, count in by_path.items() if path.endswith("/stats/") and
                ("/keys/" in path) == key_stats}
    # Each stats request once (project stats: received and rejected): no 429 was met and retried.
    assert len(answered) == 60 and set(answered.values()) == {stats_per_project}, (
        json.dumps(answered)[:500]
    )
