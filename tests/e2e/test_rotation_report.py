"""A rotation watched with `sentry-dsn-sync report` through the real CLI, as a pipeline gate would.

The stack publishes a new key; over the following (simulated) hours the
senders move from the old key to the new one. At each stage `report --json`
shows where the traffic is, and the exit codes gate the rotation's steps:
`--fail-on-silent` while nobody uses the new key, `--fail-on-old-key-traffic`
while somebody still uses the old one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devenv.pulumi_cli import PulumiProject
from sentry_dsn_sync.report import EXIT_OK, EXIT_OLD_KEY_TRAFFIC, EXIT_SILENT
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e

HOUR = 3600
REPORT = Path(sys.executable).with_name("sentry-dsn-sync")


def report(project: PulumiProject, *flags: str) -> subprocess.CompletedProcess[str]:
    """`sentry-dsn-sync report --stack e2e --json ...` in the project directory, outputs read by the real pulumi."""
    return subprocess.run(
        [str(REPORT), "report", "--stack", STACK, "--json", *flags],
        cwd=project.project_dir,
        env={**project.env(), "SENTRY_ORG": "acme"},
        capture_output=True,
        text=True,
        check=False,
    )


def keys_of(result: subprocess.CompletedProcess[str], project: str) -> dict[str, dict[str, Any]]:
    document = json.loads(result.stdout)
    (entry,) = [p for p in document["projects"] if p["project"] == project]
    return {key["keyId"]: key for key in entry["keys"]}


def hourly_totals(key: dict[str, Any], since: float) -> list[int]:
    return [bucket["total"] for bucket in key["hourly"] if bucket["ts"] >= since]


def test_traffic_moves_from_the_old_key_to_the_new_over_hours_and_the_exit_codes_gate_each_step(
    pulumi_project: PulumiProject, simulator: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["api", "worker"])
    pulumi_project.up(STACK, "--skip-preview")
    old = newest_active_key(simulator, "api")

    # The rotation began six hours ago: a new key, published by the next `up`.
    now = datetime.now(UTC)
    created = (now - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
    start = created.timestamp()
    new = simulator.admin.create_key("acme", "api", "Rotation", created=created)
    pulumi_project.up(STACK, "--skip-preview")
    assert pulumi_project.outputs(STACK)["projects"]["api"]["keyId"] == new["id"]
    day_ago = (now - timedelta(days=2)).timestamp()

    # Stage 1: nobody redeployed; everything still arrives on the old key.
    simulator.admin.set_traffic("acme", "api", {old["id"]: [{"since": day_ago, "accepted": 600}]})
    stage1 = report(pulumi_project)
    assert stage1.returncode == EXIT_OK, stage1.stderr
    keys = keys_of(stage1, "api")
    assert keys[new["id"]]["published"] and keys[new["id"]]["flags"] == ["silent"]
    assert keys[old["id"]]["flags"] == ["still-receiving"] and not keys[old["id"]]["published"]
    assert json.loads(stage1.stdout)["silentProjects"] == ["api"]
    assert report(pulumi_project, "--fail-on-silent").returncode == EXIT_SILENT
    assert report(pulumi_project, "--fail-on-old-key-traffic").returncode == EXIT_OLD_KEY_TRAFFIC
    both = report(pulumi_project, "--fail-on-silent", "--fail-on-old-key-traffic")
    assert both.returncode == EXIT_SILENT, "the new key must work before the old one may go"

    # Stage 2: two hours after the rotation, a third of the senders moved; then two thirds.
    simulator.admin.set_traffic("acme", "api", {
        old["id"]: [
            {"since": day_ago, "until": start + 2 * HOUR, "accepted": 600},
            {"since": start + 2 * HOUR, "until": start + 4 * HOUR, "accepted": 400},
            {"since": start + 4 * HOUR, "accepted": 200, "dropped": 10},
        ],
        new["id"]: [
            {"since": start + 2 * HOUR, "until": start + 4 * HOUR, "accepted": 200},
            {"since": start + 4 * HOUR, "accepted": 400, "filtered": 5},
        ],
    })
    stage2 = report(pulumi_project)
    keys = keys_of(stage2, "api")
    # Hour by hour since the rotation: the new key gains what the old one loses.
    assert hourly_totals(keys[new["id"]], start)[:6] == [0, 0, 200, 200, 405, 405]
    assert hourly_totals(keys[old["id"]], start)[:6] == [600, 600, 400, 400, 210, 210]
    assert keys[new["id"]]["flags"] == [] and keys[new["id"]]["filtered"] > 0
    assert keys[old["id"]]["flags"] == ["still-receiving"] and keys[old["id"]]["dropped"] > 0
    assert report(pulumi_project, "--fail-on-silent").returncode == EXIT_OK
    gate = report(pulumi_project, "--fail-on-old-key-traffic")
    assert gate.returncode == EXIT_OLD_KEY_TRAFFIC
    assert json.loads(gate.stdout)["oldKeysInUse"] == [{"project": "api", "keyId": old["id"]}]

    # Stage 3: the last senders moved four hours after the rotation; the old key has been idle since.
    simulator.admin.set_traffic("acme", "api", {
        old["id"]: [{"since": day_ago, "until": start + 2 * HOUR, "accepted": 600},
                    {"since": start + 2 * HOUR, "until": start + 4 * HOUR, "accepted": 300}],
        new["id"]: [{"since": start + 2 * HOUR, "until": start + 4 * HOUR, "accepted": 300},
                    {"since": start + 4 * HOUR, "accepted": 600}],
    })
    stage3 = report(pulumi_project, "--fail-on-silent", "--fail-on-old-key-traffic")
    assert stage3.returncode == EXIT_OK, stage3.stdout + stage3.stderr
    keys = keys_of(stage3, "api")
    assert keys[old["id"]]["recent"] == 0 and keys[old["id"]]["flags"] == []
    assert keys[old["id"]]["total"] > 0, "its earlier traffic is still in the window"

    # Step 4 of the runbook: deactivate the old key; the stack has nothing to change.
    simulator.admin.set_key_active("acme", "api", old["id"], False)
    final = report(pulumi_project, "--fail-on-old-key-traffic")
    assert final.returncode == EXIT_OK
    assert list(keys_of(final, "api")) == [new["id"]]
    pulumi_project.preview(STACK, "--expect-no-changes")
    assert "demo-token" not in stage1.stdout + stage2.stdout + stage3.stdout + final.stderr
