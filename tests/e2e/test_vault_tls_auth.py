"""Vault over TLS the way the `vault` CLI reaches it: its TLS variables, their config keys, every login method.

One OpenBao server for the module, with a TLS listener whose certificate
names only `vault.test.internal`: reaching it at 127.0.0.1 needs the TLS
server name, and trusting it needs the test CA (as a file or a directory).
Every run goes through the real `pulumi` CLI; every secret is checked in
Vault through the server's root client.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devenv.openbao import OpenBaoServer, dev_server_with_tls_listener, wait_for_kv_v2
from devenv.pulumi_cli import PulumiProject
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import newest_active_key
from tests.e2e.pki import Pki, make_pki
from tests.vault.fake_kubernetes import fake_kubernetes

pytestmark = pytest.mark.e2e

SERVER_NAME = "vault.test.internal"
POLICY = "sentry-dsn-sync-tls"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), server_name=SERVER_NAME)


@pytest.fixture(scope="module")
def tls_vault(pki: Pki) -> Iterator[tuple[OpenBaoServer, str]]:
    """The server (set up through its plain listener) and its https address; KV v2 at `secret/`."""
    with dev_server_with_tls_listener(cert_file=pki.server_cert, key_file=pki.server_key) as (server, tls_address):
        root = server.client()
        root.sys.create_or_update_policy(
            POLICY, 'path "secret/*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }'
        )
        yield server, tls_address


@pytest.fixture
def mount(tls_vault: tuple[OpenBaoServer, str]) -> str:
    """A KV v2 mount of this test's own on the TLS server."""
    server, _ = tls_vault
    name = f"tls-{uuid.uuid4().hex[:8]}"
    server.client().sys.enable_secrets_engine("kv", path=name, options={"version": "2"})
    wait_for_kv_v2(server, name)
    server.client().sys.create_or_update_policy(
        f"{POLICY}-{name}", f'path "{name}/*" {{ capabilities = ["create", "read", "update", "patch", "delete"] }}'
    )
    return name


def over_tls(project: PulumiProject, tls_address: str, mount: str, **vault: Any) -> None:
    """Point the stack at the TLS listener: no VAULT_TOKEN from the fixture, the given `vault` keys."""
    project.extra_env["VAULT_ADDR"] = tls_address
    project.extra_env["VAULT_TOKEN"] = ""
    configure(project, organization="acme", projects=["web", "api"], vault={"mount": mount, **vault})


def assert_published(server: OpenBaoServer, mount: str, simulator: Any) -> None:
    for project in ("web", "api"):
        secret = server.client().secrets.kv.v2.read_secret_version(
            path=f"sentry/acme/{project}", mount_point=mount, raise_on_deleted_version=True
        )
        assert secret["data"]["data"]["dsn"] == newest_active_key(simulator, project)["dsn"]["public"]


def enable_cert_login(root: hvac.Client, pki: Pki, mount: str) -> str:
    """A cert auth role trusting the test CA's client certificates; its name."""
    auth_mount = f"cert-{mount}"
    root.sys.enable_auth_method("cert", path=auth_mount)
    role = "sentry-dsn-sync"
    root.write(
        f"auth/{auth_mount}/certs/{role}",
        certificate=pki.ca_cert.read_text(),
        token_policies=f"{POLICY}-{mount}",
        token_ttl="10m",
    )
    return auth_mount


def test_cert_login_with_tls_from_the_config_keys(
    pulumi_project: PulumiProject, simulator: Any, tls_vault: tuple[OpenBaoServer, str], pki: Pki, mount: str
) -> None:
    server, tls_address = tls_vault
    auth_mount = enable_cert_login(server.client(), pki, mount)
    over_tls(
        pulumi_project,
        tls_address,
        mount,
        caPath=str(pki.ca_dir),
        clientCert=str(pki.client_cert),
        clientKey=str(pki.client_key),
        tlsServerName=SERVER_NAME,
        auth={"method": "cert", "name": "sentry-dsn-sync", "mount": auth_mount},
    )

    pulumi_project.up(STACK, "--skip-preview")

    assert_published(server, mount, simulator)


def test_cert_login_with_tls_from_the_vault_cli_environment_variables(
    pulumi_project: PulumiProject, simulator: Any, tls_vault: tuple[OpenBaoServer, str], pki: Pki, mount: str
) -> None:
    server, tls_address = tls_vault
    auth_mount = enable_cert_login(server.client(), pki, mount)
    over_tls(pulumi_project, tls_address, mount, auth={"method": "cert", "mount": auth_mount})
    pulumi_project.extra_env.update(
        VAULT_CAPATH=str(pki.ca_dir),
        VAULT_CLIENT_CERT=str(pki.client_cert),
        VAULT_CLIENT_KEY=str(pki.client_key),
        VAULT_TLS_SERVER_NAME=SERVER_NAME,
    )

    pulumi_project.up(STACK, "--skip-preview")

    assert_published(server, mount, simulator)


def test_userpass_login_over_tls_keeps_the_password_out_of_output_and_state(
    pulumi_project: PulumiProject, simulator: Any, tls_vault: tuple[OpenBaoServer, str], pki: Pki, mount: str
) -> None:
    server, tls_address = tls_vault
    auth_mount = f"userpass-{mount}"
    password = secrets.token_urlsafe(16)
    root = server.client()
    root.sys.enable_auth_method("userpass", path=auth_mount)
    root.write(f"auth/{auth_mount}/users/deployer", password=password, token_policies=f"{POLICY}-{mount}")
    over_tls(pulumi_project, tls_address, mount, auth={"method": "userpass", "username": "deployer", "mount": auth_mount})
    pulumi_project.extra_env.update(
        VAULT_CACERT=str(pki.ca_cert), VAULT_TLS_SERVER_NAME=SERVER_NAME, VAULT_PASSWORD=password
    )

    result = pulumi_project.up(STACK)

    assert_published(server, mount, simulator)
    state = str(pulumi_project.export_state(STACK))
    assert password not in result.stdout + result.stderr + state


def test_a_certificate_for_another_name_fails_the_preview_naming_the_tls_server_name_setting(
    pulumi_project: PulumiProject, tls_vault: tuple[OpenBaoServer, str], pki: Pki, mount: str
) -> None:
    server, tls_address = tls_vault
    over_tls(pulumi_project, tls_address, mount, caCert=str(pki.ca_cert))
    pulumi_project.extra_env["VAULT_TOKEN"] = server.root_token

    result = pulumi_project.preview(STACK, check=False)

    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert f"TLS handshake with Vault at {tls_address} failed (hostname mismatch)" in said, said
    assert "vault.tlsServerName (or VAULT_TLS_SERVER_NAME)" in said


# -- the four earlier auth methods, over the same TLS listener ------------------------------------


def _jwt_login(root: hvac.Client, mount: str) -> tuple[dict[str, Any], dict[str, str]]:
    auth_mount = f"jwt-{mount}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    root.sys.enable_auth_method("jwt", path=auth_mount)
    root.auth.jwt.configure(jwt_validation_pubkeys=[public_pem], path=auth_mount)
    root.auth.jwt.create_role(
        "sentry-dsn-sync", role_type="jwt", user_claim="sub", bound_audiences=["vault.test.internal"],
        token_policies=[f"{POLICY}-{mount}"], allowed_redirect_uris=[], path=auth_mount,
    )
    now = int(time.time())
    claims = {"sub": "pipeline", "aud": "vault.test.internal", "iat": now, "nbf": now - 5, "exp": now + 600}
    auth = {"method": "jwt", "role": "sentry-dsn-sync", "jwtEnv": "VAULT_JWT", "mount": auth_mount}
    return auth, {"VAULT_JWT": pyjwt.encode(claims, key, algorithm="RS256")}


def _approle_login(root: hvac.Client, mount: str) -> tuple[dict[str, Any], dict[str, str]]:
    auth_mount = f"approle-{mount}"
    root.sys.enable_auth_method("approle", path=auth_mount)
    root.auth.approle.create_or_update_approle("sync", token_policies=[f"{POLICY}-{mount}"], mount_point=auth_mount)
    role_id = root.auth.approle.read_role_id("sync", mount_point=auth_mount)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("sync", mount_point=auth_mount)["data"]["secret_id"]
    return {"method": "approle", "roleId": role_id, "mount": auth_mount}, {"VAULT_SECRET_ID": secret_id}


def _token_login(root: hvac.Client, mount: str) -> tuple[dict[str, Any], dict[str, str]]:
    token = root.auth.token.create(policies=[f"{POLICY}-{mount}"], ttl="10m")["auth"]["client_token"]
    return {"method": "token"}, {"VAULT_TOKEN": token}


@pytest.mark.parametrize("login", [_token_login, _approle_login, _jwt_login], ids=["token", "approle", "jwt"])
def test_the_earlier_auth_methods_log_in_over_tls(
    pulumi_project: PulumiProject, simulator: Any, tls_vault: tuple[OpenBaoServer, str], pki: Pki, mount: str,
    login: Any,
) -> None:
    server, tls_address = tls_vault
    auth, env = login(server.client(), mount)
    over_tls(pulumi_project, tls_address, mount, auth=auth)
    pulumi_project.extra_env.update(VAULT_CACERT=str(pki.ca_cert), VAULT_TLS_SERVER_NAME=SERVER_NAME, **env)

    result = pulumi_project.up(STACK, "--skip-preview")

    assert_published(server, mount, simulator)
    assert [value for value in env.values() if value in result.stdout + result.stderr] == []


def test_kubernetes_login_over_tls(
    pulumi_project: PulumiProject, simulator: Any, tls_vault: tuple[OpenBaoServer, str], pki: Pki, mount: str,
    tmp_path: Path,
) -> None:
    server, tls_address = tls_vault
    # Shaped like a projected service-account token; only the fake cluster's TokenReview vouches for it.
    now = int(time.time())
    claims = {
        "iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:platform:sentry-sync", "aud": ["kubernetes"],
        "iat": now, "nbf": now - 5, "exp": now + 600,
        "kubernetes.io/serviceaccount/namespace": "platform",
        "kubernetes.io/serviceaccount/service-account.name": "sentry-sync",
        "kubernetes.io/serviceaccount/service-account.uid": "uid-platform-sentry-sync",
    }
    pod_token = pyjwt.encode(claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256")
    token_file = tmp_path / "token"
    token_file.write_text(pod_token)
    auth_mount = f"k8s-{mount}"
    with fake_kubernetes({pod_token: ("platform", "sentry-sync")}) as cluster:
        root = server.client()
        root.sys.enable_auth_method("kubernetes", path=auth_mount)
        root.write_data(
            f"auth/{auth_mount}/config",
            data={"kubernetes_host": cluster.host, "kubernetes_ca_cert": cluster.ca_pem, "disable_local_ca_jwt": True},
        )
        root.auth.kubernetes.create_role(
            "sentry-sync", bound_service_account_names=["sentry-sync"], bound_service_account_namespaces=["platform"],
            policies=[f"{POLICY}-{mount}"], mount_point=auth_mount,
        )
        auth = {"method": "kubernetes", "role": "sentry-sync", "tokenPath": str(token_file), "mount": auth_mount}
        over_tls(pulumi_project, tls_address, mount, caPath=str(pki.ca_dir), tlsServerName=SERVER_NAME, auth=auth)

        pulumi_project.up(STACK, "--skip-preview")

        assert pod_token in cluster.reviews
    assert_published(server, mount, simulator)
