"""The Vault half through the real `pulumi` CLI: drift, racing writers, onDelete, KV v1, auth, faults.

Every test asserts what is really in Vault through a root client of its own,
never through the tool's view of it.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
import uuid
from typing import Any

import hvac
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devenv.openbao import free_port, sealable_server
from devenv.pulumi_cli import PulumiProject
from tests.e2e.stack_helpers import STACK, configure, edit_by_hand
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e

def path_of(project: str) -> str:
    return f"sentry/acme/{project}"


def vault_data(vault: hvac.Client, mount: str, project: str, *, version: int | None = None) -> dict[str, Any]:
    response = vault.secrets.kv.v2.read_secret_version(
        path=path_of(project), mount_point=mount, version=version, raise_on_deleted_version=True
    )
    return dict(response["data"]["data"])


def vault_metadata(vault: hvac.Client, mount: str, project: str) -> dict[str, Any]:
    return dict(vault.secrets.kv.v2.read_secret_metadata(path=path_of(project), mount_point=mount)["data"])


def patch_fields(vault: hvac.Client, mount: str, project: str, fields: dict[str, str]) -> None:
    edit_by_hand(vault, mount, path_of(project), fields)


def said(result: subprocess.CompletedProcess[str]) -> str:
    """All a user sees of one pulumi command: check failures go to stderr, the plan to stdout."""
    return result.stdout + result.stderr


def updated_resources(preview_stdout: str) -> list[str]:
    """Names of the ProjectDsn resources `pulumi preview --diff` lists as updates."""
    return re.findall(
        r"~ pulumi-python:dynamic/sentry-dsn-sync:ProjectDsn: \(update\)\n\s+\[id=[^\]]*\]\n\s+\[urn=[^\]]*::(\S+)\]",
        preview_stdout,
    )


def published_fields(simulator: Any, project: str) -> dict[str, str]:
    key = newest_active_key(simulator, project)
    return {
        "dsn": key["dsn"]["public"],
        "public_key": key["public"],
        "project_id": str(key["projectId"]),
        "project_slug": project,
        "organization": "acme",
        "key_id": key["id"],
    }


def writer_policy(vault: hvac.Client, mount: str) -> str:
    """What a pipeline identity needs on `mount`, and nothing more."""
    name = f"writer-{mount}"
    vault.sys.create_or_update_policy(
        name,
        f"""
        path "sys/internal/ui/mounts/{mount}" {{ capabilities = ["read"] }}
        path "{mount}/data/sentry/*" {{ capabilities = ["create", "read", "update", "patch", "delete"] }}
        path "{mount}/metadata/sentry/*" {{ capabilities = ["read", "patch", "delete"] }}
        """,
    )
    return name


# -- drift ------------------------------------------------------------------------------------------


def test_hand_edit_shows_in_plain_preview_and_up_restores_only_that_field(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["web", "api"])
    pulumi_project.up(STACK, "--skip-preview")
    vault = openbao.client()
    published = vault_data(vault, vault_mount, "web")
    api_version = vault_metadata(vault, vault_mount, "api")["current_version"]

    patch_fields(vault, vault_mount, "web", {"dsn": "https://tampered@example.invalid/1", "owner": "team-web"})
    preview = pulumi_project.preview(STACK, "--expect-no-changes", check=False)

    assert preview.returncode != 0, "a plain preview, no --refresh, sees the hand edit"
    assert updated_resources(preview.stdout) == ["web"], preview.stdout
    # `+`: state holds `vault_drift` only while there is drift, so it appears rather than changes.
    drift = r'\+ vault_drift : \{\n\s+\+ dsn: "https://tampered@example.invalid/1"\n\s+\}'
    assert re.search(drift, preview.stdout), preview.stdout

    pulumi_project.up(STACK, "--skip-preview")
    assert vault_data(vault, vault_mount, "web") == {**published, "owner": "team-web"}
    assert vault_metadata(vault, vault_mount, "api")["current_version"] == api_version, "api is not rewritten"
    pulumi_project.preview(STACK, "--expect-no-changes")

    vault.secrets.kv.v2.delete_metadata_and_all_versions(path=path_of("api"), mount_point=vault_mount)
    preview = pulumi_project.preview(STACK).stdout
    assert updated_resources(preview) == ["api"], preview

    pulumi_project.up(STACK, "--skip-preview")
    assert vault_data(vault, vault_mount, "api") == published_fields(simulator, "api")


# -- check-and-set ----------------------------------------------------------------------------------


def test_foreign_fields_survive_the_first_up_and_a_writer_racing_a_rotation_loses_nothing(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    vault = openbao.client()
    # Keep every version, so the history below shows each write in order.
    vault.secrets.kv.v2.configure(max_versions=2000, mount_point=vault_mount)
    vault.secrets.kv.v2.create_or_update_secret(
        path=path_of("api"), secret={"owner": "platform", "dsn": "stale"}, mount_point=vault_mount
    )
    configure(pulumi_project, organization="acme", projects=["api"])
    pulumi_project.up(STACK, "--skip-preview")
    assert vault_data(vault, vault_mount, "api") == {**published_fields(simulator, "api"), "owner": "platform"}
    before_rotation = vault_metadata(vault, vault_mount, "api")["current_version"]

    new = simulator.admin.rotate_key("acme", "api", label="Rotation 2026")
    stop = threading.Event()
    counter: list[int] = []

    def other_writer() -> None:
        client = openbao.client()
        while not stop.is_set():
            patch_fields(client, vault_mount, "api", {"counter": str(len(counter) + 1)})
            counter.append(len(counter) + 1)
            stop.wait(0.01)

    writer = threading.Thread(target=other_writer)
    writer.start()
    try:
        pulumi_project.up(STACK, "--skip-preview")
    finally:
        stop.set()
        writer.join()

    final = vault_data(vault, vault_mount, "api")
    assert final["counter"] == str(counter[-1]), "the other writer's last value is there"
    assert final["dsn"] == new["dsn"]["public"] and final["key_id"] == new["id"]
    assert final["owner"] == "platform"
    # Neither writer ever undid the other: the counter never goes back, and once
    # the new DSN is in, it stays in, in every version written during the race.
    last = vault_metadata(vault, vault_mount, "api")["current_version"]
    history = [vault_data(vault, vault_mount, "api", version=v) for v in range(before_rotation + 1, last + 1)]
    counters = [int(version["counter"]) for version in history]
    assert counters == sorted(counters)
    rotated = [version["dsn"] == new["dsn"]["public"] for version in history]
    switch = rotated.index(True)
    assert all(rotated[switch:])
    assert 0 < switch < len(history) - 1, "the tool's write landed while the other writer was writing"


# -- onDelete ---------------------------------------------------------------------------------------


def test_each_on_delete_policy_applies_to_removed_projects_and_to_destroy(
    pulumi_project: PulumiProject, openbao: Any, vault_mount: str
) -> None:
    vault = openbao.client()
    projects = ["web", "api", "worker", "mobile", "billing"]
    configure(pulumi_project, organization="acme", projects=projects)
    pulumi_project.up(STACK, "--skip-preview")
    worker = vault_data(vault, vault_mount, "worker")

    # web removed; api moved to a path of its own, which replaces it: publish there, then delete here.
    moved_api = {"slug": "api", "path": "teams/api"}
    configure(
        pulumi_project, projects=[moved_api, *projects[2:]], vault={"mount": vault_mount, "onDelete": "delete"}
    )
    pulumi_project.up(STACK, "--skip-preview")
    for gone in ("web", "api"):
        with pytest.raises(hvac.exceptions.InvalidPath):
            vault_data(vault, vault_mount, gone)
        assert vault_metadata(vault, vault_mount, gone)["versions"]["1"]["deletion_time"], "soft deleted"
    vault.secrets.kv.v2.undelete_secret_versions(path=path_of("web"), versions=[1], mount_point=vault_mount)
    assert vault_data(vault, vault_mount, "web")["project_slug"] == "web", "and recoverable"
    moved = vault.secrets.kv.v2.read_secret_version(
        path="teams/api", mount_point=vault_mount, raise_on_deleted_version=True
    )["data"]["data"]
    assert moved["project_slug"] == "api"

    configure(pulumi_project, projects=projects[2:], vault={"mount": vault_mount, "onDelete": "destroy"})
    pulumi_project.up(STACK, "--skip-preview")
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault.secrets.kv.v2.read_secret_metadata(path="teams/api", mount_point=vault_mount)

    configure(pulumi_project, projects=projects[3:], vault={"mount": vault_mount, "onDelete": "retain"})
    pulumi_project.up(STACK, "--skip-preview")
    assert vault_data(vault, vault_mount, "worker") == worker
    assert vault_metadata(vault, vault_mount, "worker")["versions"]["1"]["deletion_time"] == ""

    # `pulumi destroy` runs with the config of the last `up` (the engine does not run
    # the program), so a policy change takes an `up` first.
    configure(pulumi_project, vault={"mount": vault_mount, "onDelete": "destroy"})
    pulumi_project.up(STACK, "--skip-preview")
    # mobile is already gone by hand; destroy still succeeds, and applies the policy to billing.
    vault.secrets.kv.v2.delete_metadata_and_all_versions(path=path_of("mobile"), mount_point=vault_mount)
    pulumi_project.destroy(STACK)
    assert pulumi_project.outputs(STACK) == {}
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_metadata(vault, vault_mount, "billing")
    assert vault_data(vault, vault_mount, "worker") == worker, "retained secrets stay retained"


# -- KV v1 ------------------------------------------------------------------------------------------


def test_kv1_mount_publishes_repairs_and_deletes_and_a_version_mismatch_fails_preview(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any
) -> None:
    vault = openbao.client()
    mount = f"e2e-v1-{uuid.uuid4().hex[:8]}"
    vault.sys.enable_secrets_engine("kv", path=mount, options={"version": "1"})
    configure(pulumi_project, organization="acme", projects=["web", "api"], vault={"mount": mount})

    mismatch = pulumi_project.preview(STACK, check=False)
    assert mismatch.returncode != 0
    assert f"`{mount}/` at {openbao.address} is KV version 1, but vault.kvVersion is 2" in said(mismatch)
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault.secrets.kv.v1.list_secrets(path="", mount_point=mount)  # nothing written

    configure(pulumi_project, vault={"mount": mount, "kvVersion": 1})
    pulumi_project.up(STACK, "--skip-preview")
    web = vault.secrets.kv.v1.read_secret(path=path_of("web"), mount_point=mount)["data"]
    assert web == published_fields(simulator, "web")
    pulumi_project.preview(STACK, "--expect-no-changes")

    vault.secrets.kv.v1.create_or_update_secret(
        path=path_of("web"), secret={**web, "key_id": "edited", "owner": "team-web"}, mount_point=mount
    )
    pulumi_project.refresh(STACK)
    state = pulumi_project.export_state(STACK)["deployment"]["resources"]
    refreshed = next(r for r in state if r["urn"].endswith("ProjectDsn::web"))
    assert (refreshed["outputs"]["key_id"], refreshed["inputs"]["key_id"]) == ("edited", "edited")
    assert "owner" not in refreshed["outputs"], "someone else's field stays someone else's"
    preview = pulumi_project.preview(STACK).stdout
    assert updated_resources(preview) == ["web"], preview
    assert f'key_id      : "edited" => "{web["key_id"]}"' in preview, preview
    configure(pulumi_project, projects=["web"])
    pulumi_project.up(STACK, "--skip-preview")
    assert vault.secrets.kv.v1.read_secret(path=path_of("web"), mount_point=mount)["data"] == {
        **web,
        "owner": "team-web",
    }
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault.secrets.kv.v1.read_secret(path=path_of("api"), mount_point=mount)


# -- auth through config ----------------------------------------------------------------------------


def signed_jwt(key: rsa.RSAPrivateKey, *, audience: str) -> str:
    now = int(time.time())
    claims = {"sub": "pipeline-42", "aud": audience, "iat": now, "nbf": now - 5, "exp": now + 600}
    return pyjwt.encode(claims, key, algorithm="RS256")


def enable_jwt_auth(vault: hvac.Client, *, mount: str, policy: str, audience: str) -> rsa.RSAPrivateKey:
    """JWT auth trusting one locally generated key, as Vault trusts a CI provider's OIDC issuer."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    vault.sys.enable_auth_method("jwt", path=mount)
    vault.auth.jwt.configure(jwt_validation_pubkeys=[public_pem], path=mount)
    vault.auth.jwt.create_role(
        "deploy",
        role_type="jwt",
        user_claim="sub",
        bound_audiences=[audience],
        token_policies=[policy],
        allowed_redirect_uris=[],
        path=mount,
    )
    return key


def test_approle_and_jwt_from_config_publish_and_no_credential_reaches_state_or_output(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    vault = openbao.client()
    policy = writer_policy(vault, vault_mount)
    suffix = uuid.uuid4().hex[:8]
    approle_mount, jwt_mount = f"approle-{suffix}", f"jwt-{suffix}"
    vault.sys.enable_auth_method("approle", path=approle_mount)
    vault.auth.approle.create_or_update_approle("sentry-sync", token_policies=[policy], mount_point=approle_mount)
    role_id = vault.auth.approle.read_role_id("sentry-sync", mount_point=approle_mount)["data"]["role_id"]
    secret_id = vault.auth.approle.generate_secret_id("sentry-sync", mount_point=approle_mount)["data"]["secret_id"]
    signer = enable_jwt_auth(vault, mount=jwt_mount, policy=policy, audience="vault.e2e")
    jwt = signed_jwt(signer, audience="vault.e2e")
    # Only the configured method may log in: no token to fall back on.
    del pulumi_project.extra_env["VAULT_TOKEN"]
    pulumi_project.extra_env["HOME"] = str(pulumi_project.backend_dir.parent)
    outputs: list[str] = []

    configure(
        pulumi_project,
        organization="acme",
        projects=["web"],
        vault={"mount": vault_mount, "auth": {"method": "approle", "roleId": role_id, "mount": approle_mount}},
    )
    pulumi_project.run(
        "config", "set", "--stack", STACK, "--path", "--secret", "sentry-dsn-sync:vault.auth.secretId", secret_id
    )
    result = pulumi_project.up(STACK, "--skip-preview")
    outputs.append(said(result))
    assert vault_data(vault, vault_mount, "web") == published_fields(simulator, "web")

    pulumi_project.run("config", "rm", "--stack", STACK, "sentry-dsn-sync:vault")
    configure(
        pulumi_project,
        vault={
            "mount": vault_mount,
            "auth": {"method": "jwt", "role": "deploy", "jwtEnv": "CI_OIDC_TOKEN", "mount": jwt_mount},
        },
    )
    new = simulator.admin.rotate_key("acme", "web", label="Rotation 2026")
    result = pulumi_project.up(STACK, "--skip-preview", env={"CI_OIDC_TOKEN": jwt})
    outputs.append(said(result))
    assert vault_data(vault, vault_mount, "web")["dsn"] == new["dsn"]["public"]

    # The plain export, and every file of the backend: `--show-secrets` decrypts the stack
    # config's secrets on purpose (README, "What reaches state"), so it proves nothing here.
    exported = pulumi_project.run("stack", "export", "--stack", STACK)
    outputs.append(said(exported))
    outputs += [path.read_text(errors="replace") for path in pulumi_project.backend_dir.rglob("*") if path.is_file()]
    for credential in (secret_id, jwt, openbao.root_token):
        for text in outputs:
            assert credential not in text


# -- faults -----------------------------------------------------------------------------------------


def test_unreachable_or_sealed_vault_fails_clearly_changes_nothing_and_a_rerun_converges(
    pulumi_project: PulumiProject, simulator: Any
) -> None:
    with sealable_server() as bao:
        vault = bao.client()
        pulumi_project.extra_env.update(VAULT_ADDR=bao.address, VAULT_TOKEN=bao.root_token)
        configure(pulumi_project, organization="acme", projects=["api", "worker"], vault={"mount": "secret"})
        pulumi_project.up(STACK, "--skip-preview")
        before = {project: vault_data(vault, "secret", project) for project in ("api", "worker")}
        outputs = pulumi_project.outputs(STACK)

        # Pending: a rotation to write and a removed project to delete.
        new = simulator.admin.rotate_key("acme", "api", label="Rotation 2026")
        configure(pulumi_project, projects=["api"])

        closed = f"http://127.0.0.1:{free_port()}"
        unreachable = pulumi_project.up(STACK, "--skip-preview", check=False, env={"VAULT_ADDR": closed})
        assert unreachable.returncode != 0
        assert f"cannot reach Vault at {closed}" in said(unreachable)

        bao.seal()
        sealed = pulumi_project.up(STACK, "--skip-preview", check=False)
        assert sealed.returncode != 0
        assert f"Vault at {bao.address} is sealed; unseal it" in said(sealed)
        bao.unseal()

        assert {project: vault_data(vault, "secret", project) for project in ("api", "worker")} == before
        assert [vault_metadata(vault, "secret", p)["current_version"] for p in ("api", "worker")] == [1, 1]
        assert pulumi_project.outputs(STACK) == outputs

        pulumi_project.up(STACK, "--skip-preview")
        assert vault_data(vault, "secret", "api")["dsn"] == new["dsn"]["public"]
        with pytest.raises(hvac.exceptions.InvalidPath):
            vault_data(vault, "secret", "worker")
        pulumi_project.preview(STACK, "--expect-no-changes")
