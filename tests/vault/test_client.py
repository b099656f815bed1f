"""connect() against a real OpenBao: every auth method, and what each failure says."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import hvac
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import sentry_dsn_sync.vault.client as vault_client
from sentry_dsn_sync.config import AppRoleAuth, JwtAuth, KubernetesAuth, Secret, TokenAuth, UserpassAuth
from sentry_dsn_sync.errors import VaultAuthError, VaultError
from sentry_dsn_sync.resources.read_ahead import THREADS as READ_AHEAD_THREADS
from sentry_dsn_sync.vault import KvStore, client_identity, connect
from devenv.openbao import OpenBaoServer
from tests.vault.vault_helpers import V2_MOUNT, MakeSettings
from tests.vault.fake_kubernetes import FakeKubernetes, fake_kubernetes

WRITER_POLICY = f"""
path "{V2_MOUNT}/data/*" {{ capabilities = ["create", "read", "update"] }}
path "{V2_MOUNT}/metadata/*" {{ capabilities = ["read", "patch"] }}
"""
FIELDS = {"dsn": "https://abc@o1.ingest.sentry.io/1", "key_id": "k1"}


def assert_no_leak(error: BaseException, *credentials: str) -> None:
    """Neither the message nor the chained cause may carry a credential."""
    texts = [str(error), repr(error), str(error.__cause__), repr(error.__cause__)]
    for credential in credentials:
        assert credential, "a test credential must not be empty"
        for text in texts:
            assert credential not in text


def can_publish(client: hvac.Client, path: str) -> bool:
    return KvStore(client, mount=V2_MOUNT, kv_version=2).publish(path, FIELDS).written


@pytest.fixture(scope="module")
def writer_policy(bao: OpenBaoServer) -> str:
    bao.client().sys.create_or_update_policy("sentry-writer", WRITER_POLICY)
    return "sentry-writer"


# -- token -------------------------------------------------------------------------------------


def test_token_from_config_is_used_before_environment_and_file(
    bao: OpenBaoServer, make_settings: MakeSettings, home: Path, path: str
) -> None:
    (home / ".vault-token").write_text("not-a-token\n")
    settings = make_settings(auth=TokenAuth(token=Secret(bao.root_token)))

    client = connect(settings, env={"VAULT_TOKEN": "also-not-a-token", "HOME": str(home)})

    assert can_publish(client, path)


def test_token_from_vault_token_env_is_used_before_the_token_file(
    bao: OpenBaoServer, make_settings: MakeSettings, home: Path, path: str
) -> None:
    (home / ".vault-token").write_text("not-a-token\n")

    client = connect(make_settings(), env={"VAULT_TOKEN": bao.root_token, "HOME": str(home)})

    assert can_publish(client, path)


def test_token_file_in_home_is_used_when_nothing_else_is_set(
    bao: OpenBaoServer, make_settings: MakeSettings, home: Path, path: str
) -> None:
    (home / ".vault-token").write_text(bao.root_token + "\n")

    client = connect(make_settings(), env={"HOME": str(home)})

    assert can_publish(client, path)


def test_no_token_anywhere_says_how_to_provide_one(make_settings: MakeSettings, home: Path) -> None:
    with pytest.raises(VaultAuthError, match=r"no Vault token: set VAULT_TOKEN, run `vault login`"):
        connect(make_settings(), env={"HOME": str(home)})


def test_revoked_token_fails_at_connect_naming_its_source_not_its_value(
    root: hvac.Client, make_settings: MakeSettings, home: Path
) -> None:
    token = root.auth.token.create(policies=["default"], ttl="1h")["auth"]["client_token"]
    root.auth.token.revoke(token)

    with pytest.raises(VaultAuthError, match="rejected the credential from environment variable VAULT_TOKEN") as caught:
        connect(make_settings(), env={"VAULT_TOKEN": token, "HOME": str(home)})

    assert_no_leak(caught.value, token)


def test_expired_token_in_the_token_file_names_the_file(
    root: hvac.Client, make_settings: MakeSettings, home: Path
) -> None:
    token = root.auth.token.create(policies=["default"], ttl="1s", explicit_max_ttl="1s")["auth"]["client_token"]
    (home / ".vault-token").write_text(token)
    time.sleep(1.5)

    with pytest.raises(VaultAuthError, match=r"rejected the credential from token file .*\.vault-token") as caught:
        connect(make_settings(), env={"HOME": str(home)})

    assert_no_leak(caught.value, token)


# -- AppRole -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def approle(bao: OpenBaoServer, writer_policy: str) -> Iterator[tuple[str, str]]:
    """An AppRole on a custom mount path, as platform teams usually set it up per pipeline."""
    root = bao.client()
    root.sys.enable_auth_method("approle", path="ci-approle")
    root.auth.approle.create_or_update_approle("sentry-sync", token_policies=[writer_policy], mount_point="ci-approle")
    role_id = root.auth.approle.read_role_id("sentry-sync", mount_point="ci-approle")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("sentry-sync", mount_point="ci-approle")["data"]["secret_id"]
    yield role_id, secret_id


def test_approle_login_with_secret_id_from_the_named_env_var(
    make_settings: MakeSettings, approle: tuple[str, str], path: str
) -> None:
    role_id, secret_id = approle
    settings = make_settings(auth=AppRoleAuth(role_id=role_id, secret_id_env="SYNC_SECRET_ID", mount="ci-approle"))

    client = connect(settings, env={"SYNC_SECRET_ID": secret_id})

    assert can_publish(client, path)


def test_approle_login_with_secret_id_from_config(
    make_settings: MakeSettings, approle: tuple[str, str], path: str
) -> None:
    role_id, secret_id = approle
    settings = make_settings(auth=AppRoleAuth(role_id=role_id, secret_id=Secret(secret_id), mount="ci-approle"))

    assert can_publish(connect(settings, env={}), path)


def test_approle_with_a_wrong_secret_id_is_an_auth_error_without_the_secret(
    make_settings: MakeSettings, approle: tuple[str, str]
) -> None:
    role_id, _ = approle
    wrong = str(uuid.uuid4())
    settings = make_settings(auth=AppRoleAuth(role_id=role_id, secret_id=Secret(wrong), mount="ci-approle"))

    with pytest.raises(VaultAuthError, match=r"secret_id from config 'vault.auth.secretId'") as caught:
        connect(settings, env={})

    assert_no_leak(caught.value, wrong)


def test_approle_without_a_secret_id_says_where_to_put_one(make_settings: MakeSettings) -> None:
    settings = make_settings(auth=AppRoleAuth(role_id="r", secret_id_env="SYNC_SECRET_ID"))

    with pytest.raises(VaultAuthError, match="vault.auth.secretId .* or the environment variable SYNC_SECRET_ID"):
        connect(settings, env={})


def test_login_on_an_auth_mount_that_does_not_exist_names_the_mount(
    make_settings: MakeSettings, approle: tuple[str, str]
) -> None:
    role_id, secret_id = approle
    settings = make_settings(auth=AppRoleAuth(role_id=role_id, secret_id=Secret(secret_id), mount="approle"))

    with pytest.raises(VaultAuthError, match=r"no auth method is enabled at `auth/approle/` \(`vault auth enable -path=approle") as caught:
        connect(settings, env={})

    assert_no_leak(caught.value, secret_id)


# -- JWT ---------------------------------------------------------------------------------------


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwt_signer(bao: OpenBaoServer, writer_policy: str) -> rsa.RSAPrivateKey:
    """JWT auth on a custom mount trusting one local key, like a CI provider's OIDC tokens."""
    key = _rsa_key()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    root = bao.client()
    root.sys.enable_auth_method("jwt", path="ci-jwt")
    root.auth.jwt.configure(jwt_validation_pubkeys=[public_pem], path="ci-jwt")
    root.auth.jwt.create_role(
        "deploy",
        role_type="jwt",
        user_claim="sub",
        bound_audiences=["vault.example"],
        token_policies=[writer_policy],
        allowed_redirect_uris=[],
        path="ci-jwt",
    )
    return key


def _sign(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "pipeline-1", "aud": "vault.example", "iat": now, "nbf": now - 5, "exp": now + 300, **claims}
    return pyjwt.encode(body, key, algorithm="RS256")


def test_jwt_login_with_the_token_from_the_env_var_named_by_jwt_env(
    make_settings: MakeSettings, jwt_signer: rsa.RSAPrivateKey, path: str
) -> None:
    settings = make_settings(auth=JwtAuth(role="deploy", jwt_env="CI_JOB_JWT", mount="ci-jwt"))

    client = connect(settings, env={"CI_JOB_JWT": _sign(jwt_signer)})

    assert can_publish(client, path)


def test_jwt_signed_by_an_untrusted_key_is_an_auth_error_without_the_jwt(
    make_settings: MakeSettings, jwt_signer: rsa.RSAPrivateKey
) -> None:
    forged = _sign(_rsa_key())
    settings = make_settings(auth=JwtAuth(role="deploy", jwt=Secret(forged), mount="ci-jwt"))

    with pytest.raises(VaultAuthError, match=r"JWT role 'deploy' with the token from config 'vault.auth.jwt'") as caught:
        connect(settings, env={})

    assert_no_leak(caught.value, forged)


def test_jwt_for_another_audience_is_refused(make_settings: MakeSettings, jwt_signer: rsa.RSAPrivateKey) -> None:
    token = _sign(jwt_signer, aud="someone-else")
    settings = make_settings(auth=JwtAuth(role="deploy", jwt_env="CI_JOB_JWT", mount="ci-jwt"))

    with pytest.raises(VaultAuthError, match="environment variable CI_JOB_JWT") as caught:
        connect(settings, env={"CI_JOB_JWT": token})

    assert_no_leak(caught.value, token)


def test_jwt_env_var_that_is_unset_names_the_variable(make_settings: MakeSettings) -> None:
    settings = make_settings(auth=JwtAuth(role="deploy", jwt_env="CI_JOB_JWT", mount="ci-jwt"))

    with pytest.raises(VaultAuthError, match="set vault.auth.jwt or the environment variable CI_JOB_JWT"):
        connect(settings, env={})


# -- Kubernetes --------------------------------------------------------------------------------


def _service_account_jwt(namespace: str, name: str) -> str:
    """Shaped like a projected service-account token; only the fake cluster's TokenReview vouches for it."""
    return _sign(
        _rsa_key(),
        iss="kubernetes/serviceaccount",
        sub=f"system:serviceaccount:{namespace}:{name}",
        aud=["kubernetes"],
        **{
            "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/service-account.name": name,
            "kubernetes.io/serviceaccount/service-account.uid": f"uid-{namespace}-{name}",
        },
    )


@pytest.fixture(scope="module")
def pod_token() -> str:
    # Made when the module's tests start, not at import: the token expires five minutes after
    # it is signed, and a full run can take longer than that to reach these tests.
    return _service_account_jwt("platform", "sentry-sync")


@pytest.fixture(scope="module")
def kubernetes(bao: OpenBaoServer, writer_policy: str, pod_token: str) -> Iterator[FakeKubernetes]:
    """Kubernetes auth on a custom mount, backed by a local fake of the cluster's TokenReview API."""
    with fake_kubernetes({pod_token: ("platform", "sentry-sync")}) as cluster:
        root = bao.client()
        root.sys.enable_auth_method("kubernetes", path="k8s-prod")
        root.write_data(
            "auth/k8s-prod/config",
            data={"kubernetes_host": cluster.host, "kubernetes_ca_cert": cluster.ca_pem, "disable_local_ca_jwt": True},
        )
        root.auth.kubernetes.create_role(
            "sentry-sync",
            bound_service_account_names=["sentry-sync"],
            bound_service_account_namespaces=["platform"],
            policies=[writer_policy],
            mount_point="k8s-prod",
        )
        yield cluster


def test_kubernetes_login_reads_the_pod_token_file_and_logs_in_on_the_custom_mount(
    make_settings: MakeSettings, kubernetes: FakeKubernetes, tmp_path: Path, path: str, pod_token: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(pod_token + "\n")
    settings = make_settings(auth=KubernetesAuth(role="sentry-sync", token_path=str(token_file), mount="k8s-prod"))
    kubernetes.reviews.clear()

    client = connect(settings, env={})

    assert can_publish(client, path)
    assert kubernetes.reviews == [pod_token]


def test_kubernetes_token_the_cluster_does_not_vouch_for_is_an_auth_error_without_the_token(
    make_settings: MakeSettings, kubernetes: FakeKubernetes, tmp_path: Path
) -> None:
    stranger = _service_account_jwt("platform", "intruder")
    token_file = tmp_path / "token"
    token_file.write_text(stranger)
    settings = make_settings(auth=KubernetesAuth(role="sentry-sync", token_path=str(token_file), mount="k8s-prod"))

    with pytest.raises(VaultAuthError, match=r"Kubernetes role 'sentry-sync' with the service-account token") as caught:
        connect(settings, env={})

    assert_no_leak(caught.value, stranger)


def test_kubernetes_without_a_token_file_says_to_run_in_a_pod(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings(auth=KubernetesAuth(role="sentry-sync", token_path=str(tmp_path / "missing")))

    with pytest.raises(VaultAuthError, match=r"cannot read the service-account token .*missing.*run inside a pod"):
        connect(settings, env={})


def test_client_identity_tells_apart_users_and_where_credentials_are_read(make_settings: MakeSettings) -> None:
    identities = {
        client_identity(make_settings(auth=auth))
        for auth in (
            UserpassAuth(username="ci-us"),
            UserpassAuth(username="ci-eu"),
            TokenAuth(),
            TokenAuth(token_env="VAULT_TOKEN_EU"),
        )
    }

    assert len(identities) == 4


def test_client_identity_names_who_logs_in_but_holds_no_credential(make_settings: MakeSettings) -> None:
    settings = make_settings(auth=AppRoleAuth(role_id="role-1", secret_id=Secret("s3cr3t-value"), mount="ci"))

    identity = client_identity(settings)

    assert "approle" in identity and "role-1" in identity and "ci" in identity
    assert "s3cr3t-value" not in repr(identity)


def test_a_vault_retry_after_is_capped_so_a_run_never_waits_hours(make_settings: MakeSettings) -> None:
    session = vault_client._session(make_settings(), verify=True)
    retry = session.get_adapter("https://vault.example.com/").max_retries
    assert retry.parse_retry_after("21600") == vault_client.RETRY_AFTER_MAX == 30
    assert retry.parse_retry_after("2") == 2


def test_reads_ahead_and_the_provider_hosts_calls_at_once_keep_their_connections_open(
    bao: OpenBaoServer, make_settings: MakeSettings, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Eight reads ahead and the four calls Pulumi's dynamic provider host takes at a time share one client.
    client = connect(make_settings(), env={"VAULT_TOKEN": bao.root_token})
    store = KvStore(client, mount=V2_MOUNT, kv_version=2)
    store.publish(path, FIELDS)
    at_once = READ_AHEAD_THREADS + 4

    def read_repeatedly() -> None:
        for _ in range(25):
            assert store.peek(path) is not None

    with caplog.at_level(logging.WARNING, logger="urllib3"), ThreadPoolExecutor(at_once) as pool:
        for future in [pool.submit(read_repeatedly) for _ in range(at_once)]:
            future.result()

    connections = client.session.get_adapter(bao.address).poolmanager.connection_from_url(bao.address)
    assert connections.num_connections <= at_once, "no connection closed for want of room and opened again"
    assert "Connection pool is full" not in caplog.text
