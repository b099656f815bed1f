"""DSN forms through the real CLI: chosen per project, written to Vault, exported, rotated, drifted, dropped."""

from __future__ import annotations

import json
import re
from typing import Any

import hvac.exceptions
import pytest

from devenv.pulumi_cli import PulumiProject
from tests.e2e.stack_helpers import STACK, configure, edit_by_hand
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e

BASE_FIELDS = {"dsn", "public_key", "project_id", "project_slug", "organization", "key_id"}


def vault_data(openbao: Any, mount: str, project: str) -> dict[str, str]:
    secret = openbao.client().secrets.kv.v2.read_secret_version(
        path=f"sentry/acme/{project}", mount_point=mount, raise_on_deleted_version=True
    )
    data: dict[str, str] = secret["data"]["data"]
    return data


def patch(openbao: Any, mount: str, project: str, fields: dict[str, str]) -> None:
    edit_by_hand(openbao.client(), mount, f"sentry/acme/{project}", fields)


def diff_lines(preview: str, field: str) -> list[str]:
    return [line.strip() for line in preview.splitlines() if re.match(rf"\s*[-+~]?\s*{field}\s*:", line)]


def test_forms_for_one_project_and_only_dsn_for_another_then_rotated_drifted_and_one_dropped(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    web_forms = ["csp", "cdn", "otlp_traces"]
    configure(pulumi_project, organization="acme", projects=[{"slug": "web", "dsnForms": web_forms}, "api"])
    pulumi_project.up(STACK, "--skip-preview")

    key = newest_active_key(simulator, "web")
    web = vault_data(openbao, vault_mount, "web")
    assert {f"dsn_{form}": web[f"dsn_{form}"] for form in web_forms} == {
        f"dsn_{form}": key["dsn"][form] for form in web_forms
    }
    assert set(web) == BASE_FIELDS | {"dsn_csp", "dsn_cdn", "dsn_otlp_traces"}
    assert set(vault_data(openbao, vault_mount, "api")) == BASE_FIELDS
    projects = pulumi_project.outputs(STACK)["projects"]
    assert projects["web"]["dsnForms"] == {form: key["dsn"][form] for form in web_forms}
    assert "dsnForms" not in projects["api"]
    assert key["secret"] not in str(web) + str(projects)

    # Someone else's field in the same secret, and a hand edit of one of ours.
    patch(openbao, vault_mount, "web", {"owner": "team-web", "dsn_csp": "https://evil.example/report"})
    drift = pulumi_project.preview(STACK).stdout
    assert "vault_drift" in drift and "https://evil.example/report" in drift, drift
    pulumi_project.up(STACK, "--skip-preview")
    assert vault_data(openbao, vault_mount, "web")["dsn_csp"] == key["dsn"]["csp"]

    # A rotation shows every form it changes.
    new = simulator.admin.rotate_key("acme", "web", label="Rotation 2026")
    rotation = pulumi_project.preview(STACK).stdout
    for form in ("csp", "cdn"):
        assert f'"{key["dsn"][form]}" => "{new["dsn"][form]}"' in rotation, rotation
    # The OTLP endpoint does not carry the key: it stays the same across a rotation.
    assert new["dsn"]["otlp_traces"] == key["dsn"]["otlp_traces"]
    pulumi_project.up(STACK, "--skip-preview")
    assert vault_data(openbao, vault_mount, "web")["dsn_cdn"] == new["dsn"]["cdn"]

    # Dropping cdn removes that field, and only that one.
    configure(pulumi_project, projects=[{"slug": "web", "dsnForms": ["csp", "otlp_traces"]}, "api"])
    dropped = pulumi_project.preview(STACK).stdout
    assert any(new["dsn"]["cdn"] in line for line in diff_lines(dropped, "dsn_cdn")), dropped
    pulumi_project.up(STACK, "--skip-preview")

    web = vault_data(openbao, vault_mount, "web")
    assert "dsn_cdn" not in web
    assert web["owner"] == "team-web"
    assert web["dsn_csp"] == new["dsn"]["csp"] and web["dsn_otlp_traces"] == new["dsn"]["otlp_traces"]
    assert pulumi_project.outputs(STACK)["projects"]["web"]["dsnForms"] == {
        "csp": new["dsn"]["csp"], "otlp_traces": new["dsn"]["otlp_traces"]
    }
    pulumi_project.preview(STACK, "--expect-no-changes")
    state = json.dumps(pulumi_project.export_state(STACK))
    assert key["secret"] not in state and new["secret"] not in state


def test_a_secret_form_is_refused_before_anything_is_written(
    pulumi_project: PulumiProject, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["web"], dsnForms=["secret"])
    result = pulumi_project.preview(STACK, check=False)

    assert result.returncode != 0
    assert "dsnForms[0]: 'secret' is never published" in result.stdout + result.stderr
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_data(openbao, vault_mount, "web")
