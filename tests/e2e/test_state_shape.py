"""What one project costs in state, through the real `pulumi` CLI: outputs without derived fields, a short stack."""

from __future__ import annotations

from typing import Any

import pytest

from devenv.pulumi_cli import PulumiProject
from tests.e2e.stack_helpers import STACK, configure, edit_by_hand
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e


def project_dsn(pulumi_project: PulumiProject, slug: str) -> dict[str, Any]:
    resources = pulumi_project.export_state(STACK)["deployment"]["resources"]
    resource: dict[str, Any] = next(r for r in resources if r["urn"].endswith(f"ProjectDsn::{slug}"))
    return resource


def test_state_holds_each_field_once_and_the_stack_from_the_event_loop(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["web", "api"])
    pulumi_project.up(STACK)
    web_key = newest_active_key(simulator, "web")

    web = project_dsn(pulumi_project, "web")
    assert web["inputs"]["public_key"] == web_key["public"], "the inputs keep what preview --diff shows"
    assert "key_created" in web["inputs"]
    assert {"public_key", "key_created", "vault_drift"}.isdisjoint(web["outputs"]), web["outputs"]
    assert "vault_drift" not in web["inputs"], "no drift, no field"
    assert (web["outputs"]["dsn"], web["outputs"]["key_id"]) == (web_key["dsn"]["public"], web_key["id"])
    # Built from an event loop callback: no frame of the program's coroutines, nor of pulumi.run.
    frames = [frame["sourcePosition"] for frame in web["stackTrace"]]
    assert web["sourcePosition"].split("#")[0].endswith("sentry_dsn_sync/resources/project_dsn.py")
    assert frames[0] == web["sourcePosition"]
    assert not any("__main__.py" in frame or "pulumi/runtime/stack.py" in frame for frame in frames), frames
    assert len(frames) <= 7, frames

    pulumi_project.preview(STACK, "--expect-no-changes")

    # A hand edit of a field the outputs leave out, seen only by a refresh: the next up still restores it.
    vault = openbao.client()
    secret = vault.secrets.kv.v2.read_secret_version(
        path="sentry/acme/web", mount_point=vault_mount, raise_on_deleted_version=True
    )["data"]["data"]
    edit_by_hand(vault, vault_mount, "sentry/acme/web", {"public_key": "edited"})
    pulumi_project.refresh(STACK)
    preview = pulumi_project.preview(STACK, "--diff").stdout
    assert f'public_key  : "edited" => "{web_key["public"]}"' in preview, preview
    pulumi_project.up(STACK, "--skip-preview")
    restored = vault.secrets.kv.v2.read_secret_version(
        path="sentry/acme/web", mount_point=vault_mount, raise_on_deleted_version=True
    )["data"]["data"]
    assert restored == secret
    assert "public_key" not in project_dsn(pulumi_project, "web")["outputs"], "the update trims the outputs again"
    pulumi_project.preview(STACK, "--expect-no-changes")
