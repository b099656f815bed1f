"""The example stacks in examples/stacks/ pass `pulumi preview` as written, with only the server addresses made local.

Each test copies a stack file into a throwaway project under the stack's own
name and points just the URLs at the Sentry simulator and OpenBao; everything
else (mount, KV version, path template, auth method, key choice) is the file's.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hvac
import jwt as pyjwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devenv.openbao import OpenBaoServer
from devenv.pulumi_cli import REPO_ROOT, PulumiProject
from sentry_simulator.testing import running_simulator
from tests.sentry_view import sentry_keys

pytestmark = pytest.mark.e2e

NAMESPACE = "sentry-dsn-sync"
EXAMPLES = REPO_ROOT / "examples" / "stacks"


def stack_config(stack: str) -> dict[str, Any]:
    """The example's config, as its YAML says, without the namespace prefix."""
    document = yaml.safe_load((EXAMPLES / f"Pulumi.{stack}.yaml").read_text())
    return {key.removeprefix(f"{NAMESPACE}:"): value for key, value in document["config"].items()}


def use_example_stack(project: PulumiProject, stack: str) -> None:
    """Init `stack` with the example file in place, as a user who copied it would."""
    shutil.copy(EXAMPLES / f"Pulumi.{stack}.yaml", project.project_dir / "stacks" / f"Pulumi.{stack}.yaml")
    project.init_stack(stack)


def set_plain(project: PulumiProject, stack: str, key: str, value: str) -> None:
    project.run("config", "set", "--stack", stack, "--plaintext", "--path", f"{NAMESPACE}:{key}", value)


def public_dsn(simulator: Any, project: str, *, label: str | None = None) -> str:
    active = [key for key in sentry_keys(simulator, project) if key["isActive"]]
    if label is not None:
        active = [key for key in active if key["label"] == label]
    newest = max(active, key=lambda key: (key["dateCreated"], int(key["id"], 16)))
    return str(newest["dsn"]["public"])


def previewed_projects(preview: str) -> set[str]:
    """The ProjectDsn resources a preview would create, by name (the end of their URN)."""
    return {
        line.strip().rstrip("]").rsplit("::", 1)[1]
        for line in preview.splitlines()
        if line.strip().startswith("[urn=") and ":ProjectDsn::" in line
    }


def test_dev_example_previews_its_projects_against_a_sentry_io_style_url(
    pulumi_project: PulumiProject, simulator: Any
) -> None:
    config = stack_config("dev")
    assert urlsplit(config["sentryUrl"]).path in ("", "/"), "dev talks to a SaaS-style URL without a prefix"
    use_example_stack(pulumi_project, "dev")
    # Only the Sentry URL moves to the simulator; VAULT_ADDR and VAULT_TOKEN come from the environment.
    set_plain(pulumi_project, "dev", "sentryUrl", simulator.url)

    preview = pulumi_project.preview("dev")

    slugs = {p if isinstance(p, str) else p["slug"] for p in config["projects"]}
    assert previewed_projects(preview.stdout) == slugs, preview.stdout
    assert f"+ {len(slugs) + 2} to create" in preview.stdout  # and the stack and the component
    assert public_dsn(simulator, "web", label="Default") in preview.stdout, "keyLabel pins web's Default key"
    assert public_dsn(simulator, "web") not in preview.stdout, "not web's newer rotation key"
    assert public_dsn(simulator, "api") in preview.stdout
    assert 'vault_path  : "apps/worker/sentry"' in preview.stdout, "the project with its own path keeps it"
    assert 'vault_path  : "dev/sentry/acme/api"' in preview.stdout, "the others follow the stack's pathTemplate"


# -- production: self-hosted Sentry under a prefix, KV v1, JWT auth ----------------------------


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def prepare_vault_for(config: dict[str, Any], vault: hvac.Client) -> rsa.RSAPrivateKey:
    """The KV v1 mount, the JWT auth mount and role the prod stack names, trusting a fresh local key.

    The OpenBao server is shared by the whole run, so existing mounts are reused
    and the key is added to (not swapped for) any keys a mount already trusts.
    """
    settings = config["vault"]
    auth = settings["auth"]
    mount, jwt_mount, role = settings["mount"], auth["mount"], auth["role"]
    if f"{mount}/" not in vault.sys.list_mounted_secrets_engines()["data"]:
        vault.sys.enable_secrets_engine("kv", path=mount, options={"version": str(settings["kvVersion"])})
    if f"{jwt_mount}/" not in vault.sys.list_auth_methods()["data"]:
        vault.sys.enable_auth_method("jwt", path=jwt_mount)
        trusted: list[str] = []
    else:
        trusted = list(vault.auth.jwt.read_config(path=jwt_mount)["data"].get("jwt_validation_pubkeys") or [])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    vault.auth.jwt.configure(jwt_validation_pubkeys=[*trusted, _public_pem(key)], path=jwt_mount)
    prefix = settings["pathTemplate"].split("{")[0]
    vault.sys.create_or_update_policy(
        role, f'path "{mount}/{prefix}*" {{ capabilities = ["create", "read", "update", "delete", "list"] }}'
    )
    vault.auth.jwt.create_role(
        role,
        role_type="jwt",
        user_claim="sub",
        bound_audiences=["sentry-dsn-sync-e2e"],
        token_policies=[role],
        allowed_redirect_uris=[],
        path=jwt_mount,
    )
    return key


def ci_id_token(key: rsa.RSAPrivateKey) -> str:
    now = int(time.time())
    claims = {"sub": "project_path:platform/deploy:ref:main", "aud": "sentry-dsn-sync-e2e", "iat": now,
              "nbf": now - 5, "exp": now + 600}
    return pyjwt.encode(claims, key, algorithm="RS256")


@pytest.fixture
def prefixed_simulator(demo_seed: dict[str, Any]) -> Iterator[Any]:
    """The simulator under the same path prefix as the prod example's self-hosted Sentry."""
    prefix = urlsplit(stack_config("prod")["sentryUrl"]).path.rstrip("/")
    assert prefix, "the prod example is a self-hosted Sentry under a path prefix"
    with running_simulator(demo_seed, prefix=prefix) as sim:
        yield sim


def test_prod_example_previews_the_team_through_a_prefixed_sentry_kv_v1_and_jwt_login(
    pulumi_project: PulumiProject, prefixed_simulator: Any, openbao: OpenBaoServer
) -> None:
    config = stack_config("prod")
    assert config["vault"]["kvVersion"] == 1 and config["vault"]["auth"]["method"] == "jwt"
    key = prepare_vault_for(config, openbao.client())
    jwt_env = config["vault"]["auth"]["jwtEnv"]
    pulumi_project.extra_env[jwt_env] = ci_id_token(key)
    # No Vault token anywhere: the stack must log in with the CI job's JWT.
    pulumi_project.extra_env["VAULT_TOKEN"] = ""
    use_example_stack(pulumi_project, "prod")
    set_plain(pulumi_project, "prod", "sentryUrl", prefixed_simulator.url)
    set_plain(pulumi_project, "prod", "vault.address", openbao.address)

    preview = pulumi_project.preview("prod")

    team_projects = {"api", "worker", "billing"}  # the demo seed's `platform` team
    assert previewed_projects(preview.stdout) == team_projects, preview.stdout
    for slug in team_projects:
        assert public_dsn(prefixed_simulator, slug) in preview.stdout
        assert f'vault_path  : "prod/{slug}"' in preview.stdout
    assert preview.stdout.count("kv_version  : 1") == len(team_projects)
    assert pulumi_project.extra_env[jwt_env] not in preview.stdout + preview.stderr
