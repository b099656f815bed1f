"""Key rotations in Sentry, seen through `pulumi preview --diff` and applied by `pulumi up`."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devenv.pulumi_cli import PulumiProject
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import newest_active_key, sentry_keys

pytestmark = pytest.mark.e2e


def vault_version(openbao: Any, mount: str, project: str) -> int:
    metadata = openbao.client().secrets.kv.v2.read_secret_metadata(path=f"sentry/acme/{project}", mount_point=mount)
    return metadata["data"]["current_version"]


def vault_data(openbao: Any, mount: str, project: str) -> dict[str, str]:
    secret = openbao.client().secrets.kv.v2.read_secret_version(
        path=f"sentry/acme/{project}", mount_point=mount, raise_on_deleted_version=True
    )
    return secret["data"]["data"]


def updated_resources(preview_stdout: str) -> list[str]:
    """Names of the resources `pulumi preview --diff` lists as updates."""
    return re.findall(r"~ pulumi-python:dynamic/sentry-dsn-sync:ProjectDsn: \(update\)\n\s+\[id=[^\]]*\]\n\s+\[urn=[^\]]*::(\S+)\]", preview_stdout)


def test_rotation_previews_old_to_new_for_that_project_only_and_up_writes_one_version(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["api", "worker"])
    pulumi_project.up(STACK, "--skip-preview")
    old = newest_active_key(simulator, "api")

    new = simulator.admin.rotate_key("acme", "api", label="Rotation 2026")
    preview = pulumi_project.preview(STACK).stdout

    assert updated_resources(preview) == ["api"], preview
    assert f'dsn         : "{old["dsn"]["public"]}" => "{new["dsn"]["public"]}"' in preview
    assert f'key_id      : "{old["id"]}" => "{new["id"]}"' in preview
    assert new["secret"] not in preview, "a key's secret part never shows"

    pulumi_project.up(STACK, "--skip-preview")
    assert vault_version(openbao, vault_mount, "api") == 2
    assert vault_version(openbao, vault_mount, "worker") == 1
    assert vault_data(openbao, vault_mount, "api")["dsn"] == new["dsn"]["public"]
    assert pulumi_project.outputs(STACK)["dsns"]["api"] == new["dsn"]["public"]


def test_deactivating_the_published_key_publishes_the_next_newest_active_one(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["web"])
    pulumi_project.up(STACK, "--skip-preview")
    published = newest_active_key(simulator, "web")

    simulator.admin.set_key_active("acme", "web", published["id"], False)
    fallback = newest_active_key(simulator, "web")
    assert fallback["id"] != published["id"]
    pulumi_project.up(STACK, "--skip-preview")

    assert vault_data(openbao, vault_mount, "web")["key_id"] == fallback["id"]
    assert pulumi_project.outputs(STACK)["projects"]["web"]["keyId"] == fallback["id"]


def test_a_project_without_an_active_key_fails_and_keeps_its_last_good_value(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["worker", "api"])
    pulumi_project.up(STACK, "--skip-preview")
    before = vault_data(openbao, vault_mount, "worker")
    outputs_before = pulumi_project.outputs(STACK)

    for key in sentry_keys(simulator, "worker"):
        simulator.admin.set_key_active("acme", "worker", key["id"], False)
    result = pulumi_project.up(STACK, "--skip-preview", check=False)

    assert result.returncode != 0
    assert "worker" in result.stdout and "no active client key" in result.stdout.lower(), result.stdout
    assert vault_data(openbao, vault_mount, "worker") == before
    assert vault_version(openbao, vault_mount, "worker") == 1
    assert pulumi_project.outputs(STACK)["dsns"]["worker"] == outputs_before["dsns"]["worker"]
