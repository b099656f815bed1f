"""One program, two `SentryDsnSync` instances: two Sentry organizations, two Vault tokens, through the real CLI.

Each instance's settings come from `parse_settings` in the program; its
tokens are named by environment variables only, and no fallback variable is
set, so each resource can reach its Sentry and its Vault only through its own
`connection`. Each Vault token may write only its own mount, so a secret
published through the wrong connection fails the run.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest

from devenv.openbao import wait_for_kv_v2
from devenv.pulumi_cli import PulumiProject, copy_project
from sentry_simulator.testing import running_simulator
from tests.e2e.stack_helpers import SEED_PATH, STACK

pytestmark = pytest.mark.e2e

ACME_TOKEN = "acme-sentry-token-0123456789abcdef"
GLOBEX_TOKEN = "globex-sentry-token-fedcba9876543210"
ACME_PROJECTS = ["web", "api"]
GLOBEX_PROJECTS = ["worker", "mobile"]

PROGRAM = '''
import os

import pulumi

from sentry_dsn_sync import SentryDsnSync, SentryDsnSyncArgs, parse_settings

stack = pulumi.get_stack()


def settings(organization, sentry_url, sentry_token_env, projects, vault_address, mount, vault_token_env):
    return parse_settings(
        {
            "organization": organization,
            "sentryUrl": sentry_url,
            "sentryTokenEnv": sentry_token_env,
            "projects": projects,
            "vault": {"address": vault_address, "mount": mount, "auth": {"tokenEnv": vault_token_env}},
        },
        os.environ,
        stack=stack,
    )


acme = SentryDsnSync("acme", SentryDsnSyncArgs(settings=settings(*%(acme)s)))
globex = SentryDsnSync("globex", SentryDsnSyncArgs(settings=settings(*%(globex)s)))
pulumi.export("acme", acme.dsns)
pulumi.export("globex", globex.dsns)
'''


def organization_seed(slug: str, token: str) -> dict[str, Any]:
    """The demo organization under another slug, readable with `token` alone."""
    seed: dict[str, Any] = json.loads(SEED_PATH.read_text())
    seed["organizations"] = [{**seed["organizations"][0], "slug": slug}]
    seed["tokens"] = [{"token": token, "scopes": ["org:read", "project:read"], "kind": "integration"}]
    return seed


@pytest.fixture
def acme_sentry() -> Iterator[Any]:
    with running_simulator(organization_seed("acme", ACME_TOKEN)) as sim:
        yield sim


@pytest.fixture
def globex_sentry() -> Iterator[Any]:
    with running_simulator(organization_seed("globex", GLOBEX_TOKEN)) as sim:
        yield sim


def mount_with_its_own_token(openbao: Any) -> tuple[str, str]:
    """A new KV v2 mount and a token that may use that mount alone."""
    root = openbao.client()
    mount = f"e2e-{uuid.uuid4().hex[:8]}"
    root.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    wait_for_kv_v2(openbao, mount)
    policy = f'path "{mount}/*" {{ capabilities = ["create", "read", "update", "patch", "delete", "list"] }}'
    root.sys.create_or_update_policy(name=mount, policy=policy)
    token = root.auth.token.create(policies=[mount], ttl="1h")["auth"]["client_token"]
    return mount, token


def read_dsn(openbao: Any, mount: str, path: str) -> tuple[str, int]:
    secret = openbao.client().secrets.kv.v2.read_secret_version(
        path=path, mount_point=mount, raise_on_deleted_version=True
    )
    return secret["data"]["data"]["dsn"], secret["data"]["metadata"]["version"]


def state_text(project: PulumiProject) -> str:
    """The stack export and every file of the backend (checkpoints, history, backups)."""
    files = [path.read_text(errors="replace") for path in project.backend_dir.rglob("*") if path.is_file()]
    return "\n".join([json.dumps(project.export_state(STACK)), *files])


def test_two_instances_publish_each_organization_into_its_own_vault_with_credentials_by_reference_only(
    tmp_path: Path, pulumi_bin: Path, openbao: Any, acme_sentry: Any, globex_sentry: Any
) -> None:
    acme_mount, acme_vault_token = mount_with_its_own_token(openbao)
    globex_mount, globex_vault_token = mount_with_its_own_token(openbao)
    home = tmp_path / "home"
    home.mkdir()
    project = PulumiProject(
        project_dir=copy_project(tmp_path / "project"),
        backend_dir=tmp_path / "state",
        bin_dir=pulumi_bin,
        extra_env={
            "ACME_SENTRY_TOKEN": ACME_TOKEN,
            "GLOBEX_SENTRY_TOKEN": GLOBEX_TOKEN,
            "ACME_VAULT_TOKEN": acme_vault_token,
            "GLOBEX_VAULT_TOKEN": globex_vault_token,
            # No fallback: each credential must come through the variable its instance names.
            "SENTRY_AUTH_TOKEN": "",
            "VAULT_TOKEN": "",
            "VAULT_ADDR": "",
            "HOME": str(home),
        },
    )
    acme = [
        "acme", acme_sentry.url, "ACME_SENTRY_TOKEN", ACME_PROJECTS, openbao.address, acme_mount, "ACME_VAULT_TOKEN",
    ]
    globex = [
        "globex", globex_sentry.url, "GLOBEX_SENTRY_TOKEN", GLOBEX_PROJECTS, openbao.address, globex_mount,
        "GLOBEX_VAULT_TOKEN",
    ]
    (project.project_dir / "__main__.py").write_text(PROGRAM % {"acme": repr(acme), "globex": repr(globex)})
    project.init_stack(STACK)

    project.up(STACK)

    outputs = project.outputs(STACK)
    assert sorted(outputs["acme"]) == sorted(ACME_PROJECTS)
    assert sorted(outputs["globex"]) == sorted(GLOBEX_PROJECTS)
    for slug in ACME_PROJECTS:
        assert read_dsn(openbao, acme_mount, f"sentry/acme/{slug}") == (outputs["acme"][slug], 1)
    for slug in GLOBEX_PROJECTS:
        assert read_dsn(openbao, globex_mount, f"sentry/globex/{slug}") == (outputs["globex"][slug], 1)
    text = state_text(project)
    for credential in (ACME_TOKEN, GLOBEX_TOKEN, acme_vault_token, globex_vault_token):
        assert credential not in text
    assert "GLOBEX_SENTRY_TOKEN" in text, "the credential travels by the name of its variable"

    rotated = globex_sentry.admin.rotate_key("globex", "worker", label="Rotation 2026")
    result = project.up(STACK, "--skip-preview", "-v=9", "--logtostderr")

    # The provider learned each instance's projects from its program's plan and read their secrets ahead
    # (the first check of each may have read its own first: it is not read twice).
    debug = re.findall(r"eventSink::Debug\(<\{%reset%\}>(.*?)<\{%reset%\}>\)", result.stderr)
    for mount in (acme_mount, globex_mount):
        assert {f"secrets to read ahead of their checks in mount {mount}: {count}" for count in (1, 2)} & set(debug)

    after = project.outputs(STACK)
    assert after["globex"]["worker"] == rotated["dsn"]["public"]
    assert read_dsn(openbao, globex_mount, "sentry/globex/worker") == (rotated["dsn"]["public"], 2)
    assert after["acme"] == outputs["acme"]
    assert read_dsn(openbao, globex_mount, "sentry/globex/mobile")[1] == 1
    for slug in ACME_PROJECTS:
        assert read_dsn(openbao, acme_mount, f"sentry/acme/{slug}")[1] == 1, "the other organization is untouched"
    project.preview(STACK, "--expect-no-changes")

    project.destroy(STACK)

    assert project.outputs(STACK) == {}
    for mount, paths in ((acme_mount, ACME_PROJECTS), (globex_mount, GLOBEX_PROJECTS)):
        for slug in paths:
            organization = "acme" if mount == acme_mount else "globex"
            with pytest.raises(hvac.exceptions.InvalidPath):
                read_dsn(openbao, mount, f"sentry/{organization}/{slug}")
