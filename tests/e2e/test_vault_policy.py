"""The least-privilege policy in docs/vault-policy.hcl is enough for the whole lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hvac
import pytest

from devenv.pulumi_cli import REPO_ROOT, PulumiProject
from tests.e2e.stack_helpers import STACK, configure

pytestmark = pytest.mark.e2e

POLICY = REPO_ROOT / "docs" / "vault-policy.hcl"


def token_with_documented_policy(openbao: Any, mount: str) -> str:
    root = openbao.client()
    rules = Path(POLICY).read_text().replace('"secret/', f'"{mount}/').replace("/mounts/secret", f"/mounts/{mount}")
    root.sys.create_or_update_policy(name=f"sentry-dsn-sync-{mount}", policy=rules)
    created = root.auth.token.create(policies=[f"sentry-dsn-sync-{mount}"], ttl="10m")
    return created["auth"]["client_token"]


def test_documented_policy_covers_publish_rotation_and_delete(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    pulumi_project.extra_env["VAULT_TOKEN"] = token_with_documented_policy(openbao, vault_mount)
    configure(pulumi_project, organization="acme", projects=["api", "worker"])
    pulumi_project.up(STACK, "--skip-preview")

    simulator.admin.rotate_key("acme", "api", label="Rotation 2026")
    pulumi_project.up(STACK, "--skip-preview")
    configure(pulumi_project, projects=["api"])
    pulumi_project.up(STACK, "--skip-preview")
    pulumi_project.destroy(STACK)

    metadata = openbao.client().secrets.kv.v2.read_secret_metadata(path="sentry/acme/api", mount_point=vault_mount)
    assert metadata["data"]["current_version"] == 2
    assert metadata["data"]["custom_metadata"]["managed-by"] == "sentry-dsn-sync"
    assert metadata["data"]["versions"]["2"]["deletion_time"], "destroy soft-deleted the latest version"


def test_a_policy_missing_a_capability_fails_preview_naming_it_and_nothing_is_written(
    pulumi_project: PulumiProject, openbao: Any, vault_mount: str
) -> None:
    root = openbao.client()
    rules = Path(POLICY).read_text().replace('"secret/', f'"{vault_mount}/').replace("/mounts/secret", f"/mounts/{vault_mount}")
    # Data may be written, but the custom metadata may not: a publish would stop half-way.
    rules = rules.replace('capabilities = ["read", "patch", "delete"]', 'capabilities = ["read", "delete"]')
    root.sys.create_or_update_policy(name=f"no-patch-{vault_mount}", policy=rules)
    pulumi_project.extra_env["VAULT_TOKEN"] = root.auth.token.create(policies=[f"no-patch-{vault_mount}"], ttl="10m")[
        "auth"
    ]["client_token"]
    configure(pulumi_project, organization="acme", projects=["api"])

    result = pulumi_project.preview(STACK, check=False)

    shown = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"lacks `patch` on `{vault_mount}/metadata/sentry/acme/api`" in shown, shown
    assert "Traceback" not in shown
    up = pulumi_project.up(STACK, "--skip-preview", check=False)
    assert up.returncode != 0
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.list_secrets(path="", mount_point=vault_mount)
