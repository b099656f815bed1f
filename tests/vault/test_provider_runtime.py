"""The provider runtime against a real OpenBao: which secrets it reads ahead, and that each is read once."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import hvac
import pytest

from sentry_dsn_sync.resources.runtime import ProviderRuntime
from sentry_dsn_sync.vault import KvStore
from devenv.openbao import OpenBaoServer
from tests.vault.vault_helpers import V2_MOUNT

STACK = "rt"


@pytest.fixture(autouse=True)
def provider_environment(bao: OpenBaoServer, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the engine passes a provider process: credentials in the environment."""
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", "not-used-by-these-tests")
    monkeypatch.setenv("VAULT_ADDR", bao.address)
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    monkeypatch.setenv("HOME", str(home))


def wait_for_reads(store: KvStore, count: int) -> None:
    deadline = time.monotonic() + 10
    while store.reads < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_configured_projects_secrets_are_read_ahead_once_and_their_checks_get_those_reads(
    root: hvac.Client,
) -> None:
    prefix = f"rt-{uuid.uuid4().hex[:8]}"
    paths = {"web": f"{prefix}/{STACK}/web", "api": f"{prefix}/{STACK}/api", "ios": f"{prefix}/custom/ios"}
    for slug, path in paths.items():
        root.secrets.kv.v2.create_or_update_secret(path, secret={"dsn": f"dsn-of-{slug}"}, mount_point=V2_MOUNT)
    runtime = ProviderRuntime()
    # As the engine hands the stack config to the provider: structured values as JSON text.
    runtime.configure({
        "sentry-dsn-sync:organization": "acme",
        "sentry-dsn-sync:projects": json.dumps(["web", "api", {"slug": "ios", "path": paths["ios"]}]),
        "sentry-dsn-sync:vault": json.dumps({"mount": V2_MOUNT, "pathTemplate": prefix + "/{stack}/{project}"}),
    })
    store = runtime.kv_store(mount=V2_MOUNT, kv_version=2)
    opened = store.reads  # the mount check

    runtime.start_read_ahead(stack=STACK, mount=V2_MOUNT, kv_version=2)
    wait_for_reads(store, opened + len(paths))
    found = {slug: runtime.read_secret(store, path) for slug, path in paths.items()}

    assert {slug: secret.data["dsn"] for slug, secret in found.items() if secret} == {
        slug: f"dsn-of-{slug}" for slug in paths
    }
    assert store.reads == opened + len(paths), "each secret read once, ahead of its check"


def test_a_mount_other_than_the_configured_one_is_not_read_ahead() -> None:
    runtime = ProviderRuntime()
    runtime.configure({
        "sentry-dsn-sync:organization": "acme",
        "sentry-dsn-sync:projects": json.dumps(["web"]),
        "sentry-dsn-sync:vault": json.dumps({"mount": "elsewhere"}),
    })
    store = runtime.kv_store(mount=V2_MOUNT, kv_version=2)
    opened = store.reads

    # State from an earlier config still names V2_MOUNT; today's config reads nothing ahead there.
    runtime.start_read_ahead(stack=STACK, mount=V2_MOUNT, kv_version=2)
    time.sleep(0.3)

    assert store.reads == opened
