"""A stack created by release 0.1 (package `components`) keeps working after the rename.

`release_0_1_0/` holds what release 0.1 left behind for two projects: the
exported state (each resource's provider pickled as
`components.resources.project_dsn.ProjectDsnProvider`), the stack config and
the Vault secrets it wrote.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from devenv.openbao import wait_for_kv_v2
from devenv.pulumi_cli import PulumiProject, copy_project
from tests.e2e.stack_helpers import service_env
from sentry_simulator.testing import SimulatorAdmin

pytestmark = pytest.mark.e2e

RELEASE = Path(__file__).with_name("release_0_1_0")
MOUNT = "old-release"
STACK = "old"
OLD_PROVIDER = "components.resources.project_dsn"


@pytest.fixture
def old_stack(tmp_path: Path, pulumi_bin: Path, simulator: Any, openbao: Any) -> Any:
    client = openbao.client()
    client.sys.enable_secrets_engine("kv", path=MOUNT, options={"version": "2"})
    wait_for_kv_v2(openbao, MOUNT)
    for path, secret in json.loads((RELEASE / "vault.json").read_text()).items():
        client.secrets.kv.v2.create_or_update_secret(path=path, secret=secret["data"], mount_point=MOUNT)
        client.secrets.kv.v2.update_metadata(path=path, custom_metadata=secret["custom_metadata"], mount_point=MOUNT)
    project = PulumiProject(
        project_dir=copy_project(tmp_path / "project"),
        backend_dir=tmp_path / "state",
        bin_dir=pulumi_bin,
        passphrase="old-release-state",
        extra_env=service_env(simulator, openbao),
    )
    shutil.copy2(RELEASE / "Pulumi.old.yaml", project.project_dir / "stacks" / "Pulumi.old.yaml")
    project.init_stack(STACK)
    project.run("stack", "import", "--stack", STACK, "--file", str(RELEASE / "state.json"))
    yield project
    client.sys.disable_secrets_engine(MOUNT)


def _providers(state: dict[str, Any]) -> dict[str, str]:
    return {
        resource["urn"].rsplit("::", 1)[1]: base64.b64decode(resource["outputs"]["__provider"]).decode("latin-1")
        for resource in state["deployment"]["resources"]
        if resource["type"].endswith(":ProjectDsn")
    }


def test_a_release_0_1_stack_previews_updates_and_destroys(old_stack: PulumiProject, simulator: Any, openbao: Any) -> None:
    assert all(OLD_PROVIDER in pickled for pickled in _providers(old_stack.export_state(STACK)).values())

    # Nothing moved in Sentry or Vault since 0.1 wrote them: the new code agrees.
    old_stack.preview(STACK, "--expect-no-changes")

    rotated = SimulatorAdmin(simulator.url).rotate_key("acme", "web", label="After the rename")
    preview = old_stack.preview(STACK)
    assert rotated["dsn"]["public"] in preview.stdout
    old_stack.up(STACK)
    secret = openbao.client().secrets.kv.v2.read_secret_version(
        path="sentry/acme/web", mount_point=MOUNT, raise_on_deleted_version=True
    )
    assert secret["data"]["data"]["dsn"] == rotated["dsn"]["public"]
    providers = _providers(old_stack.export_state(STACK))
    assert "\x8c\x0fsentry_dsn_sync\x94\x8c\x12ProjectDsnProvider" in providers["web"], "the package's short name"
    # `api` did not change, so its state still names the 0.1 module: destroy must unpickle it.
    assert OLD_PROVIDER in providers["api"]

    old_stack.refresh(STACK)
    old_stack.destroy(STACK)
    listed = openbao.client().secrets.kv.v2.read_secret_metadata(path="sentry/acme/api", mount_point=MOUNT)
    versions = listed["data"]["versions"]
    assert versions[str(listed["data"]["current_version"])]["deletion_time"], "onDelete=delete soft-deletes"
    assert old_stack.export_state(STACK)["deployment"].get("resources", []) == []
