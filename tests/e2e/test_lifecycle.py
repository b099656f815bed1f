"""The lifecycle a user sees, through the real `pulumi` CLI: preview, up, no-op up, refresh, destroy."""

from __future__ import annotations

from typing import Any

import hvac
import pytest

from devenv.pulumi_cli import PulumiProject
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e

PROJECTS = ["web", "api"]


def read_secret(vault: hvac.Client, mount: str, path: str) -> tuple[dict[str, str], int]:
    response = vault.secrets.kv.v2.read_secret_version(path=path, mount_point=mount, raise_on_deleted_version=True)
    return response["data"]["data"], response["data"]["metadata"]["version"]


def test_first_up_publishes_each_project_and_a_second_up_changes_nothing(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=PROJECTS)
    vault = openbao.client()

    preview = pulumi_project.preview(STACK)
    web_key = newest_active_key(simulator, "web")
    assert web_key["dsn"]["public"] in preview.stdout, "preview shows the real DSN, not an unknown"
    assert "+ 4 to create" in preview.stdout, preview.stdout  # stack, component, two projects

    pulumi_project.up(STACK)
    outputs = pulumi_project.outputs(STACK)
    assert outputs["dsns"]["web"] == web_key["dsn"]["public"]
    assert set(outputs["dsns"]) == set(PROJECTS)
    web = outputs["projects"]["web"]
    assert web["keyId"] == web_key["id"]
    assert web["vaultPath"] == f"{vault_mount}/sentry/acme/web"
    data, version = read_secret(vault, vault_mount, "sentry/acme/web")
    assert data == {
        "dsn": web_key["dsn"]["public"],
        "public_key": web_key["public"],
        "project_id": str(web_key["projectId"]),
        "project_slug": "web",
        "organization": "acme",
        "key_id": web_key["id"],
    }
    assert version == 1
    metadata = vault.secrets.kv.v2.read_secret_metadata(path="sentry/acme/web", mount_point=vault_mount)
    assert metadata["data"]["custom_metadata"] == {"managed-by": "sentry-dsn-sync", "stack": STACK}

    pulumi_project.preview(STACK, "--expect-no-changes")
    pulumi_project.up(STACK)
    assert read_secret(vault, vault_mount, "sentry/acme/web")[1] == 1, "a no-op up writes no new Vault version"
    assert read_secret(vault, vault_mount, "sentry/acme/api")[1] == 1

    pulumi_project.refresh(STACK)
    assert pulumi_project.outputs(STACK) == outputs
    pulumi_project.preview(STACK, "--expect-no-changes")

    pulumi_project.destroy(STACK)
    assert pulumi_project.outputs(STACK) == {}
    with pytest.raises(hvac.exceptions.InvalidPath):
        read_secret(vault, vault_mount, "sentry/acme/web")
    # The default onDelete is a soft delete: the version is still there to undelete.
    metadata = vault.secrets.kv.v2.read_secret_metadata(path="sentry/acme/web", mount_point=vault_mount)
    assert metadata["data"]["versions"]["1"]["deletion_time"]


def test_invalid_config_fails_the_preview_with_one_clean_message_and_nothing_written(
    pulumi_project: PulumiProject, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=PROJECTS)
    pulumi_project.set_config(STACK, "sentry-dsn-sync:vault", {"mount": vault_mount, "kvVersion": 3})
    pulumi_project.set_config(STACK, "sentry-dsn-sync:keyLable", "Default")

    result = pulumi_project.run("preview", "--stack", STACK, check=False)

    shown = result.stdout + result.stderr
    assert result.returncode != 0
    assert "vault.kvVersion" in shown and "3" in shown, shown
    # A key the tool does not know is named, not ignored (Pulumi offers no public list of a namespace's keys).
    assert "keyLable: unknown key" in shown, shown
    assert "Traceback" not in shown, "the async program still reports config errors without a traceback"
    assert "demo-token" not in shown
    with pytest.raises(hvac.exceptions.InvalidPath):
        openbao.client().secrets.kv.v2.list_secrets(path="sentry", mount_point=vault_mount)
