"""Every way Vault can fail the tool, against real servers: each error names what to fix and leaks nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest
import requests
import urllib3.exceptions

from sentry_dsn_sync.config import Secret, TokenAuth
from sentry_dsn_sync.errors import (
    VaultMountError,
    VaultPermissionError,
    VaultSealedError,
    VaultTLSError,
    VaultUnavailableError,
)
from sentry_dsn_sync.vault import KvStore, PublishResult, connect
from sentry_dsn_sync.vault._plain_http import NotPlain, plain_get
from devenv.openbao import OpenBaoServer, dev_server, free_port, sealable_server, wait_for_kv_v2
from tests.vault.vault_helpers import V2_MOUNT, MakeSettings
from tests.vault.fake_kubernetes import make_ca

FIELDS = {"dsn": "https://abc@o1.ingest.sentry.io/1", "key_id": "k1"}
METADATA = {"managed-by": "sentry-dsn-sync", "stack": "dev"}


def token_with_policy(root: hvac.Client, rules: str) -> str:
    name = f"p-{uuid.uuid4().hex[:8]}"
    root.sys.create_or_update_policy(name, rules)
    return str(root.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"])


def v2_store_with_policy(root: hvac.Client, make_settings: MakeSettings, home: Path, rules: str) -> KvStore:
    """A KV v2 store of V2_MOUNT, logged in with a token of just these policy rules."""
    token = token_with_policy(root, rules)
    client = connect(make_settings(auth=TokenAuth(token=Secret(token))), env={"HOME": str(home)})
    return KvStore(client, mount=V2_MOUNT, kv_version=2)


# -- namespaces --------------------------------------------------------------------------------


def test_publish_inside_a_namespace_stays_in_that_namespace(
    root: hvac.Client, bao: OpenBaoServer, make_settings: MakeSettings, root_env: dict[str, str], path: str
) -> None:
    namespace = f"team-{uuid.uuid4().hex[:8]}"
    root.sys.create_namespace(namespace)
    bao.client(namespace=namespace).sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    wait_for_kv_v2(bao, "secret", namespace=namespace)
    client = connect(make_settings(namespace=namespace, mount="secret"), env=root_env)

    KvStore(client, mount="secret", kv_version=2).publish(path, FIELDS, custom_metadata=METADATA)

    inside = bao.client(namespace=namespace).secrets.kv.v2.read_secret_version(
        path, mount_point="secret", raise_on_deleted_version=True
    )
    assert inside["data"]["data"] == FIELDS
    assert KvStore(root, mount="secret", kv_version=2).read(path) is None


def test_unknown_namespace_fails_at_connect_naming_the_namespace(
    make_settings: MakeSettings, root_env: dict[str, str]
) -> None:
    with pytest.raises(VaultMountError, match=r"Vault namespace 'no-such-team' does not exist.*vault.namespace"):
        connect(make_settings(namespace="no-such-team"), env=root_env)


# -- policies ----------------------------------------------------------------------------------


def test_read_only_token_gets_permission_error_naming_path_and_create(
    root: hvac.Client, make_settings: MakeSettings, home: Path, path: str
) -> None:
    token = token_with_policy(root, f'path "{V2_MOUNT}/*" {{ capabilities = ["read"] }}')
    client = connect(make_settings(auth=TokenAuth(token=Secret(token))), env={"HOME": str(home)})

    with pytest.raises(VaultPermissionError, match=rf"`create` capability on `{V2_MOUNT}/data/{path}`") as caught:
        KvStore(client, mount=V2_MOUNT, kv_version=2).publish(path, FIELDS)

    assert caught.value.path == f"{V2_MOUNT}/data/{path}"
    assert token not in str(caught.value)


def test_existing_secret_without_update_names_update(
    root: hvac.Client, make_settings: MakeSettings, home: Path, path: str
) -> None:
    root.secrets.kv.v2.create_or_update_secret(path, secret={"dsn": "old"}, mount_point=V2_MOUNT)
    token = token_with_policy(root, f'path "{V2_MOUNT}/data/*" {{ capabilities = ["read", "create"] }}')
    client = connect(make_settings(auth=TokenAuth(token=Secret(token))), env={"HOME": str(home)})

    with pytest.raises(VaultPermissionError, match=rf"`update` capability on `{V2_MOUNT}/data/{path}`"):
        KvStore(client, mount=V2_MOUNT, kv_version=2).publish(path, FIELDS)


def test_missing_patch_on_metadata_is_named_and_the_data_write_already_landed(
    root: hvac.Client, make_settings: MakeSettings, home: Path, path: str
) -> None:
    store = v2_store_with_policy(
        root, make_settings, home,
        f'path "{V2_MOUNT}/data/*" {{ capabilities = ["read", "create", "update"] }}\n'
        f'path "{V2_MOUNT}/metadata/*" {{ capabilities = ["read"] }}',
    )

    with pytest.raises(VaultPermissionError, match=rf"`patch` capability on `{V2_MOUNT}/metadata/{path}`"):
        store.publish(path, FIELDS, custom_metadata=METADATA)

    # A retry with the policy fixed only has the metadata left to do.
    assert KvStore(root, mount=V2_MOUNT, kv_version=2).publish(path, FIELDS, custom_metadata=METADATA) == (
        PublishResult(written=True, version=1)
    )


def test_capabilities_of_many_paths_take_one_request_and_decide_each_path(
    root: hvac.Client, make_settings: MakeSettings, home: Path
) -> None:
    store = v2_store_with_policy(
        root, make_settings, home,
        f'path "{V2_MOUNT}/data/sentry/acme/*" {{ capabilities = ["create", "update"] }}\n'
        f'path "{V2_MOUNT}/metadata/sentry/acme/*" {{ capabilities = ["patch"] }}\n'
        f'path "{V2_MOUNT}/data/sentry/other/*" {{ capabilities = ["create"] }}',
    )
    client = store._client
    asked: list[list[str]] = []
    real_get_capabilities = client.sys.get_capabilities

    def counted(paths: list[str]) -> object:
        asked.append(list(paths))
        return real_get_capabilities(paths=paths)

    client.sys.get_capabilities = counted  # type: ignore[method-assign]

    granted = store.capabilities(["sentry/acme/web", "sentry/acme/api", "sentry/other/web"])
    store.require_write_access("sentry/acme/web", exists=False, granted=granted)
    store.require_write_access("sentry/acme/api", exists=True, granted=granted)
    with pytest.raises(VaultPermissionError, match=rf"`patch` on `{V2_MOUNT}/metadata/sentry/other/web`") as caught:
        store.require_write_access("sentry/other/web", exists=False, granted=granted)

    assert len(asked) == 1 and len(asked[0]) == 6
    assert "`create`" not in str(caught.value)
    # A path the answer does not cover is asked alone.
    store.require_write_access("sentry/acme/new", exists=False, granted=granted)
    assert asked[1:] == [[f"{V2_MOUNT}/data/sentry/acme/new", f"{V2_MOUNT}/metadata/sentry/acme/new"]]


def test_create_only_token_publishes_a_fresh_path_expected_new_without_reading(
    root: hvac.Client, make_settings: MakeSettings, home: Path, path: str
) -> None:
    store = v2_store_with_policy(
        root, make_settings, home,
        f'path "{V2_MOUNT}/data/*" {{ capabilities = ["create"] }}\n'
        f'path "{V2_MOUNT}/metadata/*" {{ capabilities = ["patch"] }}',
    )

    result = store.publish(path, FIELDS, custom_metadata=METADATA, expect_new=True)

    assert result == PublishResult(written=True, version=1)
    # The same token cannot take the read-and-merge path a secret already there needs.
    with pytest.raises(VaultPermissionError, match=rf"`read` capability on `{V2_MOUNT}/data/{path}`"):
        store.publish(path, FIELDS, expect_new=True)


def test_token_without_read_names_read_on_the_data_path(
    root: hvac.Client, make_settings: MakeSettings, home: Path, path: str
) -> None:
    token = token_with_policy(root, f'path "{V2_MOUNT}/data/*" {{ capabilities = ["create"] }}')
    client = connect(make_settings(auth=TokenAuth(token=Secret(token))), env={"HOME": str(home)})

    with pytest.raises(VaultPermissionError, match=rf"`read` capability on `{V2_MOUNT}/data/{path}`"):
        KvStore(client, mount=V2_MOUNT, kv_version=2).read(path)


def test_token_without_any_policy_on_the_mount_is_told_mount_or_policy(
    root: hvac.Client, make_settings: MakeSettings, home: Path, path: str
) -> None:
    token = token_with_policy(root, 'path "elsewhere/*" { capabilities = ["read"] }')
    client = connect(make_settings(auth=TokenAuth(token=Secret(token))), env={"HOME": str(home)})

    with pytest.raises(VaultMountError, match=r"no secrets engine is mounted at `apps/`.*or the token has no policy"):
        KvStore(client, mount=V2_MOUNT, kv_version=2).read(path)


# -- network and TLS ---------------------------------------------------------------------------


def test_unreachable_address_is_named(make_settings: MakeSettings, root_env: dict[str, str]) -> None:
    address = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(VaultUnavailableError, match=rf"cannot reach Vault at {address} .*VAULT_ADDR") as caught:
        connect(make_settings(address=address), env=root_env)

    assert root_env["VAULT_TOKEN"] not in str(caught.value)


def test_https_to_a_plain_http_server_is_a_tls_error_naming_the_ca_setting(
    bao: OpenBaoServer, make_settings: MakeSettings, root_env: dict[str, str]
) -> None:
    address = bao.address.replace("http://", "https://")

    with pytest.raises(VaultTLSError, match=r"TLS handshake with Vault at https://.*vault.caCert \(or VAULT_CACERT\)"):
        connect(make_settings(address=address), env=root_env)


@pytest.fixture(scope="module")
def tls_bao() -> Iterator[OpenBaoServer]:
    with dev_server(tls=True) as server:
        yield server


def test_tls_server_with_the_right_ca_cert_works(tls_bao: OpenBaoServer, make_settings: MakeSettings, home: Path) -> None:
    settings = make_settings(address=tls_bao.address, mount="secret", ca_cert=tls_bao.ca_cert)

    client = connect(settings, env={"VAULT_TOKEN": tls_bao.root_token, "HOME": str(home)})
    store = KvStore(client, mount="secret", kv_version=2)

    assert store.publish("sentry/acme/web", FIELDS).written
    assert store.peek("sentry/acme/web") == store.read("sentry/acme/web")


def test_the_cheap_read_verifies_tls_with_the_sessions_own_settings(
    tls_bao: OpenBaoServer, make_settings: MakeSettings, home: Path, tmp_path: Path
) -> None:
    settings = make_settings(address=tls_bao.address, mount="secret", ca_cert=tls_bao.ca_cert)
    client = connect(settings, env={"VAULT_TOKEN": tls_bao.root_token, "HOME": str(home)})
    KvStore(client, mount="secret", kv_version=2).publish("sentry/acme/tls", FIELDS)
    wrong_ca = tmp_path / "other-ca.pem"
    wrong_ca.write_text(make_ca("some other CA")[0].cert_pem)
    distrusting = hvac.Client(url=tls_bao.address, token=client.token, session=requests.Session())
    distrusting.adapter.session.verify = str(wrong_ca)

    with pytest.raises(urllib3.exceptions.SSLError):
        plain_get(distrusting, "secret/data/sentry/acme/tls")


def test_tls_server_with_a_ca_cert_that_did_not_sign_it_is_a_tls_error(
    tls_bao: OpenBaoServer, make_settings: MakeSettings, home: Path, tmp_path: Path
) -> None:
    wrong_ca = tmp_path / "other-ca.pem"
    wrong_ca.write_text(make_ca("some other CA")[0].cert_pem)
    settings = make_settings(address=tls_bao.address, mount="secret", ca_cert=str(wrong_ca))

    with pytest.raises(VaultTLSError, match=r"certificate verify failed.*vault.caCert") as caught:
        connect(settings, env={"VAULT_TOKEN": tls_bao.root_token, "HOME": str(home)})

    assert tls_bao.root_token not in str(caught.value)


def test_without_a_ca_cert_the_environments_ca_bundle_is_trusted_as_requests_would(
    tls_bao: OpenBaoServer, make_settings: MakeSettings, home: Path
) -> None:
    settings = make_settings(address=tls_bao.address, mount="secret")
    env = {"VAULT_TOKEN": tls_bao.root_token, "HOME": str(home)}

    with pytest.raises(VaultTLSError):
        connect(settings, env={**env, "REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""})
    client = connect(settings, env={**env, "REQUESTS_CA_BUNDLE": tls_bao.ca_cert})

    assert KvStore(client, mount="secret", kv_version=2).publish("sentry/acme/bundle", FIELDS).written


def test_proxies_from_the_environment_apply_to_vault_unless_no_proxy_names_it(
    bao: OpenBaoServer, make_settings: MakeSettings, root_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy nobody listens on: a request that goes through it cannot reach Vault.
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(VaultUnavailableError):
        connect(make_settings(), env=root_env)

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert connect(make_settings(), env=root_env).is_authenticated()


def test_the_cheap_read_leaves_a_proxied_vault_to_the_hvac_client(bao: OpenBaoServer) -> None:
    client = bao.client()
    client.adapter.session.proxies = {"http": "http://127.0.0.1:9"}

    with pytest.raises(NotPlain):
        plain_get(client, "sys/health")


# -- sealed ------------------------------------------------------------------------------------


def test_sealed_vault_is_named_with_how_to_unseal_and_publish_converges_after_unseal(
    make_settings: MakeSettings, home: Path
) -> None:
    with sealable_server() as server:
        settings = make_settings(address=server.address, mount="secret")
        env = {"VAULT_TOKEN": server.root_token, "HOME": str(home)}
        store = KvStore(connect(settings, env=env), mount="secret", kv_version=2)
        store.publish("sentry/acme/web", FIELDS)
        server.seal()

        with pytest.raises(VaultSealedError, match=r"is sealed; unseal it \(`vault operator unseal`\) and re-run"):
            store.publish("sentry/acme/web", {**FIELDS, "key_id": "k2"})
        with pytest.raises(VaultSealedError, match=rf"Vault at {server.address} is sealed") as caught:
            connect(settings, env=env)
        assert server.root_token not in str(caught.value)

        server.unseal()
        result = KvStore(connect(settings, env=env), mount="secret", kv_version=2).publish(
            "sentry/acme/web", {**FIELDS, "key_id": "k2"}
        )

        assert result == PublishResult(written=True, version=2)


def test_vault_restarted_overnight_comes_back_sealed_and_keeps_the_secret(
    make_settings: MakeSettings, home: Path
) -> None:
    with sealable_server() as server:
        settings = make_settings(address=server.address, mount="secret")
        env = {"VAULT_TOKEN": server.root_token, "HOME": str(home)}
        KvStore(connect(settings, env=env), mount="secret", kv_version=2).publish("sentry/acme/web", FIELDS)

        server.restart()
        with pytest.raises(VaultSealedError):
            connect(settings, env=env)
        server.unseal()

        stored = KvStore(connect(settings, env=env), mount="secret", kv_version=2).read("sentry/acme/web")
        assert stored is not None and dict(stored.data) == FIELDS
