"""The provider context against a real OpenBao: who logs in when, which secrets it reads ahead, each read once."""

from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import hvac
import pytest

from devenv.openbao import OpenBaoServer
from sentry_dsn_sync.errors import VaultError
from sentry_dsn_sync.resources import invocation_cache
from sentry_dsn_sync.resources.context import ProviderContext
from sentry_dsn_sync.resources.invocation_cache import add_to_plan
from sentry_dsn_sync.vault import KvStore
from sentry_dsn_sync.vault import client as vault_client
from sentry_simulator import generate_seed
from sentry_simulator.testing import running_simulator
from tests.vault.vault_helpers import V2_MOUNT, MakeSettings

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
    context = ProviderContext()
    # As the engine hands the stack config to the provider: structured values as JSON text.
    context.configure({
        "sentry-dsn-sync:organization": "acme",
        "sentry-dsn-sync:projects": json.dumps(["web", "api", {"slug": "ios", "path": paths["ios"]}]),
        "sentry-dsn-sync:vault": json.dumps({"mount": V2_MOUNT, "pathTemplate": prefix + "/{stack}/{project}"}),
    })
    store = context.kv_store(mount=V2_MOUNT, kv_version=2)
    opened = store.reads  # the mount check

    context.start_read_ahead(stack=STACK, mount=V2_MOUNT, kv_version=2)
    wait_for_reads(store, opened + len(paths))
    found = {slug: context.read_secret(store, path) for slug, path in paths.items()}

    assert {slug: secret.data["dsn"] for slug, secret in found.items() if secret} == {
        slug: f"dsn-of-{slug}" for slug in paths
    }
    assert store.reads == opened + len(paths), "each secret read once, ahead of its check"


def test_a_mount_other_than_the_configured_one_is_not_read_ahead() -> None:
    context = ProviderContext()
    context.configure({
        "sentry-dsn-sync:organization": "acme",
        "sentry-dsn-sync:projects": json.dumps(["web"]),
        "sentry-dsn-sync:vault": json.dumps({"mount": "elsewhere"}),
    })
    store = context.kv_store(mount=V2_MOUNT, kv_version=2)
    opened = store.reads

    # State from an earlier config still names V2_MOUNT; today's config reads nothing ahead there.
    context.start_read_ahead(stack=STACK, mount=V2_MOUNT, kv_version=2)
    time.sleep(0.3)

    assert store.reads == opened


# -- one login per identity ----------------------------------------------------------------------


def test_one_login_for_many_parallel_checks(
    make_settings: MakeSettings, root_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    logins: list[object] = []
    real_login = vault_client.login

    def counting_login(*args: Any, **kwargs: Any) -> None:
        logins.append(object())
        real_login(*args, **kwargs)

    monkeypatch.setattr(vault_client, "login", counting_login)
    settings = make_settings()
    context = ProviderContext(env=root_env)
    clients: list[hvac.Client] = []
    threads = [threading.Thread(target=lambda: clients.append(context.vault_client(settings))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(logins) == 1
    assert len({id(client) for client in clients}) == 1


def test_separate_identities_get_separate_clients(
    root: hvac.Client, make_settings: MakeSettings, root_env: dict[str, str]
) -> None:
    namespace = f"ns-{uuid.uuid4().hex[:8]}"
    root.sys.create_namespace(namespace)
    context = ProviderContext(env=root_env)

    plain = context.vault_client(make_settings())
    again = context.vault_client(make_settings())
    namespaced = context.vault_client(make_settings(namespace=namespace))

    assert plain is again
    assert namespaced is not plain
    assert namespaced.adapter.namespace == namespace


def test_a_failed_login_is_not_kept(make_settings: MakeSettings, bao: OpenBaoServer, home: Path) -> None:
    settings = make_settings()
    with pytest.raises(VaultError):
        ProviderContext(env={"VAULT_TOKEN": "bad-token", "HOME": str(home)}).vault_client(settings)
    context = ProviderContext(env={"VAULT_TOKEN": bao.root_token, "HOME": str(home)})

    assert context.vault_client(settings).is_authenticated()


def test_two_vault_tokens_from_two_named_variables_log_in_apart(
    root: hvac.Client, bao: OpenBaoServer, home: Path
) -> None:
    # A second token that may only look itself up: a login with it is told apart from the root's.
    limited = root.auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
    context = ProviderContext(env={"ROOT_TOKEN": bao.root_token, "EU_TOKEN": limited, "HOME": str(home)})

    def vault(token_env: str) -> dict[str, Any]:
        return {"organization": "acme", "vault": {"address": bao.address, "auth": {"tokenEnv": token_env}}}

    first = context.vault_client(context.vault_settings(vault("ROOT_TOKEN")))
    second = context.vault_client(context.vault_settings(vault("EU_TOKEN")))

    assert first is not second
    assert (first.token, second.token) == (bao.root_token, limited)


def test_every_check_of_a_mount_shares_one_store_and_one_mount_check(
    root_env: dict[str, str], bao: OpenBaoServer
) -> None:
    context = ProviderContext(env={**root_env, "VAULT_ADDR": bao.address})
    context.configure({"sentry-dsn-sync:organization": "acme"})

    stores = {id(context.kv_store(mount=V2_MOUNT, kv_version=2)) for _ in range(5)}
    store = context.kv_store(mount=V2_MOUNT, kv_version=2)

    assert len(stores) == 1 and store.reads == 1


def test_the_write_checks_of_the_configured_projects_share_one_capabilities_request(
    root: hvac.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = f"rt-{uuid.uuid4().hex[:8]}"
    root.sys.create_or_update_policy(policy, (
        f'path "sys/internal/ui/mounts/{V2_MOUNT}" {{ capabilities = ["read"] }}\n'
        f'path "{V2_MOUNT}/data/{STACK}/*" {{ capabilities = ["create", "update"] }}\n'
        f'path "{V2_MOUNT}/metadata/{STACK}/*" {{ capabilities = ["patch"] }}\n'
    ))
    monkeypatch.setenv("VAULT_TOKEN", root.auth.token.create(policies=[policy], ttl="10m")["auth"]["client_token"])
    context = ProviderContext()
    context.configure({
        "sentry-dsn-sync:organization": "acme",
        "sentry-dsn-sync:projects": json.dumps(["web", "api", {"slug": "ios", "path": "elsewhere/ios"}]),
        "sentry-dsn-sync:vault": json.dumps({"mount": V2_MOUNT, "pathTemplate": "{stack}/{project}"}),
    })
    store = context.kv_store(mount=V2_MOUNT, kv_version=2)
    asked: list[int] = []
    real = store.capabilities
    monkeypatch.setattr(store, "capabilities", lambda paths: asked.append(len(list(paths))) or real(paths))

    def require(path: str) -> None:
        context.require_write_access(store, path, exists=False, stack=STACK, mount=V2_MOUNT, kv_version=2)

    require(f"{STACK}/web")
    require(f"{STACK}/api")
    with pytest.raises(VaultError, match=rf"`create` on `{V2_MOUNT}/data/elsewhere/ios`"):
        require("elsewhere/ios")

    assert asked == [3], "one request for the three configured paths"


# -- a team's projects ---------------------------------------------------------------------------


def test_a_teams_projects_are_read_ahead_and_write_checked_as_the_configured_ones_are(
    root: hvac.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The organization's project list names each project's teams: the provider plans the team's
    # projects from the read every check makes anyway, without asking the team's endpoint.
    seed = generate_seed(organization="big", projects=30, teams=3, token="team-token")
    prefix = f"rt-{uuid.uuid4().hex[:8]}"
    with running_simulator(seed) as sim:
        on_team = [p.slug for p in sim.simulator.state.projects("big") if "team-01" in (t.slug for t in p.teams)]
        paths = {slug: f"{prefix}/{STACK}/{slug}" for slug in ["project-0000", *on_team]}
        for slug, path in paths.items():
            root.secrets.kv.v2.create_or_update_secret(path, secret={"dsn": f"dsn-of-{slug}"}, mount_point=V2_MOUNT)
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", "team-token")
        context = ProviderContext()
        context.configure({
            "sentry-dsn-sync:organization": "big",
            "sentry-dsn-sync:sentryUrl": sim.url,
            "sentry-dsn-sync:team": "team-01",
            "sentry-dsn-sync:projects": json.dumps(["project-0000"]),
            "sentry-dsn-sync:vault": json.dumps({"mount": V2_MOUNT, "pathTemplate": prefix + "/{stack}/{project}"}),
        })
        store = context.kv_store(mount=V2_MOUNT, kv_version=2)
        opened = store.reads
        asked: list[int] = []
        real = store.capabilities
        monkeypatch.setattr(store, "capabilities", lambda paths: asked.append(len(list(paths))) or real(paths))

        context.start_read_ahead(stack=STACK, mount=V2_MOUNT, kv_version=2)
        wait_for_reads(store, opened + len(paths))
        read_ahead = store.reads - opened
        found = {slug: context.read_secret(store, path) for slug, path in paths.items()}
        for path in paths.values():
            context.require_write_access(store, path, exists=True, stack=STACK, mount=V2_MOUNT, kv_version=2)
        requested = sim.admin.requests()["by_path"]

    assert len(on_team) == 10
    assert {slug: secret.data["dsn"] for slug, secret in found.items() if secret} == {
        slug: f"dsn-of-{slug}" for slug in paths
    }
    assert read_ahead == len(paths)
    assert store.reads == opened + len(paths), "each secret read once, ahead of its check"
    assert asked == [len(paths)], "one capabilities request for the configured and the team's paths"
    assert not any("/teams/" in path for path in requested), "the team's endpoint is the program's to ask"


def test_the_projects_a_program_planned_for_its_own_settings_are_read_ahead_and_write_checked(
    bao: OpenBaoServer, root: hvac.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(invocation_cache, "pulumi_invocation_id", lambda: "100-8000")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    prefix = f"rt-{uuid.uuid4().hex[:8]}"
    paths = [f"{prefix}/acme-eu/project-{n}" for n in range(12)]
    for path in paths:
        root.secrets.kv.v2.create_or_update_secret(path, secret={"dsn": f"dsn-of-{path}"}, mount_point=V2_MOUNT)
    # What a resource of `parse_settings` settings hands its provider, and what its program planned.
    connection = {"vault": {"address": bao.address}, "organization": "acme-eu"}
    add_to_plan(connection, mount=V2_MOUNT, kv_version=2, paths=paths)
    context = ProviderContext()
    context.configure({})
    store = context.kv_store(mount=V2_MOUNT, kv_version=2, connection=connection)
    opened = store.reads
    asked: list[int] = []
    real = store.capabilities
    monkeypatch.setattr(store, "capabilities", lambda paths: asked.append(len(list(paths))) or real(paths))

    context.start_read_ahead(stack=STACK, mount=V2_MOUNT, kv_version=2, connection=connection)
    wait_for_reads(store, opened + len(paths))
    read_ahead = store.reads - opened
    found = [context.read_secret(store, path) for path in paths]
    for path in paths:
        context.require_write_access(
            store, path, exists=True, stack=STACK, mount=V2_MOUNT, kv_version=2, connection=connection
        )

    assert [secret.data["dsn"] if secret else None for secret in found] == [f"dsn-of-{path}" for path in paths]
    assert read_ahead == len(paths)
    assert store.reads == opened + len(paths), "each secret read once, ahead of its check"
    assert asked == [len(paths)], "one capabilities request for the planned paths"
